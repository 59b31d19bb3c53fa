"""The notifications service's tables (its own database; no other service reads them).

- ``outgoing_mail``: the mail queue. A row is written in the transaction of whatever
  decided to send it (an event consumer, a Patient Talk message); the sender delivers
  it later, retrying with backoff. ``dedupe_key`` is unique: a repeat is a no-op.
- ``notifications``: each user's in-app feed.
- ``notification_preferences``: which non-essential e-mails a user turned off.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Boolean, DateTime, Index, Integer, String, Text, Uuid, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

Timestamp = DateTime(timezone=True)


class Base(DeclarativeBase):
    """Declarative base of this service's models; its metadata drives the migrations."""


def now() -> datetime:
    return datetime.now(UTC)


class MailStatus:
    queued = "queued"
    sent = "sent"
    failed = "failed"


class OutgoingMail(Base):
    """One e-mail to one address, waiting, sent or given up on."""

    __tablename__ = "outgoing_mail"
    __table_args__ = (
        Index(
            "ix_outgoing_mail_due",
            "next_attempt_at",
            postgresql_where=text("status = 'queued'"),
        ),
        Index("ix_outgoing_mail_status", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    dedupe_key: Mapped[str] = mapped_column(String(300), unique=True)
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str | None] = mapped_column(Text)
    sender_name: Mapped[str | None] = mapped_column(String(300))
    reply_to: Mapped[str | None] = mapped_column(String(254))
    # [{"filename", "mime_type", "content" (base64)}]
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    status: Mapped[str] = mapped_column(String(10), default=MailStatus.queued)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(Timestamp, default=now)
    last_error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=now)
    sent_at: Mapped[datetime | None] = mapped_column(Timestamp)
    failed_at: Mapped[datetime | None] = mapped_column(Timestamp)


class Notification(Base):
    """One entry of a user's in-app feed."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_user_created", "user_id", "created_at"),
        Index(
            "ix_notifications_user_unread",
            "user_id",
            postgresql_where=text("read_at IS NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    dedupe_key: Mapped[str] = mapped_column(String(300), unique=True)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    office_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    kind: Mapped[str] = mapped_column(String(50))
    title: Mapped[str] = mapped_column(String(300))
    subject_type: Mapped[str | None] = mapped_column(String(20))
    subject_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    reference: Mapped[str | None] = mapped_column(String(40))
    link: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=now)
    read_at: Mapped[datetime | None] = mapped_column(Timestamp)


class Preference(Base):
    """A user's choice for one category of e-mail (absent: on)."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    category: Mapped[str] = mapped_column(String(30), primary_key=True)
    email: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, default=now, onupdate=now)
