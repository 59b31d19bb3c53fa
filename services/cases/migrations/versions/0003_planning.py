"""Planning slots, bookings (one holder per slot, one booking in force per case), calendar feeds.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _ts(name: str, *, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "planning_slots",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("lab_office_id", sa.Uuid(), nullable=False),
        _ts("starts_at", nullable=False),
        _ts("ends_at", nullable=False),
        sa.Column("time_zone", sa.String(64), nullable=False),
        sa.Column("mode", sa.String(20), nullable=False),
        sa.Column("join_url", sa.String(2000)),
        sa.Column("join_details", sa.Text()),
        sa.Column("series_id", sa.Uuid()),
        _ts("created_at", nullable=False),
        sa.Column("created_by_user_id", sa.Uuid()),
        _ts("deleted_at"),
        sa.CheckConstraint("ends_at > starts_at", name="ck_planning_slots_ends_after_start"),
    )
    op.create_index(
        "ix_planning_slots_lab_starts_at",
        "planning_slots",
        ["lab_office_id", "starts_at"],
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_table(
        "planning_bookings",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column(
            "case_id", sa.Uuid(), sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("slot_id", sa.Uuid(), sa.ForeignKey("planning_slots.id"), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        _ts("booked_at", nullable=False),
        sa.Column("booked_by_user_id", sa.Uuid()),
        _ts("updated_at", nullable=False),
        _ts("ended_at"),
        sa.Column("ended_by_user_id", sa.Uuid()),
        sa.Column("end_reason", sa.Text()),
    )
    op.create_index(
        "uq_planning_bookings_slot_held",
        "planning_bookings",
        ["slot_id"],
        unique=True,
        postgresql_where=sa.text("status IN ('booked', 'no_show')"),
    )
    op.create_index(
        "uq_planning_bookings_case_booked",
        "planning_bookings",
        ["case_id"],
        unique=True,
        postgresql_where=sa.text("status = 'booked'"),
    )
    op.create_table(
        "calendar_feeds",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("office_id", sa.Uuid(), nullable=False),
        sa.Column("token_sha256", sa.LargeBinary(32), nullable=False, unique=True),
        _ts("created_at", nullable=False),
        sa.Column("created_by_user_id", sa.Uuid()),
        _ts("revoked_at"),
    )
    op.create_index(
        "uq_calendar_feeds_office_active",
        "calendar_feeds",
        ["office_id"],
        unique=True,
        postgresql_where=sa.text("revoked_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_table("calendar_feeds")
    op.drop_table("planning_bookings")
    op.drop_table("planning_slots")
