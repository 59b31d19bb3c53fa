"""The cases service's tables (its own database; no other service reads them).

Teeth are stored as ISO 3950 (FDI) codes. The two offices are kept as they
were when the case was sent or last edited (``*_snapshot``: the letterheads
of the RX script, the lab's time zone for ship dates), with their names in
columns for sorting. ``colour_rank`` (0 red, 1 yellow, 2 green, 3 white) is
derived from the stage and kept in a column so the default list order is an
index scan.
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
    LargeBinary,
    SmallInteger,
    String,
    Text,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

Timestamp = DateTime(timezone=True)


class Base(DeclarativeBase):
    """Declarative base of this service's models; its metadata drives the migrations."""


def now() -> datetime:
    return datetime.now(UTC)


class Case(Base):
    """Work a client office sends to a lab."""

    __tablename__ = "cases"
    __table_args__ = (
        # The default list (attention: colour, then oldest first) for either side.
        Index("ix_cases_client_attention", "client_office_id", "colour_rank", "created_at", "id"),
        Index("ix_cases_lab_attention", "lab_office_id", "colour_rank", "created_at", "id"),
        # Sorted by ship date (cases without one last) for either side.
        Index("ix_cases_client_ship_latest", "client_office_id", "ship_latest", "created_at", "id"),
        Index("ix_cases_lab_ship_latest", "lab_office_id", "ship_latest", "created_at", "id"),
        # The main list's total (the client's cases not archived) from the index alone.
        Index(
            "ix_cases_client_open",
            "client_office_id",
            postgresql_where=text("archived_at IS NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    client_office_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    lab_office_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    client_office_name: Mapped[str | None] = mapped_column(String(200))
    lab_office_name: Mapped[str | None] = mapped_column(String(200))
    client_snapshot: Mapped[dict[str, Any]] = mapped_column(JSONB)
    lab_snapshot: Mapped[dict[str, Any]] = mapped_column(JSONB)
    patient_name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    teeth: Mapped[list[str]] = mapped_column(ARRAY(String(2)), server_default="{}")
    due_date: Mapped[date | None] = mapped_column(Date)
    stage: Mapped[str] = mapped_column(String(30))
    held_from_stage: Mapped[str | None] = mapped_column(String(30))
    colour_rank: Mapped[int] = mapped_column(SmallInteger)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=now, server_default=func.now())
    last_modified_at: Mapped[datetime] = mapped_column(Timestamp, default=now)
    stage_changed_at: Mapped[datetime] = mapped_column(Timestamp, default=now)
    ship_earliest: Mapped[date | None] = mapped_column(Date)
    ship_latest: Mapped[date | None] = mapped_column(Date)
    carrier: Mapped[str | None] = mapped_column(String(100))
    tracking_number: Mapped[str | None] = mapped_column(String(100))
    tracking_url: Mapped[str | None] = mapped_column(String(2000))
    shipped_at: Mapped[datetime | None] = mapped_column(Timestamp)
    # The client's own filing: hides the case from the client's main list only.
    archived_at: Mapped[datetime | None] = mapped_column(Timestamp)
    # Bumped by every client edit: the kept RX script is rendered again when it changes.
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by_user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    # The planning booking in force (cases.planning sets it; no FK: its table is the planner's).
    active_booking_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class CaseHistory(Base):
    """One stage change of a case: the stage before and after, who (office, user), when."""

    __tablename__ = "case_history"
    __table_args__ = (Index("ix_case_history_case_id", "case_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    stage: Mapped[str] = mapped_column(String(30))
    previous_stage: Mapped[str | None] = mapped_column(String(30))
    at: Mapped[datetime] = mapped_column(Timestamp)
    by_office_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    by_user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    reason: Mapped[str | None] = mapped_column(Text)


class CaseCounter(Base):
    """The last case number given in a year (``C-<year>-<n>``)."""

    __tablename__ = "case_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(Integer)


class CaseFile(Base):
    """A file of a case, as the files service announced it (``file_uploaded``)."""

    __tablename__ = "case_files"

    case_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    file_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    attached_at: Mapped[datetime] = mapped_column(Timestamp)


class TurnaroundRule(Base):
    """A lab's business days from entering ``stage`` until the case ships."""

    __tablename__ = "turnaround_rules"

    lab_office_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    stage: Mapped[str] = mapped_column(String(30), primary_key=True)
    min_days: Mapped[int] = mapped_column(SmallInteger)
    max_days: Mapped[int] = mapped_column(SmallInteger)


class RxDocument(Base):
    """The case's rendered RX script, kept while ``cache_key`` (version and dates) matches."""

    __tablename__ = "rx_documents"

    case_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    cache_key: Mapped[str] = mapped_column(String(100))
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    rendered_at: Mapped[datetime] = mapped_column(Timestamp, default=now)


class IdempotencyKey(Base):
    """The first answer of a create call, replayed to a retry with the same key."""

    __tablename__ = "idempotency_keys"

    office_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    operation: Mapped[str] = mapped_column(String(50), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    answer: Mapped[Any | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=now, server_default=func.now())


class CaseNote(Base):
    """A message on a case between its client and its lab."""

    __tablename__ = "case_notes"
    __table_args__ = (Index("ix_case_notes_case_id_at", "case_id", "at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    office_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    author_user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    author_client_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    author_name: Mapped[str | None] = mapped_column(String(254))
    body: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(Timestamp)


class CaseNoteRead(Base):
    """Until when an office has read a case's notes."""

    __tablename__ = "case_note_reads"

    case_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    office_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    last_read_at: Mapped[datetime] = mapped_column(Timestamp)
