"""Alembic environment of the files service (its tables and its outbox)."""

from files.models import Base
from shared.migrations import run_env

run_env(Base.metadata)
