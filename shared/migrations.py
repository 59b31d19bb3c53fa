"""Alembic glue shared by the services' migration folders.

Each service keeps its own ``migrations/`` (its tables only, its own
database). ``python -m shared.migrations`` upgrades every service to head;
``python -m shared.migrations referrals`` one of them. The database URL is
the service's ``DB_URL`` from its config.yaml (so the environment variable
that points the service at a database points its migrations there too).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import command, context, op
from alembic.config import Config
from sqlalchemy import MetaData, engine_from_config, pool
from sqlalchemy.dialects import postgresql

from shared.config import SERVICES, load_service_config, service_dir
from shared.outbox import messaging_metadata


def alembic_config(service: str, url: str | None = None) -> Config:
    """The Alembic configuration of ``service``, pointed at ``url`` or its configured database."""
    config = Config(str(service_dir(service) / "alembic.ini"))
    config.set_main_option("script_location", str(service_dir(service) / "migrations"))
    config.set_main_option(
        "sqlalchemy.url", (url or load_service_config(service)["DB_URL"]).replace("%", "%%")
    )
    return config


def run_env(service_metadata: MetaData) -> None:
    """The body of a service's migrations/env.py."""
    config = context.config
    target = [service_metadata, messaging_metadata]
    if context.is_offline_mode():
        context.configure(
            url=config.get_main_option("sqlalchemy.url"),
            target_metadata=target,
            literal_binds=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = engine_from_config(
        config.get_section(config.config_ini_section) or {},
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target)
        with context.begin_transaction():
            context.run_migrations()


def create_messaging_tables_v1() -> None:
    """The outbox and processed-events tables, as first released (used by 0001 migrations)."""
    op.create_table(
        "outbox_messages",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("event_id", sa.Uuid(), nullable=False, unique=True),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("payload", postgresql.JSONB(), nullable=False),
        sa.Column("headers", postgresql.JSONB(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("published_at", sa.DateTime(timezone=True)),
        sa.Column("routed", sa.Boolean()),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text()),
    )
    op.create_index(
        "ix_outbox_messages_unpublished",
        "outbox_messages",
        ["id"],
        postgresql_where=sa.text("published_at IS NULL"),
    )
    op.create_table(
        "processed_events",
        sa.Column("consumer", sa.String(200), primary_key=True),
        sa.Column("event_id", sa.Uuid(), primary_key=True),
        sa.Column(
            "handled_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )


def drop_messaging_tables_v1() -> None:
    op.drop_table("processed_events")
    op.drop_index("ix_outbox_messages_unpublished", table_name="outbox_messages")
    op.drop_table("outbox_messages")


def upgrade(
    services: Sequence[str] = SERVICES, revision: str = "head", *, url: str | None = None
) -> None:
    """Upgrade each service's database to ``revision``."""
    for service in services:
        command.upgrade(alembic_config(service, url), revision)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the services' Alembic migrations.")
    parser.add_argument("services", nargs="*", metavar="SERVICE", help=", ".join(SERVICES))
    parser.add_argument("--revision", default="head")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.services) - set(SERVICES))
    if unknown:
        parser.error(f"unknown service(s): {', '.join(unknown)}")
    upgrade(args.services or SERVICES, args.revision)
    return 0


if __name__ == "__main__":
    sys.exit(main())
