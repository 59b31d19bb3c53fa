"""Cases as a reader sees them: teeth in the reader's notation, the reader's side and moves."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases import attachments, planning
from cases.access import side_of
from cases.colours import colour_of
from cases.models import Case, CaseHistory
from cases.shipdates import ship_estimate
from cases.stages import allowed
from shared.contracts import Caller
from shared.contracts.cases import (
    STAGE_LABELS,
    CaseDetail,
    CaseStage,
    CaseSummary,
    HistoryEntry,
    Shipment,
    Side,
    ToothOut,
)
from shared.contracts.identity import OfficeProfile
from shared.directory import Directory
from shared.teeth import from_fdi

# The stages in which the client may edit the case (README: "Client edits").
EDITABLE = frozenset(
    {
        CaseStage.missing_files,
        CaseStage.processing,
        CaseStage.received,
        CaseStage.ready_to_plan,
        CaseStage.planning_no_show,
    }
)


def case_url(public_url: str, case: Case) -> str:
    return f"{public_url}/cases/{case.id}"


def colour(case: Case) -> Any:
    return colour_of(case.stage, case.active_booking_id is not None)


def shipment(case: Case) -> Shipment | None:
    if case.shipped_at is None or not case.carrier or not case.tracking_number:
        return None
    return Shipment(
        carrier=case.carrier,
        tracking_number=case.tracking_number,
        tracking_url=case.tracking_url,
        shipped_at=case.shipped_at,
    )


def history(session: Session, case: Case) -> list[HistoryEntry]:
    entries = session.scalars(
        select(CaseHistory).where(CaseHistory.case_id == case.id).order_by(CaseHistory.id)
    )
    return [HistoryEntry.model_validate(entry) for entry in entries]


def detail(
    session: Session,
    case: Case,
    *,
    who: Caller,
    directory: Directory,
) -> CaseDetail:
    """Everything about the case, teeth in the reader's office's notation."""
    notation = directory.notation(who.office_id)
    side = side_of(case, who)
    viewer_zone = (case.client_snapshot if side == Side.client else case.lab_snapshot).get(
        "time_zone"
    )
    stage = CaseStage(case.stage)
    return CaseDetail(
        id=case.id,
        reference=case.reference,
        patient_name=case.patient_name,
        description=case.description,
        teeth=[ToothOut(iso=t, label=from_fdi(t, notation)) for t in case.teeth],
        notation=notation,
        stage=stage,
        stage_label=STAGE_LABELS[stage],
        colour=colour(case),
        side=side,
        client=OfficeProfile.model_validate(case.client_snapshot),
        lab=OfficeProfile.model_validate(case.lab_snapshot),
        created_by_user_id=case.created_by_user_id,
        created_at=case.created_at,
        last_modified_at=case.last_modified_at,
        due_date=case.due_date,
        ship=ship_estimate(case),
        shipment=shipment(case),
        booking=planning.booking_out(
            session, case, viewer_time_zone=viewer_zone, public_url=directory.public_url
        ),
        archived=side == Side.client and case.archived_at is not None,
        history=history(session, case),
        file_ids=attachments.file_ids(session, case_id=case.id),
        allowed_stages=allowed(case, who),
        editable=side == Side.client and stage in EDITABLE,
        url=case_url(directory.public_url, case),
    )


def summary(case: Case, *, who: Caller, new_notes: int = 0) -> CaseSummary:
    """A row of the case list, for the caller's side (``new_notes``: new to its office)."""
    side = side_of(case, who)
    stage = CaseStage(case.stage)
    return CaseSummary(
        id=case.id,
        reference=case.reference,
        patient_name=case.patient_name,
        stage=stage,
        stage_label=STAGE_LABELS[stage],
        colour=colour(case),
        client_office_id=case.client_office_id,
        client_office_name=case.client_office_name,
        lab_office_id=case.lab_office_id,
        lab_office_name=case.lab_office_name,
        side=side,
        last_modified_at=case.last_modified_at,
        ship_date=case.ship_latest,
        due_date=case.due_date,
        created_at=case.created_at,
        archived=side == Side.client and case.archived_at is not None,
        new_notes=new_notes,
    )
