"""Notes between a case's client and lab, and each office's read mark.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _case_id(primary_key: bool = False) -> sa.Column:
    return sa.Column(
        "case_id",
        sa.Uuid(),
        sa.ForeignKey("cases.id", ondelete="CASCADE"),
        primary_key=primary_key,
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "case_notes",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _case_id(),
        sa.Column("office_id", sa.Uuid(), nullable=False),
        sa.Column("author_user_id", sa.Uuid()),
        sa.Column("author_client_id", sa.Uuid()),
        sa.Column("author_name", sa.String(254)),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_case_notes_case_id_at", "case_notes", ["case_id", "at"])
    op.create_table(
        "case_note_reads",
        _case_id(primary_key=True),
        sa.Column("office_id", sa.Uuid(), primary_key=True, nullable=False),
        sa.Column("last_read_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("case_note_reads")
    op.drop_table("case_notes")
