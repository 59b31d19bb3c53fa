"""Patient Talk: threads, messages, links, patient sessions, accesses, queued texts and
idempotency keys.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _ts(name: str, *, nullable: bool = True, server_now: bool = False) -> sa.Column:
    default = sa.text("now()") if server_now else None
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable, server_default=default)


def _thread_fk() -> sa.Column:
    return sa.Column(
        "thread_id",
        sa.Uuid(),
        sa.ForeignKey("patient_threads.id", ondelete="CASCADE"),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "patient_threads",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("office_id", sa.Uuid(), nullable=False),
        sa.Column("office_name", sa.String(200), nullable=False),
        sa.Column("owner_type", sa.String(20), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("patient_name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(254)),
        sa.Column("mobile_phone", sa.String(20)),
        sa.Column("date_of_birth", sa.Date(), nullable=False),
        sa.Column("preferred_channel", sa.String(10), nullable=False),
        sa.Column("created_by_user_id", sa.Uuid()),
        _ts("created_at", nullable=False, server_now=True),
        _ts("last_message_at"),
        _ts("office_read_at"),
    )
    op.create_index(
        "ix_patient_threads_office_owner",
        "patient_threads",
        ["office_id", "owner_type", "owner_id"],
    )
    op.create_index(
        "ix_patient_threads_office_last", "patient_threads", ["office_id", "last_message_at"]
    )
    op.create_table(
        "patient_messages",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _thread_fk(),
        sa.Column("author", sa.String(10), nullable=False),
        sa.Column("author_user_id", sa.Uuid()),
        sa.Column("body", sa.Text(), nullable=False),
        _ts("at", nullable=False),
    )
    op.create_index("ix_patient_messages_thread_at", "patient_messages", ["thread_id", "at"])
    op.create_table(
        "patient_links",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _thread_fk(),
        sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
        _ts("created_at", nullable=False),
        _ts("expires_at", nullable=False),
        _ts("revoked_at"),
    )
    op.create_index("ix_patient_links_thread", "patient_links", ["thread_id"])
    op.create_table(
        "patient_sessions",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column(
            "link_id",
            sa.Uuid(),
            sa.ForeignKey("patient_links.id", ondelete="CASCADE"),
            nullable=False,
        ),
        _thread_fk(),
        sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
        _ts("created_at", nullable=False),
        _ts("expires_at", nullable=False),
    )
    op.create_table(
        "patient_accesses",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        _thread_fk(),
        sa.Column("link_id", sa.Uuid()),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("ip", sa.String(45)),
        _ts("at", nullable=False),
    )
    op.create_index("ix_patient_accesses_thread", "patient_accesses", ["thread_id", "id"])
    op.create_index(
        "ix_patient_accesses_link_action_at", "patient_accesses", ["link_id", "action", "at"]
    )
    op.create_index("ix_patient_accesses_ip_action_at", "patient_accesses", ["ip", "action", "at"])
    op.create_table(
        "patient_texts",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("dedupe_key", sa.String(200), nullable=False, unique=True),
        _thread_fk(),
        sa.Column("to", sa.String(20), nullable=False),
        sa.Column("body", sa.Text()),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        _ts("next_attempt_at", nullable=False),
        _ts("sent_at"),
        _ts("failed_at"),
        sa.Column("last_error", sa.String(200)),
        _ts("created_at", nullable=False),
    )
    op.create_index(
        "ix_patient_texts_pending",
        "patient_texts",
        ["next_attempt_at"],
        postgresql_where=sa.text("sent_at IS NULL AND failed_at IS NULL"),
    )
    op.create_table(
        "patient_idempotency_keys",
        sa.Column("office_id", sa.Uuid(), primary_key=True),
        sa.Column("operation", sa.String(80), primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("answer", postgresql.JSONB()),
        _ts("created_at", nullable=False, server_now=True),
    )


def downgrade() -> None:
    for table in (
        "patient_idempotency_keys",
        "patient_texts",
        "patient_accesses",
        "patient_sessions",
        "patient_links",
        "patient_messages",
        "patient_threads",
    ):
        op.drop_table(table)
