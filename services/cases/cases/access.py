"""Who is calling, and which cases they may see: the client office and the lab only."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from cases.exceptions import CaseNotFound
from cases.models import Case
from shared.contracts import Caller
from shared.contracts.cases import Side
from shared.errors import PermissionDenied
from shared.validation import parse, parse_id


def caller_of(caller: Any) -> Caller:
    """The caller the gateway passed (verified there, from a signed token)."""
    return parse(Caller, caller, field="caller")


def side_of(case: Case, who: Caller) -> Side:
    """The caller's side of a case it may see."""
    return Side.client if case.client_office_id == who.office_id else Side.lab


def visible(session: Session, *, who: Caller, case_id: Any, lock: bool = False) -> Case:
    """The case if the caller's office is its client or its lab, else CaseNotFound (never 403)."""
    cid = parse_id(case_id, field="case_id")
    case = session.get(Case, cid, with_for_update=lock)
    if case is None or who.office_id not in (case.client_office_id, case.lab_office_id):
        raise CaseNotFound()
    return case


def require_client(case: Case, who: Caller) -> None:
    """PermissionDenied unless the caller's office sent the case."""
    if case.client_office_id != who.office_id:
        raise PermissionDenied("Only the office that sent the case can do this.")


def require_lab(case: Case, who: Caller) -> None:
    """PermissionDenied unless the caller's office is the case's lab."""
    if case.lab_office_id != who.office_id:
        raise PermissionDenied("Only the lab can do this.")
