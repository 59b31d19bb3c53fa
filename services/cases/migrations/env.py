"""Alembic environment of the cases service (its tables and its outbox)."""

from cases.models import Base
from shared.migrations import run_env

run_env(Base.metadata)
