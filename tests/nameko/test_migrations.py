"""Each service's migrations build exactly the tables its models (and the outbox) declare."""

from __future__ import annotations

import importlib

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from shared.config import SERVICES
from shared.outbox import messaging_metadata


@pytest.mark.parametrize("service", SERVICES)
def test_migrations_match_the_models(service: str, migrated_database) -> None:
    url = migrated_database(service)
    models = importlib.import_module(f"{service}.models")
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn)
            assert context.get_current_revision() is not None
            differences = compare_metadata(context, [models.Base.metadata, messaging_metadata])
    finally:
        engine.dispose()
    assert differences == []
