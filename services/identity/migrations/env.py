"""Alembic environment of the identity service (its tables and its outbox)."""

from identity.models import Base
from shared.migrations import run_env

run_env(Base.metadata)
