"""The case list: both sides or one, the client's archive, search, sorting, pages with a total.

The default order is attention: red, yellow, green, white (``colour_rank``), then
the oldest case first, which the ``(office, colour_rank, created_at)`` indexes
serve for either side.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import Select, and_, case, func, or_, select, union_all
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql import ColumnElement

from cases import notes, views
from cases.colours import RANK
from cases.models import Case
from shared.contracts import Caller
from shared.contracts.cases import ArchivedFilter, CaseListQuery, CasePage, CaseStage, Side
from shared.validation import field_error

SORT_KEYS = (
    "attention",
    "reference",
    "patient",
    "stage",
    "last_modified",
    "ship_date",
    "other_office",
    "created_at",
    "due_date",
)


def _client_rows(office_id: UUID, archived: ArchivedFilter) -> ColumnElement[bool]:
    mine = Case.client_office_id == office_id
    if archived == ArchivedFilter.exclude:
        return and_(mine, Case.archived_at.is_(None))
    if archived == ArchivedFilter.only:
        return and_(mine, Case.archived_at.is_not(None))
    return mine


def _lab_rows(office_id: UUID, archived: ArchivedFilter) -> ColumnElement[bool] | None:
    # Archiving is the client's own filing: no case is archived on the lab's side.
    if archived == ArchivedFilter.only:
        return None
    return Case.lab_office_id == office_id


def _sides(query: CaseListQuery, office_id: UUID) -> list[ColumnElement[bool]]:
    """One condition per side asked for (the two never share a case: a lab is not its client)."""
    sides: list[ColumnElement[bool] | None] = []
    if query.side in (None, Side.client):
        sides.append(_client_rows(office_id, query.archived))
    if query.side in (None, Side.lab):
        sides.append(_lab_rows(office_id, query.archived))
    return [side for side in sides if side is not None]


def _order(query: CaseListQuery, office_id: UUID, entity: Any = Case) -> list[Any]:
    """The ORDER BY of ``query.sort`` on ``entity`` (the table, or the union of the sides)."""
    descending = query.sort.startswith("-")
    name = query.sort[1:] if descending else query.sort
    if name not in SORT_KEYS:
        raise field_error("sort", f"Sort by one of: {', '.join(SORT_KEYS)} ('-' for descending).")
    c = entity
    if name == "attention":
        column: Any = c.colour_rank
    elif name == "stage":
        column = case(
            {stage.value: i for i, stage in enumerate(CaseStage)},
            value=c.stage,
            else_=len(CaseStage),
        )
    elif name == "other_office":
        column = func.lower(
            case((c.client_office_id == office_id, c.lab_office_name), else_=c.client_office_name)
        )
    else:
        column = {
            "reference": c.reference,
            "patient": func.lower(c.patient_name),
            "last_modified": c.last_modified_at,
            "ship_date": c.ship_latest,
            "created_at": c.created_at,
            "due_date": c.due_date,
        }[name]
    columns = [column, c.created_at, c.id]
    return [col.desc().nulls_last() if descending else col.asc().nulls_last() for col in columns]


def _filtered(query: CaseListQuery, statement: Select[Any]) -> Select[Any]:
    if query.stage:
        statement = statement.where(Case.stage.in_([s.value for s in query.stage]))
    if query.colour:
        statement = statement.where(Case.colour_rank.in_([RANK[c] for c in query.colour]))
    if query.q:
        text = query.q.strip()
        pattern = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        statement = statement.where(
            or_(
                Case.patient_name.ilike(f"%{pattern}%", escape="\\"),
                Case.reference.startswith(text.upper(), autoescape=True),
            )
        )
    return statement


def list_cases(session: Session, *, who: Caller, query: CaseListQuery) -> CasePage:
    """One page of the caller's cases, with the total.

    Each side is read on its own (its office's index gives the order), then the
    two first pages are merged: an office's list never scans the other side.
    """
    order = _order(query, who.office_id)
    sides = _sides(query, who.office_id)
    offset = (query.page - 1) * query.page_size
    total = sum(
        session.scalar(_filtered(query, select(func.count()).select_from(Case).where(side))) or 0
        for side in sides
    )
    rows: list[Case] = []
    if len(sides) == 1:
        statement = _filtered(query, select(Case).where(sides[0])).order_by(*order)
        rows = list(session.scalars(statement.limit(query.page_size).offset(offset)))
    elif sides:
        branches = [
            _filtered(query, select(Case).where(side))
            .order_by(*order)
            .limit(offset + query.page_size)
            for side in sides
        ]
        both = aliased(Case, union_all(*branches).subquery("both_sides"))
        statement = (
            select(both)
            .order_by(*_order(query, who.office_id, both))
            .limit(query.page_size)
            .offset(offset)
        )
        rows = list(session.scalars(statement))
    new_notes = notes.new_notes_by_case(
        session, office_id=who.office_id, case_ids=[c.id for c in rows]
    )
    return CasePage(
        items=[views.summary(c, who=who, new_notes=new_notes.get(c.id, 0)) for c in rows],
        total=total,
        page=query.page,
        page_size=query.page_size,
    )
