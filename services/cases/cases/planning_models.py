"""The cases service's planning tables: slots, bookings, calendar feeds."""

from __future__ import annotations

from cases.models import Base  # noqa: F401  (the tables below join the same metadata)
