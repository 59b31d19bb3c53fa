"""The cases service's planning tables: slots, bookings, calendar feeds.

A slot is stored as two UTC instants and the lab's IANA zone (the zone its
wall times were written in, and the zone of its calendar files). A booking
*holds* its slot while it is ``booked`` or ``no_show`` (a missed session
used the slot up); the partial unique index ``uq_planning_bookings_slot_held``
lets exactly one booking hold a slot, whatever the concurrency. A case has at
most one ``booked`` booking (``uq_planning_bookings_case_booked``).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from cases.models import Base, now

Timestamp = DateTime(timezone=True)

# Booking states; the first two hold the slot.
BOOKED = "booked"
NO_SHOW = "no_show"
CANCELLED = "cancelled"
HOLDS_SLOT = text("status IN ('booked', 'no_show')")


class PlanningSlot(Base):
    """A time a lab offers for a virtual planning session."""

    __tablename__ = "planning_slots"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ck_planning_slots_ends_after_start"),
        Index(
            "ix_planning_slots_lab_starts_at",
            "lab_office_id",
            "starts_at",
            postgresql_where=text("deleted_at IS NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    lab_office_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    starts_at: Mapped[datetime] = mapped_column(Timestamp)
    ends_at: Mapped[datetime] = mapped_column(Timestamp)
    time_zone: Mapped[str] = mapped_column(String(64))
    mode: Mapped[str] = mapped_column(String(20))
    join_url: Mapped[str | None] = mapped_column(String(2000))
    join_details: Mapped[str | None] = mapped_column(Text)
    # The slots of one weekly pattern share it.
    series_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=now)
    created_by_user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    # Deleted slots stay for the bookings that ended on them.
    deleted_at: Mapped[datetime | None] = mapped_column(Timestamp)


class PlanningBooking(Base):
    """A case's booking of a slot; ``sequence`` counts reschedules (the calendar's SEQUENCE)."""

    __tablename__ = "planning_bookings"
    __table_args__ = (
        Index(
            "uq_planning_bookings_slot_held", "slot_id", unique=True, postgresql_where=HOLDS_SLOT
        ),
        Index(
            "uq_planning_bookings_case_booked",
            "case_id",
            unique=True,
            postgresql_where=text("status = 'booked'"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    slot_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("planning_slots.id"))
    status: Mapped[str] = mapped_column(String(20))
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    booked_at: Mapped[datetime] = mapped_column(Timestamp, default=now)
    booked_by_user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, default=now)
    ended_at: Mapped[datetime | None] = mapped_column(Timestamp)
    ended_by_user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    end_reason: Mapped[str | None] = mapped_column(Text)


class CalendarFeed(Base):
    """An office's private calendar subscription; only the token's SHA-256 is kept."""

    __tablename__ = "calendar_feeds"
    __table_args__ = (
        Index(
            "uq_calendar_feeds_office_active",
            "office_id",
            unique=True,
            postgresql_where=text("revoked_at IS NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    office_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    token_sha256: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=now)
    created_by_user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    revoked_at: Mapped[datetime | None] = mapped_column(Timestamp)
