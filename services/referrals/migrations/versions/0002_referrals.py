"""Referrals, their timeline, notes and read marks, procedure lists and idempotency keys.

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


def _ts(name: str, *, nullable: bool = True, server_now: bool = False) -> sa.Column:
    default = sa.text("now()") if server_now else None
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable, server_default=default)


def _uuid(name: str, *, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.Uuid(), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "referrals",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("reference", sa.String(8), nullable=False, unique=True),
        sa.Column("stage", sa.String(20), nullable=False),
        sa.Column("urgency", sa.String(10), nullable=False),
        _uuid("sender_office_id", nullable=False),
        _uuid("receiver_office_id"),
        sa.Column("sender_office_name", sa.String(200)),
        sa.Column("receiver_office_name", sa.String(200)),
        sa.Column("sender_snapshot", postgresql.JSONB()),
        sa.Column("receiver_snapshot", postgresql.JSONB()),
        _uuid("referring_provider_id"),
        sa.Column("referring_provider_name", sa.String(120)),
        _uuid("requested_provider_id"),
        sa.Column("requested_provider_name", sa.String(120)),
        sa.Column("patient", postgresql.JSONB(), nullable=False),
        sa.Column("patient_name", sa.String(201), nullable=False, server_default=""),
        sa.Column(
            "procedure_ids", postgresql.ARRAY(sa.Uuid()), nullable=False, server_default="{}"
        ),
        sa.Column(
            "procedure_names", postgresql.ARRAY(sa.Text()), nullable=False, server_default="{}"
        ),
        sa.Column("other_procedures", sa.String(500)),
        sa.Column("teeth", postgresql.ARRAY(sa.String(2)), nullable=False, server_default="{}"),
        sa.Column("case_notes", sa.Text()),
        _uuid("created_by_user_id"),
        _uuid("created_by_client_id"),
        _ts("created_at", nullable=False, server_now=True),
        _ts("sent_at"),
        _ts("updated_at", nullable=False, server_now=True),
        _ts("appointment_at"),
        sa.Column("forwarded_from_id", sa.Uuid(), sa.ForeignKey("referrals.id")),
    )
    op.create_index("ix_referrals_sender_sent_at", "referrals", ["sender_office_id", "sent_at"])
    op.create_index("ix_referrals_receiver_sent_at", "referrals", ["receiver_office_id", "sent_at"])
    op.create_index("ix_referrals_stage", "referrals", ["stage"])
    op.create_index("ix_referrals_forwarded_from_id", "referrals", ["forwarded_from_id"])
    op.create_table(
        "stage_entries",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column(
            "referral_id",
            sa.Uuid(),
            sa.ForeignKey("referrals.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("stage", sa.String(20), nullable=False),
        _ts("at", nullable=False),
        _uuid("by_office_id", nullable=False),
        _uuid("by_user_id"),
        _uuid("by_client_id"),
        sa.Column("reason", sa.Text()),
        _ts("appointment_at"),
        _uuid("forwarded_to"),
    )
    op.create_index("ix_stage_entries_referral_id", "stage_entries", ["referral_id", "id"])
    op.create_table(
        "notes",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column(
            "referral_id",
            sa.Uuid(),
            sa.ForeignKey("referrals.id", ondelete="CASCADE"),
            nullable=False,
        ),
        _uuid("office_id", nullable=False),
        _uuid("author_user_id"),
        _uuid("author_client_id"),
        sa.Column("author_name", sa.String(254)),
        sa.Column("body", sa.Text(), nullable=False),
        _ts("at", nullable=False),
    )
    op.create_index("ix_notes_referral_id_at", "notes", ["referral_id", "at"])
    op.create_table(
        "note_reads",
        sa.Column(
            "referral_id",
            sa.Uuid(),
            sa.ForeignKey("referrals.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("office_id", sa.Uuid(), primary_key=True),
        _ts("last_read_at", nullable=False),
    )
    op.create_table(
        "procedures",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _uuid("office_id", nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        _ts("created_at", nullable=False, server_now=True),
        _ts("removed_at"),
    )
    op.create_index("ix_procedures_office_id", "procedures", ["office_id"])
    op.create_table(
        "idempotency_keys",
        sa.Column("office_id", sa.Uuid(), primary_key=True),
        sa.Column("operation", sa.String(50), primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("answer", postgresql.JSONB()),
        _ts("created_at", nullable=False, server_now=True),
    )


def downgrade() -> None:
    op.drop_table("idempotency_keys")
    op.drop_index("ix_procedures_office_id", table_name="procedures")
    op.drop_table("procedures")
    op.drop_table("note_reads")
    op.drop_index("ix_notes_referral_id_at", table_name="notes")
    op.drop_table("notes")
    op.drop_index("ix_stage_entries_referral_id", table_name="stage_entries")
    op.drop_table("stage_entries")
    for index in (
        "ix_referrals_forwarded_from_id",
        "ix_referrals_stage",
        "ix_referrals_receiver_sent_at",
        "ix_referrals_sender_sent_at",
    ):
        op.drop_index(index, table_name="referrals")
    op.drop_table("referrals")
