"""The notifications service's Patient Talk tables: threads, messages, links, accesses."""

from __future__ import annotations

from notifications.models import Base  # noqa: F401  (the tables below join the same metadata)
