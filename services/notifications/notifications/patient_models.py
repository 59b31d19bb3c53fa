"""The notifications service's Patient Talk tables: threads, messages, links, sessions,
accesses, queued texts and idempotency keys (migration 0003).

Link and session tokens are never stored: only their SHA-256.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Text,
    Uuid,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from notifications.models import Base

Timestamp = DateTime(timezone=True)


def now() -> datetime:
    return datetime.now(UTC)


class PatientThread(Base):
    """One office's private conversation with one patient about a referral or case."""

    __tablename__ = "patient_threads"
    __table_args__ = (
        Index("ix_patient_threads_office_owner", "office_id", "owner_type", "owner_id"),
        Index("ix_patient_threads_office_last", "office_id", "last_message_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    office_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    office_name: Mapped[str] = mapped_column(String(200))
    owner_type: Mapped[str] = mapped_column(String(20))
    owner_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    patient_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    mobile_phone: Mapped[str | None] = mapped_column(String(20))
    date_of_birth: Mapped[date] = mapped_column(Date)
    preferred_channel: Mapped[str] = mapped_column(String(10))
    created_by_user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=now, server_default=func.now())
    last_message_at: Mapped[datetime | None] = mapped_column(Timestamp)
    # Patient replies after this are unread for the office.
    office_read_at: Mapped[datetime | None] = mapped_column(Timestamp)


class PatientMessage(Base):
    """A message in a thread, from the office or from the patient."""

    __tablename__ = "patient_messages"
    __table_args__ = (Index("ix_patient_messages_thread_at", "thread_id", "at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    thread_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("patient_threads.id", ondelete="CASCADE")
    )
    author: Mapped[str] = mapped_column(String(10))
    author_user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    body: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(Timestamp, default=now)


class PatientLink(Base):
    """A link sent to the patient: single-patient, expiring, revocable."""

    __tablename__ = "patient_links"
    __table_args__ = (Index("ix_patient_links_thread", "thread_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    thread_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("patient_threads.id", ondelete="CASCADE")
    )
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=now)
    expires_at: Mapped[datetime] = mapped_column(Timestamp)
    revoked_at: Mapped[datetime | None] = mapped_column(Timestamp)


class PatientSessionRow(Base):
    """A short session opened with a link after the date of birth was confirmed."""

    __tablename__ = "patient_sessions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    link_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient_links.id", ondelete="CASCADE"))
    thread_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("patient_threads.id", ondelete="CASCADE")
    )
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=now)
    expires_at: Mapped[datetime] = mapped_column(Timestamp)


class PatientAccess(Base):
    """Every use of a link or session: which thread, which link, what, from where, when."""

    __tablename__ = "patient_accesses"
    __table_args__ = (
        Index("ix_patient_accesses_thread", "thread_id", "id"),
        Index("ix_patient_accesses_link_action_at", "link_id", "action", "at"),
        Index("ix_patient_accesses_ip_action_at", "ip", "action", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    thread_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("patient_threads.id", ondelete="CASCADE")
    )
    link_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    action: Mapped[str] = mapped_column(String(20))
    ip: Mapped[str | None] = mapped_column(String(45))
    at: Mapped[datetime] = mapped_column(Timestamp, default=now)


class PatientText(Base):
    """A text message waiting for (or done with) the SMS sender; the body is cleared once
    sent, since it carries the link."""

    __tablename__ = "patient_texts"
    __table_args__ = (
        Index(
            "ix_patient_texts_pending",
            "next_attempt_at",
            postgresql_where="sent_at IS NULL AND failed_at IS NULL",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    thread_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("patient_threads.id", ondelete="CASCADE")
    )
    to: Mapped[str] = mapped_column(String(20))
    body: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(Timestamp, default=now)
    sent_at: Mapped[datetime | None] = mapped_column(Timestamp)
    failed_at: Mapped[datetime | None] = mapped_column(Timestamp)
    last_error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=now)


class PatientIdempotencyKey(Base):
    """The first answer of a Patient Talk create call, replayed to a retry with the same key."""

    __tablename__ = "patient_idempotency_keys"

    office_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    operation: Mapped[str] = mapped_column(String(80), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    answer: Mapped[Any | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=now, server_default=func.now())
