"""Alembic environment of the referrals service (its tables and its outbox)."""

from referrals.models import Base
from shared.migrations import run_env

run_env(Base.metadata)
