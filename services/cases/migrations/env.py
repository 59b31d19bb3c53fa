"""Alembic environment of the cases service (its tables and its outbox)."""

import cases.planning_models  # noqa: F401  (its tables join Base.metadata)
from cases.models import Base
from shared.migrations import run_env

run_env(Base.metadata)
