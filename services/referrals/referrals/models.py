"""The referrals service's tables (its own database; no other service reads them).

Teeth are stored as ISO 3950 (FDI) codes. The two offices are kept as they
were when the referral was sent (``*_snapshot``: the letterheads), with their
names in columns for sorting and searching.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    String,
    Text,
    Uuid,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

Timestamp = DateTime(timezone=True)


class Base(DeclarativeBase):
    """Declarative base of this service's models; its metadata drives the migrations."""


def now() -> datetime:
    return datetime.now(UTC)


class Referral(Base):
    """A patient sent from one office (the sender) to another (the receiver)."""

    __tablename__ = "referrals"
    __table_args__ = (
        Index("ix_referrals_sender_sent_at", "sender_office_id", "sent_at"),
        Index("ix_referrals_receiver_sent_at", "receiver_office_id", "sent_at"),
        Index("ix_referrals_stage", "stage"),
        Index("ix_referrals_forwarded_from_id", "forwarded_from_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    reference: Mapped[str] = mapped_column(String(8), unique=True)
    stage: Mapped[str] = mapped_column(String(20))
    urgency: Mapped[str] = mapped_column(String(10))
    sender_office_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    receiver_office_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    sender_office_name: Mapped[str | None] = mapped_column(String(200))
    receiver_office_name: Mapped[str | None] = mapped_column(String(200))
    sender_snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    receiver_snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    referring_provider_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    referring_provider_name: Mapped[str | None] = mapped_column(String(120))
    requested_provider_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    requested_provider_name: Mapped[str | None] = mapped_column(String(120))
    patient: Mapped[dict[str, Any]] = mapped_column(JSONB)
    # "First Last", searched case-insensitively and sorted on.
    patient_name: Mapped[str] = mapped_column(String(201), server_default="")
    procedure_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(Uuid), server_default="{}")
    procedure_names: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    other_procedures: Mapped[str | None] = mapped_column(String(500))
    teeth: Mapped[list[str]] = mapped_column(ARRAY(String(2)), server_default="{}")
    case_notes: Mapped[str | None] = mapped_column(Text)
    created_by_user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_by_client_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=now, server_default=func.now())
    sent_at: Mapped[datetime | None] = mapped_column(Timestamp)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, default=now, server_default=func.now())
    appointment_at: Mapped[datetime | None] = mapped_column(Timestamp)
    forwarded_from_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("referrals.id"))


class StageEntry(Base):
    """One step of a referral's timeline: which stage, who (user or client, office), when."""

    __tablename__ = "stage_entries"
    __table_args__ = (Index("ix_stage_entries_referral_id", "referral_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    referral_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("referrals.id", ondelete="CASCADE"))
    stage: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(Timestamp)
    by_office_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    by_user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    by_client_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    reason: Mapped[str | None] = mapped_column(Text)
    appointment_at: Mapped[datetime | None] = mapped_column(Timestamp)
    forwarded_to: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class Note(Base):
    """A message on a referral between its two offices."""

    __tablename__ = "notes"
    __table_args__ = (Index("ix_notes_referral_id_at", "referral_id", "at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    referral_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("referrals.id", ondelete="CASCADE"))
    office_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    author_user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    author_client_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    author_name: Mapped[str | None] = mapped_column(String(254))
    body: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(Timestamp)


class NoteRead(Base):
    """Until when an office has read a referral's notes."""

    __tablename__ = "note_reads"

    referral_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("referrals.id", ondelete="CASCADE"), primary_key=True
    )
    office_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    last_read_at: Mapped[datetime] = mapped_column(Timestamp)


class ReferralFile(Base):
    """A file attached to a referral, as the files service announced it (``file_uploaded``)."""

    __tablename__ = "referral_files"

    referral_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("referrals.id", ondelete="CASCADE"), primary_key=True
    )
    file_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    attached_at: Mapped[datetime] = mapped_column(Timestamp)


class Procedure(Base):
    """An entry of a receiving office's procedure list; soft-removed (referrals name it)."""

    __tablename__ = "procedures"
    __table_args__ = (Index("ix_procedures_office_id", "office_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    office_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    name: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=now, server_default=func.now())
    removed_at: Mapped[datetime | None] = mapped_column(Timestamp)


class IdempotencyKey(Base):
    """The first answer of a create call, replayed to a retry with the same key."""

    __tablename__ = "idempotency_keys"

    office_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    operation: Mapped[str] = mapped_column(String(50), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    answer: Mapped[Any | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=now, server_default=func.now())
