"""Offices, providers, users, links, sessions, revocations, terms, invitations, colleagues,
API clients, idempotency keys and the audit log.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _timestamp(name: str, *, nullable: bool = True, server_now: bool = False) -> sa.Column:
    default = sa.text("now()") if server_now else None
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable, server_default=default)


def _uuid(name: str, *, nullable: bool = True, references: str | None = None) -> sa.Column:
    args = [sa.ForeignKey(references)] if references else []
    return sa.Column(name, sa.Uuid(), *args, nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "offices",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("name", sa.String(200)),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("specialty", sa.String(100)),
        sa.Column("email", sa.String(254), nullable=False, unique=True),
        sa.Column("phone", sa.String(20), nullable=False, unique=True),
        sa.Column("address", postgresql.JSONB()),
        sa.Column("time_zone", sa.String(64), nullable=False),
        sa.Column("notation", sa.String(20), nullable=False),
        sa.Column("accepts_referrals", sa.Boolean(), nullable=False),
        _timestamp("created_at", nullable=False, server_now=True),
        _timestamp("updated_at"),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _uuid("office_id", nullable=False, references="offices.id"),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("name", sa.String(120)),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        _timestamp("verified_at"),
        sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"),
        _timestamp("locked_until"),
        _timestamp("created_at", nullable=False, server_now=True),
        _timestamp("removed_at"),
    )
    op.create_index("ix_users_office_id", "users", ["office_id"])
    op.create_index(
        "uq_users_email_active",
        "users",
        ["email"],
        unique=True,
        postgresql_where=sa.text("removed_at IS NULL"),
    )
    op.create_table(
        "providers",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _uuid("office_id", nullable=False, references="offices.id"),
        sa.Column("display_name", sa.String(120), nullable=False),
        sa.Column("specialty", sa.String(100)),
        _timestamp("created_at", nullable=False, server_now=True),
        _timestamp("deleted_at"),
    )
    op.create_index("ix_providers_office_id", "providers", ["office_id"])
    op.create_table(
        "invitations",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        _uuid("office_id", nullable=False, references="offices.id"),
        _uuid("invited_by", references="users.id"),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("message", sa.Text()),
        sa.Column("role", sa.String(20)),
        _timestamp("created_at", nullable=False),
        _timestamp("expires_at", nullable=False),
        _timestamp("accepted_at"),
        _uuid("accepted_office_id", references="offices.id"),
        _uuid("accepted_user_id", references="users.id"),
        _timestamp("revoked_at"),
    )
    op.create_index("ix_invitations_office_id", "invitations", ["office_id"])
    op.create_table(
        "links",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("purpose", sa.String(30), nullable=False),
        _uuid("user_id", references="users.id"),
        _uuid("invitation_id", references="invitations.id"),
        sa.Column("token_hash", sa.String(64), unique=True),
        _timestamp("created_at", nullable=False, server_now=True),
        _timestamp("issued_at"),
        _timestamp("expires_at", nullable=False),
        _timestamp("used_at"),
        _timestamp("superseded_at"),
    )
    op.create_index("ix_links_user_id", "links", ["user_id"])
    op.create_index("ix_links_invitation_id", "links", ["invitation_id"])
    op.create_table(
        "sessions",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _uuid("user_id", nullable=False, references="users.id"),
        sa.Column("refresh_token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("previous_refresh_token_hash", sa.String(64), unique=True),
        sa.Column("csrf_hash", sa.String(64), nullable=False),
        _timestamp("created_at", nullable=False),
        _timestamp("last_used_at", nullable=False),
        _timestamp("expires_at", nullable=False),
        _timestamp("revoked_at"),
        sa.Column("ip", sa.String(64)),
        sa.Column("user_agent", sa.String(300)),
    )
    op.create_index("ix_sessions_user_id", "sessions", ["user_id"])
    op.create_table(
        "revocations",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        _uuid("session_id"),
        _uuid("user_id"),
        _uuid("client_id"),
        _timestamp("revoked_before", nullable=False),
        _timestamp("created_at", nullable=False),
    )
    op.create_table(
        "terms_acceptances",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _uuid("office_id", nullable=False, references="offices.id"),
        _uuid("user_id", nullable=False, references="users.id"),
        sa.Column("version", sa.String(40), nullable=False),
        _timestamp("accepted_at", nullable=False),
        sa.Column("ip", sa.String(64)),
    )
    op.create_index("ix_terms_acceptances_office_id", "terms_acceptances", ["office_id"])
    op.create_table(
        "colleagues",
        _uuid("office_id", nullable=False, references="offices.id"),
        _uuid("colleague_office_id", nullable=False, references="offices.id"),
        sa.Column("relation", sa.String(20), nullable=False),
        _timestamp("created_at", nullable=False, server_now=True),
        _timestamp("last_interaction_at", nullable=False),
        sa.PrimaryKeyConstraint("office_id", "colleague_office_id"),
    )
    op.create_index("ix_colleagues_recent", "colleagues", ["office_id", "last_interaction_at"])
    op.create_table(
        "api_clients",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _uuid("office_id", nullable=False, references="offices.id"),
        sa.Column("client_id", sa.String(64), nullable=False, unique=True),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        _timestamp("created_at", nullable=False),
        _uuid("created_by", references="users.id"),
        _timestamp("last_used_at"),
        _timestamp("revoked_at"),
    )
    op.create_index("ix_api_clients_office_id", "api_clients", ["office_id"])
    op.create_table(
        "idempotency_keys",
        sa.Column("office_id", sa.Uuid(), nullable=False),
        sa.Column("operation", sa.String(50), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("answer", postgresql.JSONB()),
        _timestamp("created_at", nullable=False, server_now=True),
        sa.PrimaryKeyConstraint("office_id", "operation", "key"),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        _timestamp("at", nullable=False),
        _uuid("office_id"),
        _uuid("user_id"),
        _uuid("client_id"),
        sa.Column("action", sa.String(50), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("ip", sa.String(64)),
        sa.Column("details", postgresql.JSONB()),
    )
    op.create_index("ix_audit_log_ip_at", "audit_log", ["ip", "at"])
    op.create_index("ix_audit_log_office_id", "audit_log", ["office_id", "id"])


def downgrade() -> None:
    # Indexes go with their tables.
    for table in (
        "audit_log",
        "idempotency_keys",
        "api_clients",
        "colleagues",
        "terms_acceptances",
        "revocations",
        "sessions",
        "links",
        "invitations",
        "providers",
        "users",
        "offices",
    ):
        op.drop_table(table)
