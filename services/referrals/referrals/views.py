"""Referrals as a reader sees them: teeth in the reader's notation, notes flagged for them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from referrals import attachments
from referrals.access import visible
from referrals.models import Referral, StageEntry
from referrals.notes import notes_of
from referrals.stages import allowed
from shared.contracts import Caller
from shared.contracts.identity import OfficeProfile
from shared.contracts.referrals import (
    Party,
    PatientIn,
    PatientOut,
    ProcedureOut,
    ReferralDetail,
    TimelineEntry,
    ToothOut,
)
from shared.directory import Directory
from shared.teeth import from_fdi


def get_referral(
    session: Session, *, who: Caller, referral_id: Any, directory: Directory
) -> ReferralDetail:
    """The referral, for the sending or the receiving office."""
    referral = visible(session, who=who, referral_id=referral_id)
    return detail(session, referral=referral, who=who, directory=directory)


def _party(snapshot: Any, provider_id: Any, provider_name: str | None) -> Party | None:
    if not snapshot:
        return None
    office = OfficeProfile.model_validate(snapshot)
    return Party(office=office, provider_id=provider_id, provider_name=provider_name)


def detail(
    session: Session, *, referral: Referral, who: Caller, directory: Directory
) -> ReferralDetail:
    """Everything about the referral, teeth in the reader's office's notation."""
    notation = directory.notation(who.office_id)
    timeline = session.scalars(
        select(StageEntry).where(StageEntry.referral_id == referral.id).order_by(StageEntry.id)
    )
    patient = PatientIn.model_validate(referral.patient or {}).model_dump(mode="json")
    sender = _party(
        referral.sender_snapshot, referral.referring_provider_id, referral.referring_provider_name
    )
    assert sender is not None
    return ReferralDetail(
        id=referral.id,
        reference=referral.reference,
        stage=referral.stage,
        urgency=referral.urgency,
        sender=sender,
        receiver=_party(
            referral.receiver_snapshot,
            referral.requested_provider_id,
            referral.requested_provider_name,
        ),
        patient=PatientOut.model_validate(patient),
        procedures=[
            ProcedureOut(id=pid, name=name)
            for pid, name in zip(referral.procedure_ids, referral.procedure_names, strict=True)
        ],
        other_procedures=referral.other_procedures,
        teeth=[ToothOut(iso=t, label=from_fdi(t, notation)) for t in referral.teeth],
        notation=notation,
        case_notes=referral.case_notes,
        created_at=referral.created_at,
        sent_at=referral.sent_at,
        updated_at=referral.updated_at,
        appointment_at=referral.appointment_at,
        forwarded_from_id=referral.forwarded_from_id,
        timeline=[TimelineEntry.model_validate(entry) for entry in timeline],
        notes=notes_of(session, referral=referral, office_id=who.office_id),
        file_ids=attachments.file_ids(session, referral_id=referral.id),
        allowed_stages=allowed(referral, who.office_id),
    )
