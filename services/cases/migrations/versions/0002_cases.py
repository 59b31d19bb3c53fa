"""Cases, their history, files, counters, turnaround rules, RX scripts and idempotency keys.

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


def _case_fk() -> sa.Column:
    return sa.Column(
        "case_id", sa.Uuid(), sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("reference", sa.String(20), nullable=False, unique=True),
        sa.Column("client_office_id", sa.Uuid(), nullable=False),
        sa.Column("lab_office_id", sa.Uuid(), nullable=False),
        sa.Column("client_office_name", sa.String(200)),
        sa.Column("lab_office_name", sa.String(200)),
        sa.Column("client_snapshot", postgresql.JSONB(), nullable=False),
        sa.Column("lab_snapshot", postgresql.JSONB(), nullable=False),
        sa.Column("patient_name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("teeth", postgresql.ARRAY(sa.String(2)), nullable=False, server_default="{}"),
        sa.Column("due_date", sa.Date()),
        sa.Column("stage", sa.String(30), nullable=False),
        sa.Column("held_from_stage", sa.String(30)),
        sa.Column("colour_rank", sa.SmallInteger(), nullable=False),
        _ts("created_at", nullable=False, server_now=True),
        _ts("last_modified_at", nullable=False),
        _ts("stage_changed_at", nullable=False),
        sa.Column("ship_earliest", sa.Date()),
        sa.Column("ship_latest", sa.Date()),
        sa.Column("carrier", sa.String(100)),
        sa.Column("tracking_number", sa.String(100)),
        sa.Column("tracking_url", sa.String(2000)),
        _ts("shipped_at"),
        _ts("archived_at"),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by_user_id", sa.Uuid()),
        sa.Column("active_booking_id", sa.Uuid()),
    )
    # The case list's first pages, per side: attention (colour, oldest first) and ship date.
    for side in ("client", "lab"):
        office = f"{side}_office_id"
        op.create_index(
            f"ix_cases_{side}_attention", "cases", [office, "colour_rank", "created_at", "id"]
        )
        op.create_index(
            f"ix_cases_{side}_ship_latest", "cases", [office, "ship_latest", "created_at", "id"]
        )
    op.create_table(
        "case_history",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        _case_fk(),
        sa.Column("stage", sa.String(30), nullable=False),
        sa.Column("previous_stage", sa.String(30)),
        _ts("at", nullable=False),
        sa.Column("by_office_id", sa.Uuid(), nullable=False),
        sa.Column("by_user_id", sa.Uuid()),
        sa.Column("reason", sa.Text()),
    )
    op.create_index("ix_case_history_case_id", "case_history", ["case_id", "id"])
    op.create_table(
        "case_counters",
        sa.Column("year", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
    )
    op.create_table(
        "case_files",
        sa.Column(
            "case_id", sa.Uuid(), sa.ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("file_id", sa.Uuid(), primary_key=True),
        _ts("attached_at", nullable=False),
    )
    op.create_table(
        "turnaround_rules",
        sa.Column("lab_office_id", sa.Uuid(), primary_key=True),
        sa.Column("stage", sa.String(30), primary_key=True),
        sa.Column("min_days", sa.SmallInteger(), nullable=False),
        sa.Column("max_days", sa.SmallInteger(), nullable=False),
    )
    op.create_table(
        "rx_documents",
        sa.Column(
            "case_id", sa.Uuid(), sa.ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("cache_key", sa.String(100), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        _ts("rendered_at", nullable=False),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("office_id", sa.Uuid(), primary_key=True),
        sa.Column("operation", sa.String(50), primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("answer", postgresql.JSONB()),
        _ts("created_at", nullable=False, server_now=True),
    )


def downgrade() -> None:
    for table in (
        "idempotency_keys",
        "rx_documents",
        "turnaround_rules",
        "case_files",
        "case_counters",
        "case_history",
        "cases",
    ):
        op.drop_table(table)
