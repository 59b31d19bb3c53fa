"""The files service's tables (its own database; no other service reads them).

``files`` holds each accepted file's metadata (the bytes are in the blob store
under ``storage_key``); ``tickets`` the single-use transfer capabilities (only
their SHA-256 is stored); ``access_log`` who opened which file.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, ForeignKey, Identity, Index, String, Uuid, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

Timestamp = DateTime(timezone=True)


class Base(DeclarativeBase):
    """Declarative base of this service's models; its metadata drives the migrations."""


def now() -> datetime:
    return datetime.now(UTC)


class File(Base):
    """An accepted file attached to an owner (a referral or a case)."""

    __tablename__ = "files"
    __table_args__ = (Index("ix_files_owner", "owner_type", "owner_id", "uploaded_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    owner_type: Mapped[str] = mapped_column(String(20))
    owner_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    kind: Mapped[str] = mapped_column(String(20))
    media_type: Mapped[str] = mapped_column(String(100))
    original_name: Mapped[str | None] = mapped_column(String(255))
    storage_key: Mapped[str] = mapped_column(String(200), unique=True)
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(Timestamp, default=now, server_default=func.now())
    uploaded_by_office_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    uploaded_by_user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    uploaded_by_client_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    preview_state: Mapped[str] = mapped_column(String(20), server_default="pending")
    preview_key: Mapped[str | None] = mapped_column(String(200))
    metadata_: Mapped[dict[str, Any]] = mapped_column(
        "metadata", JSONB, default=dict, server_default="{}"
    )
    deleted_at: Mapped[datetime | None] = mapped_column(Timestamp)


class TransferTicket(Base):
    """A single-use capability for one HTTP transfer; only the token's SHA-256 is kept."""

    __tablename__ = "tickets"
    __table_args__ = (Index("ix_tickets_expires_at", "expires_at"),)

    hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(20))  # upload | download | preview
    caller: Mapped[dict[str, Any]] = mapped_column(JSONB)
    owner_type: Mapped[str] = mapped_column(String(20))
    owner_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    file_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("files.id", ondelete="CASCADE"))
    filename: Mapped[str | None] = mapped_column(String(1000))
    disposition: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=now, server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(Timestamp)
    used_at: Mapped[datetime | None] = mapped_column(Timestamp)


class AccessEntry(Base):
    """Someone opened a file (a download or a preview)."""

    __tablename__ = "access_log"
    __table_args__ = (Index("ix_access_log_file_at", "file_id", "at"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    file_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("files.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(20))
    office_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    client_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    at: Mapped[datetime] = mapped_column(Timestamp, default=now, server_default=func.now())
