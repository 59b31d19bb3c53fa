"""Each receiving office's procedure list, which referring offices choose from."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from referrals.exceptions import ProcedureNotFound
from referrals.models import Procedure, now
from shared.contracts import Caller
from shared.contracts.referrals import ProcedureIn, ProcedureOut
from shared.errors import Conflict
from shared.validation import parse_id


def list_procedures(session: Session, *, office_id: Any) -> list[ProcedureOut]:
    """The office's current procedures, by name."""
    oid = parse_id(office_id, field="office_id")
    rows = session.scalars(
        select(Procedure)
        .where(Procedure.office_id == oid, Procedure.removed_at.is_(None))
        .order_by(func.lower(Procedure.name), Procedure.id)
    )
    return [ProcedureOut.model_validate(p) for p in rows]


def add_procedure(session: Session, *, who: Caller, cmd: ProcedureIn) -> ProcedureOut:
    """Add a procedure to the caller's office's list (names are unique, ignoring case)."""
    taken = session.scalar(
        select(Procedure.id).where(
            Procedure.office_id == who.office_id,
            Procedure.removed_at.is_(None),
            func.lower(Procedure.name) == cmd.name.lower(),
        )
    )
    if taken is not None:
        raise Conflict(
            f"{cmd.name!r} is already on your list.", details={"procedure_id": str(taken)}
        )
    procedure = Procedure(id=uuid.uuid4(), office_id=who.office_id, name=cmd.name, created_at=now())
    session.add(procedure)
    session.flush()
    return ProcedureOut.model_validate(procedure)


def remove_procedure(session: Session, *, who: Caller, procedure_id: Any) -> None:
    """Take a procedure off the caller's office's list (referrals keep its name)."""
    pid = parse_id(procedure_id, field="procedure_id")
    procedure = session.get(Procedure, pid)
    if procedure is None or procedure.office_id != who.office_id or procedure.removed_at:
        raise ProcedureNotFound()
    procedure.removed_at = now()
