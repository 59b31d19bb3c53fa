"""The client's side of a case: creating it, editing it (and asking first what an edit would do
to the ship date), filing it in its archive."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy.orm import Session

from cases import stages, views
from cases.access import require_client, visible
from cases.colours import rank_of
from cases.exceptions import NotEditable
from cases.idempotency import once
from cases.models import Case, now
from cases.references import new_reference
from cases.shipdates import estimate, local_day, zone
from shared.contracts import Caller
from shared.contracts.cases import (
    CaseCreated,
    CaseCreatedEvent,
    CaseEdit,
    CaseIn,
    CaseStage,
    CaseUpdated,
    ShipEstimate,
)
from shared.contracts.identity import OfficeKind, OfficeProfile
from shared.directory import Directory
from shared.errors import PermissionDenied
from shared.outbox import record_event
from shared.teeth import Notation, UnknownTooth, to_fdi
from shared.validation import FieldError, invalid

S = CaseStage


def parse_teeth(teeth: list[str], notation: Notation, errors: list[FieldError]) -> list[str]:
    """The ISO codes of ``teeth`` written in ``notation`` (each once, in the order given)."""
    codes: list[str] = []
    for i, tooth in enumerate(teeth):
        try:
            code = to_fdi(tooth, notation)
        except UnknownTooth:
            errors.append(
                {"field": f"teeth.{i}", "message": f"{tooth!r} is not a tooth in {notation.value}."}
            )
            continue
        if code not in codes:
            codes.append(code)
    return codes


def _check_due_date(due: date | None, client: OfficeProfile, errors: list[FieldError]) -> None:
    if due is not None and due < local_day(now(), zone(client.time_zone)):
        errors.append({"field": "due_date", "message": "The due date has passed."})


def create_case(
    session: Session,
    *,
    who: Caller,
    cmd: CaseIn,
    directory: Directory,
    idempotency_key: str | None = None,
) -> CaseCreated:
    """A new case from the caller's office to a lab, waiting for its files (once per key)."""
    offices = directory.profiles([who.office_id, cmd.lab_office_id])
    client, lab = offices.get(who.office_id), offices.get(cmd.lab_office_id)
    if client is None or client.kind == OfficeKind.lab:
        raise PermissionDenied("Only a dental office (not a lab) sends cases to a lab.")
    errors: list[FieldError] = []
    if lab is None or lab.kind != OfficeKind.lab or lab.id == client.id:
        errors.append({"field": "lab_office_id", "message": "No such lab."})
    teeth = parse_teeth(cmd.teeth, cmd.notation or client.notation, errors)
    _check_due_date(cmd.due_date, client, errors)
    if errors:
        raise invalid(errors)
    assert lab is not None

    def make() -> CaseCreated:
        at = now()
        case = Case(
            id=uuid.uuid4(),
            reference=new_reference(session, at=at),
            client_office_id=client.id,
            lab_office_id=lab.id,
            client_office_name=client.name,
            lab_office_name=lab.name,
            client_snapshot=client.model_dump(mode="json"),
            lab_snapshot=lab.model_dump(mode="json"),
            patient_name=cmd.patient_name,
            description=cmd.description,
            teeth=teeth,
            due_date=cmd.due_date,
            stage=S.missing_files.value,
            colour_rank=rank_of(S.missing_files, False),
            created_at=at,
            last_modified_at=at,
            stage_changed_at=at,
            version=1,
            created_by_user_id=who.user_id,
        )
        session.add(case)
        session.flush()
        stages.enter(session, case, S.missing_files, who=who, at=at, new_case=True)
        record_event(
            session,
            CaseCreatedEvent(
                case_id=case.id,
                reference=case.reference,
                client_office_id=case.client_office_id,
                lab_office_id=case.lab_office_id,
                created_by_user_id=who.user_id,
            ),
        )
        session.flush()
        return CaseCreated(
            case=views.detail(session, case, who=who, directory=directory),
            confirmation=f"Case {case.reference} was sent to {lab.name or lab.email}.",
            rx_pdf_path=f"/api/v1/cases/{case.id}/rx.pdf",
        )

    return once(
        session,
        office_id=who.office_id,
        operation="create_case",
        key=idempotency_key,
        model=CaseCreated,
        make=make,
    )


def _editable(session: Session, *, who: Caller, case_id: object, lock: bool) -> Case:
    case = visible(session, who=who, case_id=case_id, lock=lock)
    require_client(case, who)
    if case.stage not in views.EDITABLE:
        raise NotEditable(case.stage)
    return case


def _edit_stage(case: Case) -> CaseStage:
    """Where an edit puts the case: Processing, unless its files are still missing."""
    return S.missing_files if case.stage == S.missing_files else S.processing


def edit_case(
    session: Session, *, who: Caller, case_id: object, cmd: CaseEdit, directory: Directory
) -> Case:
    """The client's changes: the case goes back to Processing with a new ship estimate."""
    case = _editable(session, who=who, case_id=case_id, lock=True)
    errors: list[FieldError] = []
    teeth = None
    if cmd.teeth is not None:
        notation = cmd.notation or directory.notation(who.office_id)
        teeth = parse_teeth(cmd.teeth, notation, errors)
    if "due_date" in cmd.model_fields_set:
        _check_due_date(cmd.due_date, OfficeProfile.model_validate(case.client_snapshot), errors)
    if errors:
        raise invalid(errors)
    at = now()
    if cmd.description is not None:
        case.description = cmd.description
    if teeth is not None:
        case.teeth = teeth
    if "due_date" in cmd.model_fields_set:
        case.due_date = cmd.due_date
    case.last_modified_at = at
    case.version += 1
    target = _edit_stage(case)
    if target == S.processing:
        stages.enter(session, case, target, who=who, at=at, reason="edited by the client")
    record_event(
        session,
        CaseUpdated(
            case_id=case.id,
            reference=case.reference,
            client_office_id=case.client_office_id,
            lab_office_id=case.lab_office_id,
            by_user_id=who.user_id,
        ),
    )
    return case


def preview_edit(session: Session, *, who: Caller, case_id: object) -> ShipEstimate:
    """The ship date an edit submitted now would get (nothing changes)."""
    case = _editable(session, who=who, case_id=case_id, lock=False)
    earliest, latest = estimate(session, case, _edit_stage(case), at=now())
    return ShipEstimate(earliest=earliest, latest=latest)


def set_archived(
    session: Session, *, who: Caller, case_id: object, archived: bool, at: datetime | None = None
) -> Case:
    """File the case in (or take it out of) the client's archive; the lab sees no change."""
    case = visible(session, who=who, case_id=case_id, lock=True)
    require_client(case, who)
    if archived and case.archived_at is None:
        case.archived_at = at or now()
    elif not archived:
        case.archived_at = None
    return case
