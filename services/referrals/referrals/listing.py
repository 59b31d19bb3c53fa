"""The sent and received boxes: filters, sorting, pages, "needs attention", the dashboard.

Needs attention: in the received box, a referral not yet accepted (``sent``)
or with notes new to the office; in the sent box, a declined referral or one
with new notes.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from referrals.models import Referral
from referrals.notes import new_notes_count
from shared.contracts import Caller
from shared.contracts.referrals import (
    Box,
    BoxCounts,
    Dashboard,
    ListQuery,
    ReferralPage,
    ReferralSummary,
    Stage,
)
from shared.validation import field_error

_URGENCY_RANK = case({"routine": 0, "soon": 1, "urgent": 2}, value=Referral.urgency, else_=0)


def _in_box(box: Box, office_id: UUID) -> ColumnElement[bool]:
    if box == Box.sent:
        return Referral.sender_office_id == office_id
    return and_(Referral.receiver_office_id == office_id, Referral.stage != Stage.draft)


def _other_office_name(box: Box) -> Any:
    return Referral.receiver_office_name if box == Box.sent else Referral.sender_office_name


def _needs_attention(box: Box, new_notes: ColumnElement[int]) -> ColumnElement[bool]:
    waiting = Stage.declined if box == Box.sent else Stage.sent
    return or_(Referral.stage == waiting, new_notes > 0)


def _sort_column(query: ListQuery) -> list[Any]:
    descending = query.sort.startswith("-")
    name = query.sort.lstrip("-")
    columns: dict[str, Any] = {
        "sent_at": Referral.sent_at,
        "updated_at": Referral.updated_at,
        "created_at": Referral.created_at,
        "appointment_at": Referral.appointment_at,
        "patient_name": func.lower(Referral.patient_name),
        "reference": Referral.reference,
        "stage": Referral.stage,
        "urgency": _URGENCY_RANK,
        "other_office": func.lower(_other_office_name(query.box)),
    }
    if name not in columns:
        raise field_error("sort", f"Sort by one of: {', '.join(columns)} ('-' for descending).")
    column = columns[name]
    ordered = column.desc().nulls_last() if descending else column.asc().nulls_last()
    tie = Referral.id.desc() if descending else Referral.id.asc()
    return [ordered, tie]


def _filtered(query: ListQuery, office_id: UUID, statement: Select[Any]) -> Select[Any]:
    statement = statement.where(_in_box(query.box, office_id))
    if query.stage:
        statement = statement.where(Referral.stage.in_([s.value for s in query.stage]))
    if query.other_office_id is not None:
        other = Referral.receiver_office_id if query.box == Box.sent else Referral.sender_office_id
        statement = statement.where(other == query.other_office_id)
    if query.procedure_id is not None:
        statement = statement.where(Referral.procedure_ids.contains([query.procedure_id]))
    if query.sent_from is not None:
        statement = statement.where(Referral.sent_at >= _day_start(query.sent_from))
    if query.sent_to is not None:
        statement = statement.where(Referral.sent_at < _day_start(query.sent_to) + timedelta(1))
    if query.q:
        text = query.q.strip()
        statement = statement.where(
            or_(
                func.lower(Referral.patient_name).contains(text.lower(), autoescape=True),
                Referral.reference.startswith(text.upper(), autoescape=True),
            )
        )
    return statement


def _day_start(day: Any) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def list_referrals(session: Session, *, who: Caller, query: ListQuery) -> ReferralPage:
    """One page of the caller's sent or received box, with the total."""
    order = _sort_column(query)
    new_notes = new_notes_count(who.office_id)
    total = session.scalar(
        _filtered(query, who.office_id, select(func.count()).select_from(Referral))
    )
    rows = session.execute(
        _filtered(
            query,
            who.office_id,
            select(Referral, new_notes.label("new_notes")),
        )
        .order_by(*order)
        .limit(query.page_size)
        .offset((query.page - 1) * query.page_size)
    ).all()
    items = [_summary(referral, count, query.box) for referral, count in rows]
    return ReferralPage(items=items, total=total or 0, page=query.page, page_size=query.page_size)


def _summary(referral: Referral, new_notes: int, box: Box) -> ReferralSummary:
    waiting = Stage.declined if box == Box.sent else Stage.sent
    return ReferralSummary(
        id=referral.id,
        reference=referral.reference,
        stage=referral.stage,
        urgency=referral.urgency,
        patient_name=referral.patient_name,
        sender_office_id=referral.sender_office_id,
        sender_office_name=referral.sender_office_name,
        receiver_office_id=referral.receiver_office_id,
        receiver_office_name=referral.receiver_office_name,
        procedures=list(referral.procedure_names),
        sent_at=referral.sent_at,
        updated_at=referral.updated_at,
        appointment_at=referral.appointment_at,
        new_notes=new_notes,
        needs_attention=referral.stage == waiting or new_notes > 0,
    )


def _box_counts(session: Session, *, office_id: UUID, box: Box) -> BoxCounts:
    new_notes = new_notes_count(office_id)
    inner = (
        select(
            Referral.stage.label("stage"),
            new_notes.label("new_notes"),
            _needs_attention(box, new_notes).label("attention"),
        )
        .where(_in_box(box, office_id))
        .subquery()
    )
    rows = session.execute(
        select(
            inner.c.stage,
            func.count(),
            func.coalesce(func.sum(inner.c.new_notes), 0),
            func.count().filter(inner.c.attention),
        ).group_by(inner.c.stage)
    ).all()
    return BoxCounts(
        by_stage={stage: count for stage, count, _, _ in rows},
        needs_attention=sum(attention for *_, attention in rows),
        unread_notes=sum(int(unread) for _, _, unread, _ in rows),
    )


def get_dashboard(session: Session, *, who: Caller) -> Dashboard:
    """Counts by stage for both boxes, with what needs attention and the unread notes."""
    return Dashboard(
        sent=_box_counts(session, office_id=who.office_id, box=Box.sent),
        received=_box_counts(session, office_id=who.office_id, box=Box.received),
    )
