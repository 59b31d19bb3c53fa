"""Files, transfer tickets and the access log.

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


def upgrade() -> None:
    op.create_table(
        "files",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("owner_type", sa.String(20), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("media_type", sa.String(100), nullable=False),
        sa.Column("original_name", sa.String(255)),
        sa.Column("storage_key", sa.String(200), nullable=False, unique=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        _ts("uploaded_at", nullable=False, server_now=True),
        sa.Column("uploaded_by_office_id", sa.Uuid(), nullable=False),
        sa.Column("uploaded_by_user_id", sa.Uuid()),
        sa.Column("uploaded_by_client_id", sa.Uuid()),
        sa.Column("preview_state", sa.String(20), nullable=False, server_default="pending"),
        sa.Column("preview_key", sa.String(200)),
        sa.Column("metadata", postgresql.JSONB(), nullable=False, server_default="{}"),
        _ts("deleted_at"),
    )
    op.create_index("ix_files_owner", "files", ["owner_type", "owner_id", "uploaded_at"])
    op.create_table(
        "tickets",
        sa.Column("hash", sa.String(64), primary_key=True),
        sa.Column("purpose", sa.String(20), nullable=False),
        sa.Column("caller", postgresql.JSONB(), nullable=False),
        sa.Column("owner_type", sa.String(20), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("file_id", sa.Uuid(), sa.ForeignKey("files.id", ondelete="CASCADE")),
        sa.Column("filename", sa.String(1000)),
        sa.Column("disposition", sa.String(20)),
        _ts("created_at", nullable=False, server_now=True),
        _ts("expires_at", nullable=False),
        _ts("used_at"),
    )
    op.create_index("ix_tickets_expires_at", "tickets", ["expires_at"])
    op.create_table(
        "access_log",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column(
            "file_id", sa.Uuid(), sa.ForeignKey("files.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("office_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid()),
        sa.Column("client_id", sa.Uuid()),
        _ts("at", nullable=False, server_now=True),
    )
    op.create_index("ix_access_log_file_at", "access_log", ["file_id", "at"])


def downgrade() -> None:
    op.drop_table("access_log")
    op.drop_table("tickets")
    op.drop_table("files")
