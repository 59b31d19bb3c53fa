"""Alembic environment of the notifications service (its tables and its outbox)."""

import notifications.patient_models  # noqa: F401  (its tables join Base.metadata)
from notifications.models import Base
from shared.migrations import run_env

run_env(Base.metadata)
