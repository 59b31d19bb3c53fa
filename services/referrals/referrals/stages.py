"""The stage machine: who may move a referral where, with the timeline and the events.

sent -> accepted | declined (reason) | forwarded (to another office) ->
contacted -> booked (appointment) -> completed -> closed. ``accepted`` may go
straight to ``booked``; ``booked`` may be booked again. The receiver moves it
on; the sender may cancel (reason) until the appointment is booked.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from referrals.access import visible
from referrals.content import Context, check_receiver
from referrals.exceptions import StageConflict
from referrals.models import Referral, StageEntry, now
from referrals.references import new_reference
from shared.contracts import Caller
from shared.contracts.referrals import (
    ReferralCancelled,
    ReferralSent,
    ReferralStageChanged,
    Stage,
    StageChange,
)
from shared.errors import PermissionDenied
from shared.outbox import record_event
from shared.validation import invalid

S = Stage
RECEIVER_MOVES: dict[Stage, set[Stage]] = {
    S.sent: {S.accepted, S.declined, S.forwarded},
    S.accepted: {S.contacted, S.booked},
    S.contacted: {S.booked},
    S.booked: {S.booked, S.completed},
    S.completed: {S.closed},
}
SENDER_MOVES: dict[Stage, set[Stage]] = {
    S.sent: {S.cancelled},
    S.accepted: {S.cancelled},
    S.contacted: {S.cancelled},
}
CLOSED = {S.closed, S.cancelled}
_ORDER = list(Stage)


def allowed(referral: Referral, office_id: uuid.UUID) -> list[Stage]:
    """The stages the office may move the referral to now."""
    stage = Stage(referral.stage)
    moves: set[Stage] = set()
    if referral.receiver_office_id == office_id:
        moves |= RECEIVER_MOVES.get(stage, set())
    if referral.sender_office_id == office_id:
        moves |= SENDER_MOVES.get(stage, set())
    return sorted(moves, key=_ORDER.index)


def mark_sent(session: Session, *, referral: Referral, who: Caller, at: datetime) -> None:
    """The referral leaves the sender: stage, timeline and the ``referral_sent`` event."""
    referral.stage = S.sent
    referral.sent_at = referral.updated_at = at
    _timeline(session, referral=referral, who=who, stage=S.sent, at=at)
    record_event(
        session,
        ReferralSent(
            referral_id=referral.id,
            reference=referral.reference,
            sender_office_id=referral.sender_office_id,
            receiver_office_id=referral.receiver_office_id,
            sent_by=who.user_id,
            urgency=referral.urgency,
            forwarded_from_id=referral.forwarded_from_id,
        ),
    )


def change_stage(
    session: Session, *, who: Caller, referral_id: object, cmd: StageChange, ctx: Context
) -> Referral:
    """Move the referral to ``cmd.stage`` if the caller's office may; record who and when."""
    referral = visible(session, who=who, referral_id=referral_id, lock=True)
    current, target = Stage(referral.stage), cmd.stage
    if target not in allowed(referral, who.office_id):
        others = set(RECEIVER_MOVES.get(current, set())) | SENDER_MOVES.get(current, set())
        if target in others:
            raise PermissionDenied(f"Only the other office can move the referral to {target}.")
        raise StageConflict(current.value, f"moved to {target.value}")
    _check_details(cmd)
    at = now()
    appointment_at = cmd.appointment_at.astimezone(UTC) if target == S.booked else None
    forwarded_to = None
    if target == S.forwarded:
        forwarded_to = _forward(session, referral=referral, who=who, cmd=cmd, ctx=ctx, at=at).id
    if appointment_at is not None:
        referral.appointment_at = appointment_at
    referral.stage, referral.updated_at = target.value, at
    _timeline(
        session,
        referral=referral,
        who=who,
        stage=target,
        at=at,
        reason=cmd.reason,
        appointment_at=appointment_at,
        forwarded_to=forwarded_to,
    )
    _record_change(session, referral=referral, who=who, previous=current, at=at)
    return referral


def _check_details(cmd: StageChange) -> None:
    errors = []
    if cmd.stage in (S.declined, S.cancelled) and not cmd.reason:
        errors.append({"field": "reason", "message": f"Say why it is {cmd.stage.value}."})
    if cmd.stage == S.forwarded and cmd.forward_to_office_id is None:
        errors.append({"field": "forward_to_office_id", "message": "Choose the office."})
    if cmd.stage == S.booked:
        if cmd.appointment_at is None:
            errors.append({"field": "appointment_at", "message": "Give the date and time."})
        elif cmd.appointment_at.tzinfo is None:
            errors.append(
                {"field": "appointment_at", "message": "Give the time with its UTC offset."}
            )
    if errors:
        raise invalid(errors)


def _forward(
    session: Session,
    *,
    referral: Referral,
    who: Caller,
    cmd: StageChange,
    ctx: Context,
    at: datetime,
) -> Referral:
    """A new referral from the same sender to the new office."""
    assert cmd.forward_to_office_id is not None
    office = check_receiver(
        ctx.directory,
        office_id=cmd.forward_to_office_id,
        not_ids={referral.sender_office_id, referral.receiver_office_id},
    )
    copy = Referral(
        id=uuid.uuid4(),
        reference=new_reference(session),
        stage=S.draft.value,
        created_at=at,
        created_by_user_id=who.user_id,
        created_by_client_id=who.client_id,
        forwarded_from_id=referral.id,
        receiver_office_id=office.id,
        receiver_office_name=office.name,
        receiver_snapshot=office.model_dump(mode="json"),
    )
    for column in [
        "urgency",
        "sender_office_id",
        "sender_office_name",
        "sender_snapshot",
        "referring_provider_id",
        "referring_provider_name",
        "patient",
        "patient_name",
        "procedure_ids",
        "procedure_names",
        "other_procedures",
        "teeth",
        "case_notes",
    ]:
        setattr(copy, column, getattr(referral, column))
    session.add(copy)
    session.flush()
    mark_sent(session, referral=copy, who=who, at=at)
    return copy


def _timeline(
    session: Session,
    *,
    referral: Referral,
    who: Caller,
    stage: Stage,
    at: datetime,
    reason: str | None = None,
    appointment_at: datetime | None = None,
    forwarded_to: uuid.UUID | None = None,
) -> None:
    session.add(
        StageEntry(
            referral_id=referral.id,
            stage=stage.value,
            at=at,
            by_office_id=who.office_id,
            by_user_id=who.user_id,
            by_client_id=who.client_id,
            reason=reason,
            appointment_at=appointment_at,
            forwarded_to=forwarded_to,
        )
    )


def _record_change(
    session: Session, *, referral: Referral, who: Caller, previous: Stage, at: datetime
) -> None:
    assert referral.receiver_office_id is not None
    record_event(
        session,
        ReferralStageChanged(
            referral_id=referral.id,
            reference=referral.reference,
            sender_office_id=referral.sender_office_id,
            receiver_office_id=referral.receiver_office_id,
            stage=referral.stage,
            previous_stage=previous,
            by_office_id=who.office_id,
            by_user_id=who.user_id,
            at=at,
            appointment_at=referral.appointment_at,
        ),
    )
    if referral.stage == S.cancelled:
        record_event(
            session,
            ReferralCancelled(
                referral_id=referral.id,
                reference=referral.reference,
                sender_office_id=referral.sender_office_id,
                receiver_office_id=referral.receiver_office_id,
                by_user_id=who.user_id,
            ),
        )
