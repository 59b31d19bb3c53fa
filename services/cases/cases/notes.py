"""Notes between a case's client and its lab, and each office's read state.

A note is new to an office when the other office wrote it after this office
last marked the case's notes read (the referrals service's design).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from cases import idempotency
from cases.access import visible
from cases.models import CaseNote, CaseNoteRead, now
from cases.stages import CLOSED
from shared.contracts import Caller
from shared.contracts.cases import CaseNoteAdded, CaseNoteIn, CaseNoteOut
from shared.directory import Directory
from shared.errors import Conflict
from shared.outbox import record_event

NEVER = datetime(1970, 1, 1, tzinfo=UTC)


def _last_read(session: Session, *, case_id: uuid.UUID, office_id: uuid.UUID) -> datetime:
    read = session.get(CaseNoteRead, (case_id, office_id))
    return read.last_read_at if read is not None else NEVER


def _out(note: CaseNote, *, office_id: uuid.UUID, last_read: datetime) -> CaseNoteOut:
    return CaseNoteOut(
        id=note.id,
        body=note.body,
        author_user_id=note.author_user_id,
        author_name=note.author_name,
        office_id=note.office_id,
        at=note.at,
        new=note.office_id != office_id and note.at > last_read,
    )


def new_notes_by_case(
    session: Session, *, office_id: uuid.UUID, case_ids: list[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """How many notes of each case are new to ``office_id`` (a page of a list: one query)."""
    if not case_ids:
        return {}
    last_read = (
        select(CaseNoteRead.last_read_at)
        .where(CaseNoteRead.case_id == CaseNote.case_id, CaseNoteRead.office_id == office_id)
        .correlate(CaseNote)
        .scalar_subquery()
    )
    rows = session.execute(
        select(CaseNote.case_id, func.count())
        .where(
            CaseNote.case_id.in_(case_ids),
            CaseNote.office_id != office_id,
            CaseNote.at > func.coalesce(last_read, NEVER),
        )
        .group_by(CaseNote.case_id)
    )
    return {case_id: int(count) for case_id, count in rows.tuples()}


def list_notes(session: Session, *, who: Caller, case_id: Any) -> list[CaseNoteOut]:
    """The notes of a case the caller may see, oldest first, ``new`` as its office sees them."""
    case = visible(session, who=who, case_id=case_id)
    last_read = _last_read(session, case_id=case.id, office_id=who.office_id)
    rows = session.scalars(
        select(CaseNote).where(CaseNote.case_id == case.id).order_by(CaseNote.at, CaseNote.id)
    )
    return [_out(note, office_id=who.office_id, last_read=last_read) for note in rows]


def add_note(
    session: Session,
    *,
    who: Caller,
    case_id: Any,
    cmd: CaseNoteIn,
    directory: Directory,
    idempotency_key: str | None,
) -> CaseNoteOut:
    """Write a note to the other office; not once the case is shipped or cancelled."""
    case = visible(session, who=who, case_id=case_id)

    def make() -> CaseNoteOut:
        if case.stage in CLOSED:
            raise Conflict(
                f"The case is {case.stage}: no more notes can be written on it.",
                details={"stage": case.stage, "requested": "add_note"},
            )
        names = directory.user_names([who.user_id]) if who.user_id else {}
        note = CaseNote(
            id=uuid.uuid4(),
            case_id=case.id,
            office_id=who.office_id,
            author_user_id=who.user_id,
            author_client_id=who.client_id,
            author_name=names.get(who.user_id) if who.user_id else None,
            body=cmd.body,
            at=now(),
        )
        session.add(note)
        other = (
            case.lab_office_id if who.office_id == case.client_office_id else case.client_office_id
        )
        record_event(
            session,
            CaseNoteAdded(
                case_id=case.id,
                reference=case.reference,
                note_id=note.id,
                author_office_id=who.office_id,
                recipient_office_id=other,
            ),
        )
        return _out(note, office_id=who.office_id, last_read=NEVER)

    return idempotency.once(
        session,
        office_id=who.office_id,
        operation=f"add_note:{case.id}",
        key=idempotency_key,
        model=CaseNoteOut,
        make=make,
    )


def mark_notes_read(session: Session, *, who: Caller, case_id: Any) -> None:
    """Every note of the case counts as read by the caller's office from now on."""
    case = visible(session, who=who, case_id=case_id)
    at = now()
    statement = insert(CaseNoteRead).values(
        case_id=case.id, office_id=who.office_id, last_read_at=at
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[CaseNoteRead.case_id, CaseNoteRead.office_id],
            set_={"last_read_at": func.greatest(CaseNoteRead.last_read_at, at)},
        )
    )
