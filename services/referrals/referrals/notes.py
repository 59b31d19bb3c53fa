"""Notes between the two offices, and each office's read state.

A note is new to an office when the other office wrote it after this office
last marked the referral's notes read.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from referrals import idempotency
from referrals.access import visible
from referrals.exceptions import StageConflict
from referrals.models import Note, NoteRead, Referral, now
from referrals.stages import CLOSED
from shared.contracts import Caller
from shared.contracts.referrals import NoteIn, NoteOut, ReferralNoteAdded, Stage
from shared.directory import Directory
from shared.outbox import record_event

NEVER = datetime(1970, 1, 1, tzinfo=UTC)


def _last_read(session: Session, *, referral_id: uuid.UUID, office_id: uuid.UUID) -> datetime:
    read = session.get(NoteRead, (referral_id, office_id))
    return read.last_read_at if read is not None else NEVER


def notes_of(session: Session, *, referral: Referral, office_id: uuid.UUID) -> list[NoteOut]:
    """The referral's notes, oldest first, with ``new`` as this office sees them."""
    last_read = _last_read(session, referral_id=referral.id, office_id=office_id)
    rows = session.scalars(
        select(Note).where(Note.referral_id == referral.id).order_by(Note.at, Note.id)
    )
    return [_out(note, office_id=office_id, last_read=last_read) for note in rows]


def _out(note: Note, *, office_id: uuid.UUID, last_read: datetime) -> NoteOut:
    return NoteOut(
        id=note.id,
        body=note.body,
        author_user_id=note.author_user_id,
        author_name=note.author_name,
        office_id=note.office_id,
        at=note.at,
        new=note.office_id != office_id and note.at > last_read,
    )


def list_notes(session: Session, *, who: Caller, referral_id: Any) -> list[NoteOut]:
    """The notes of a referral the caller may see."""
    referral = visible(session, who=who, referral_id=referral_id)
    return notes_of(session, referral=referral, office_id=who.office_id)


def add_note(
    session: Session,
    *,
    who: Caller,
    referral_id: Any,
    cmd: NoteIn,
    directory: Directory,
    idempotency_key: str | None,
) -> NoteOut:
    """Write a note to the other office; not once the referral is closed or cancelled."""
    referral = visible(session, who=who, referral_id=referral_id)

    def make() -> NoteOut:
        if referral.stage in CLOSED or referral.stage == Stage.draft:
            raise StageConflict(referral.stage, "given notes")
        names = directory.user_names([who.user_id]) if who.user_id else {}
        note = Note(
            id=uuid.uuid4(),
            referral_id=referral.id,
            office_id=who.office_id,
            author_user_id=who.user_id,
            author_client_id=who.client_id,
            author_name=names.get(who.user_id) if who.user_id else None,
            body=cmd.body,
            at=now(),
        )
        session.add(note)
        other = (
            referral.receiver_office_id
            if who.office_id == referral.sender_office_id
            else referral.sender_office_id
        )
        assert other is not None
        record_event(
            session,
            ReferralNoteAdded(
                referral_id=referral.id,
                reference=referral.reference,
                note_id=note.id,
                author_office_id=who.office_id,
                recipient_office_id=other,
            ),
        )
        return _out(note, office_id=who.office_id, last_read=NEVER)

    return idempotency.once(
        session,
        office_id=who.office_id,
        operation=f"add_note:{referral.id}",
        key=idempotency_key,
        model=NoteOut,
        make=make,
    )


def mark_notes_read(session: Session, *, who: Caller, referral_id: Any) -> None:
    """Every note of the referral counts as read by the caller's office from now on."""
    referral = visible(session, who=who, referral_id=referral_id)
    at = now()
    statement = insert(NoteRead).values(
        referral_id=referral.id, office_id=who.office_id, last_read_at=at
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[NoteRead.referral_id, NoteRead.office_id],
            set_={"last_read_at": func.greatest(NoteRead.last_read_at, at)},
        )
    )


def new_notes_count(office_id: uuid.UUID) -> ColumnElement[int]:
    """A correlated count of the referral's notes that are new to ``office_id`` (for lists)."""
    last_read = (
        select(NoteRead.last_read_at)
        .where(NoteRead.referral_id == Referral.id, NoteRead.office_id == office_id)
        .scalar_subquery()
    )
    return (
        select(func.count(Note.id))
        .where(
            Note.referral_id == Referral.id,
            Note.office_id != office_id,
            Note.at > func.coalesce(last_read, NEVER),
        )
        .scalar_subquery()
    )
