"""The stage machine: the lab's legal moves, and entering a stage (history, colour, ship date,
the ``case_stage_changed`` event).

``enter`` is the one way a case changes stage, used by the lab's moves here, by
the client's edits and uploads, and by planning (booking, cancelling, no-show).
"""

from __future__ import annotations

from datetime import date, datetime
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from cases.access import visible
from cases.colours import colour_of, rank_of
from cases.exceptions import StageConflict
from cases.models import Case, CaseHistory, now
from cases.shipdates import estimate
from shared.contracts import Caller
from shared.contracts.cases import CaseShipped, CaseStage, CaseStageChanged, Colour, StageChangeIn
from shared.errors import PermissionDenied
from shared.outbox import record_event
from shared.validation import invalid

S = CaseStage
# The lab's moves (change_stage); on_hold and cancelled are added for every stage but the ends.
LAB_MOVES: dict[CaseStage, tuple[CaseStage, ...]] = {
    S.missing_files: (S.processing,),
    S.processing: (S.received, S.missing_files),
    S.received: (S.ready_to_plan, S.manufacturing, S.missing_files),
    S.ready_to_plan: (S.manufacturing,),
    S.planning_scheduled: (S.manufacturing,),
    S.planning_no_show: (),
    S.manufacturing: (S.finished,),
    S.finished: (S.shipped,),
    S.shipped: (),
    S.cancelled: (),
    S.on_hold: (),
}
CLOSED = frozenset({S.shipped, S.cancelled})
_ORDER = list(CaseStage)


def lab_moves(case: Case) -> list[CaseStage]:
    """Where the lab may move the case now."""
    stage = CaseStage(case.stage)
    moves = list(LAB_MOVES[stage])
    if stage == S.on_hold and case.held_from_stage:
        moves.append(CaseStage(case.held_from_stage))
    if stage not in CLOSED:
        moves += [s for s in (S.on_hold, S.cancelled) if s != stage]
    return sorted(set(moves), key=_ORDER.index)


def allowed(case: Case, who: Caller) -> list[CaseStage]:
    """The stages the caller may move the case to with ``change_stage`` (the lab's only)."""
    return lab_moves(case) if case.lab_office_id == who.office_id else []


def enter(
    session: Session,
    case: Case,
    stage: CaseStage | str,
    *,
    who: Caller,
    reason: str | None = None,
    at: datetime | None = None,
    booking_day: date | None = None,
    new_case: bool = False,
) -> None:
    """Put the case in ``stage`` (no legality check): history, colour, ship date, event.

    ``booking_day`` is the planning session's day (the lab's zone), from which
    Planning Scheduled counts its turnaround. Last Modified is not touched: it
    is the client's (create and edit only). ``new_case`` (the case's first
    stage) has no previous stage and records no ``case_stage_changed``: ``case_created`` says it.
    """
    stage = CaseStage(stage)
    at = at or now()
    previous = CaseStage(case.stage) if case.stage and not new_case else None
    # On Hold remembers the stage it was held in (the lab's way back); any other stage forgets.
    case.held_from_stage = previous.value if stage == S.on_hold and previous else None
    case.stage = stage.value
    case.stage_changed_at = at
    case.colour_rank = rank_of(stage, case.active_booking_id is not None)
    case.ship_earliest, case.ship_latest = estimate(
        session, case, stage, at=at, booking_day=booking_day
    )
    session.add(
        CaseHistory(
            case_id=case.id,
            stage=stage.value,
            previous_stage=previous.value if previous else None,
            at=at,
            by_office_id=who.office_id,
            by_user_id=who.user_id,
            reason=reason,
        )
    )
    if new_case:
        return
    colour = colour_of(stage, case.active_booking_id is not None)
    record_event(
        session,
        CaseStageChanged(
            case_id=case.id,
            reference=case.reference,
            client_office_id=case.client_office_id,
            lab_office_id=case.lab_office_id,
            stage=stage,
            previous_stage=previous,
            colour=colour,
            client_must_act=colour == Colour.red,
            by_office_id=who.office_id,
            by_user_id=who.user_id,
            at=at,
        ),
    )


def refresh_colour(case: Case) -> None:
    """Recompute the colour after the booking changed without a stage change."""
    case.colour_rank = rank_of(case.stage, case.active_booking_id is not None)


def change_stage(session: Session, *, who: Caller, case_id: object, cmd: StageChangeIn) -> Case:
    """The lab moves the case on (legal moves only); records who and when."""
    case = visible(session, who=who, case_id=case_id, lock=True)
    if case.lab_office_id != who.office_id:
        raise PermissionDenied("Only the lab moves a case through its stages.")
    current, target = CaseStage(case.stage), cmd.stage
    if target not in lab_moves(case):
        raise StageConflict(current.value, target.value)
    _check_details(cmd)
    at = now()
    if target == S.shipped:
        assert cmd.carrier and cmd.tracking_number
        case.carrier, case.tracking_number = cmd.carrier, cmd.tracking_number
        case.tracking_url, case.shipped_at = cmd.tracking_url or None, at
    if target == S.cancelled:
        from cases.planning import release_for_cancelled_case  # planning imports this module

        release_for_cancelled_case(session, case=case, who=who, reason=cmd.reason)
    enter(session, case, target, who=who, reason=cmd.reason, at=at)
    if target == S.shipped:
        record_event(
            session,
            CaseShipped(
                case_id=case.id,
                reference=case.reference,
                client_office_id=case.client_office_id,
                lab_office_id=case.lab_office_id,
                carrier=cmd.carrier,
                tracking_number=cmd.tracking_number,
                tracking_url=case.tracking_url,
            ),
        )
    return case


def _check_details(cmd: StageChangeIn) -> None:
    errors = []
    if cmd.stage in (S.on_hold, S.cancelled) and not cmd.reason:
        errors.append({"field": "reason", "message": f"Say why the case is {cmd.stage.value}."})
    if cmd.stage == S.shipped:
        if not cmd.carrier:
            errors.append({"field": "carrier", "message": "Name the carrier."})
        if not cmd.tracking_number:
            errors.append({"field": "tracking_number", "message": "Give the tracking number."})
        if cmd.tracking_url:
            parts = urlsplit(cmd.tracking_url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                errors.append(
                    {"field": "tracking_url", "message": "Give an http:// or https:// link."}
                )
    if errors:
        raise invalid(errors)
