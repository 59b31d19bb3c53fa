"""Alembic environment of the notifications service (its tables and its outbox)."""

from notifications.models import Base
from shared.migrations import run_env

run_env(Base.metadata)
