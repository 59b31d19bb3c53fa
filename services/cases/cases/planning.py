"""Planning slots and bookings: the domain (see the README's "Planning sessions").

A lab publishes slots; a client books one for a case that is Ready to Plan
(or Planning No Show). Exactly one booking holds a slot: the insert is
``ON CONFLICT DO NOTHING`` against the partial unique index on the slot's
holding booking, so of twenty concurrent bookings one inserts and nineteen
find the row and get ``conflict``. Only the lab changes a booking afterwards.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cases import stages
from cases.access import require_lab, visible
from cases.models import Case, now
from cases.planning_models import BOOKED, CANCELLED, NO_SHOW, PlanningBooking, PlanningSlot
from cases.planning_rules import (
    LabOnly,
    SlotNotFound,
    SlotTaken,
    check_bookable,
    lab_day,
    local_instant,
    slot_instants,
    validate_join,
    zone_of,
)
from cases.planning_views import active_booking
from cases.planning_views import booking_out as booking_out  # cases.views reads it from here
from cases.shipdates import estimate
from shared.contracts import Caller
from shared.contracts.cases import (
    BookingCancelIn,
    BookingIn,
    CaseStage,
    PlanningBooked,
    PlanningCancelled,
    RescheduleIn,
    SlotIn,
    SlotOut,
    SlotQuery,
)
from shared.errors import Conflict, PermissionDenied
from shared.outbox import record_event
from shared.validation import field_error, parse_id

S = CaseStage
BOOKABLE = (S.ready_to_plan, S.planning_no_show)
MAX_WINDOW = timedelta(days=92)

# ----------------------------------------------------------------- slots


def slot_out(slot: PlanningSlot, *, zone: str, booked: bool = False) -> SlotOut:
    """The slot with its times in ``zone`` (the viewer's)."""
    tz = ZoneInfo(zone)
    return SlotOut(
        id=slot.id,
        lab_office_id=slot.lab_office_id,
        start=slot.starts_at.astimezone(tz),
        end=slot.ends_at.astimezone(tz),
        time_zone=zone,
        lab_time_zone=slot.time_zone,
        mode=slot.mode,
        booked=booked,
    )


def lock(session: Session, key: str) -> None:
    """A transaction-long lock on ``key`` (a lab's slots, an office's feed)."""
    session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(key, 0))))


def publish_slots(session: Session, *, who: Caller, cmd: SlotIn) -> list[SlotOut]:
    """One slot, or one per week of the pattern, for the caller's lab; none may overlap."""
    validate_join(cmd)
    instants = slot_instants(cmd)
    lock(session, f"planning_slots:{who.office_id}")
    existing = session.execute(
        select(PlanningSlot.starts_at, PlanningSlot.ends_at).where(
            PlanningSlot.lab_office_id == who.office_id,
            PlanningSlot.deleted_at.is_(None),
            PlanningSlot.starts_at < instants[-1][1],
            PlanningSlot.ends_at > instants[0][0],
        )
    ).all()
    for start, end in instants:
        if any(s < end and e > start for s, e in existing):
            raise Conflict(
                f"The slot at {start.astimezone(ZoneInfo(cmd.time_zone)):%Y-%m-%d %H:%M} overlaps "
                "one of your published slots.",
                details={"field": "start", "start": start.isoformat()},
            )
    series = uuid.uuid4() if len(instants) > 1 else None
    slots = [
        PlanningSlot(
            id=uuid.uuid4(),
            lab_office_id=who.office_id,
            starts_at=start,
            ends_at=end,
            time_zone=cmd.time_zone,
            mode=cmd.mode.value,
            join_url=cmd.join_url or None,
            join_details=cmd.join_details or None,
            series_id=series,
            created_at=now(),
            created_by_user_id=who.user_id,
        )
        for start, end in instants
    ]
    session.add_all(slots)
    session.flush()
    return [slot_out(slot, zone=cmd.time_zone) for slot in slots]


def list_slots(session: Session, *, who: Caller, query: SlotQuery, zone: str) -> list[SlotOut]:
    """The lab's free slots overlapping [start, end), in ``zone``; the lab also sees booked ones."""
    tz = zone_of(zone, field="time_zone")
    start = local_instant(query.start, tz, field="start")
    end = local_instant(query.end, tz, field="end")
    if end <= start:
        raise field_error("end", "Must be after start.")
    if end - start > MAX_WINDOW:
        raise field_error("end", "At most 92 days after start.")
    held = (
        select(PlanningBooking.id)
        .where(PlanningBooking.slot_id == PlanningSlot.id, PlanningBooking.status != CANCELLED)
        .exists()
    )
    own = query.lab_office_id == who.office_id
    stmt = (
        select(PlanningSlot, held.label("held"))
        .where(
            PlanningSlot.lab_office_id == query.lab_office_id,
            PlanningSlot.deleted_at.is_(None),
            PlanningSlot.starts_at < end,
            PlanningSlot.ends_at > start,
        )
        .order_by(PlanningSlot.starts_at)
    )
    if not own:
        stmt = stmt.where(~held, PlanningSlot.starts_at > now())
    return [slot_out(slot, zone=zone, booked=bool(h)) for slot, h in session.execute(stmt)]


def delete_slot(session: Session, *, who: Caller, slot_id: Any) -> None:
    """Withdraw one of the caller's lab's slots; a booked one is a conflict."""
    slot = _own_slot(session, who=who, slot_id=slot_id)
    booked = session.scalar(
        select(PlanningBooking.id).where(
            PlanningBooking.slot_id == slot.id, PlanningBooking.status == BOOKED
        )
    )
    if booked is not None:
        raise Conflict("This slot is booked: cancel the booking first.")
    slot.deleted_at = now()


def _own_slot(session: Session, *, who: Caller, slot_id: Any) -> PlanningSlot:
    sid = parse_id(slot_id, field="slot_id")
    slot = session.get(PlanningSlot, sid, with_for_update=True)
    if slot is None or slot.deleted_at is not None or slot.lab_office_id != who.office_id:
        raise SlotNotFound()
    return slot


def _bookable_slot(session: Session, *, case: Case, slot_id: Any) -> PlanningSlot:
    """A live slot of the case's lab that has not started."""
    # A share lock: bookers do not wait on each other, but a concurrent delete_slot waits.
    slot = session.get(
        PlanningSlot, parse_id(slot_id, field="slot_id"), with_for_update={"read": True}
    )
    if slot is None or slot.deleted_at is not None or slot.lab_office_id != case.lab_office_id:
        raise SlotNotFound()
    check_bookable(slot.starts_at)
    return slot


# ----------------------------------------------------------------- bookings


def book_slot(session: Session, *, who: Caller, case_id: Any, cmd: BookingIn) -> PlanningBooking:
    """The client books a free slot of the case's lab; the case moves to Planning Scheduled."""
    case = visible(session, who=who, case_id=case_id, lock=True)
    if case.client_office_id != who.office_id:
        raise PermissionDenied("Only the office that sent the case books its planning session.")
    if case.stage not in BOOKABLE:
        raise Conflict(
            f"The case is {case.stage}: a session can be booked when it is ready_to_plan "
            "or planning_no_show.",
            details={"stage": case.stage, "requested": "book"},
        )
    slot = _bookable_slot(session, case=case, slot_id=cmd.slot_id)
    at = now()
    booking_id = session.scalar(
        insert(PlanningBooking)
        .values(
            id=uuid.uuid4(),
            case_id=case.id,
            slot_id=slot.id,
            status=BOOKED,
            sequence=0,
            booked_at=at,
            booked_by_user_id=who.user_id,
            updated_at=at,
        )
        # The partial unique index decides: a concurrent insert waits, then does nothing.
        .on_conflict_do_nothing()
        .returning(PlanningBooking.id)
    )
    if booking_id is None:
        raise SlotTaken()
    booking = session.get_one(PlanningBooking, booking_id)
    case.active_booking_id = booking.id
    stages.enter(session, case, S.planning_scheduled, who=who, at=at, booking_day=lab_day(slot))
    _booked_event(session, case=case, booking=booking, slot=slot, rescheduled=False)
    return booking


def _lab_change(session: Session, *, who: Caller, case_id: Any) -> tuple[Case, PlanningBooking]:
    """The case and its booking, for a change only the lab may make (the client: LabOnly)."""
    case = visible(session, who=who, case_id=case_id, lock=True)
    if case.client_office_id == who.office_id:
        raise LabOnly()
    booking = active_booking(session, case)
    if case.stage != S.planning_scheduled:
        raise Conflict(
            f"The case is {case.stage}: its planning session can no longer be changed.",
            details={"stage": case.stage},
        )
    return case, booking


def reschedule_booking(
    session: Session, *, who: Caller, case_id: Any, cmd: RescheduleIn
) -> PlanningBooking:
    """The lab moves the booking to another free slot of its own (same UID, next SEQUENCE)."""
    case, booking = _lab_change(session, who=who, case_id=case_id)
    slot = _bookable_slot(session, case=case, slot_id=cmd.slot_id)
    if slot.id == booking.slot_id:
        return booking
    try:
        with session.begin_nested():
            booking.slot_id = slot.id
            session.flush()
    except IntegrityError:
        raise SlotTaken() from None
    at = now()
    booking.sequence += 1
    booking.updated_at = at
    case.ship_earliest, case.ship_latest = estimate(
        session, case, S.planning_scheduled, at=at, booking_day=lab_day(slot)
    )
    _booked_event(session, case=case, booking=booking, slot=slot, rescheduled=True)
    return booking


def cancel_booking(session: Session, *, who: Caller, case_id: Any, cmd: BookingCancelIn) -> Case:
    """The lab cancels the booking: the slot is free again, the case is back to Ready to Plan."""
    case, booking = _lab_change(session, who=who, case_id=case_id)
    _end(session, case=case, booking=booking, who=who, status=CANCELLED, reason=cmd.reason)
    stages.enter(session, case, S.ready_to_plan, who=who, reason=cmd.reason)
    return case


def mark_no_show(session: Session, *, who: Caller, case_id: Any) -> Case:
    """The client missed the session: the slot stays used, the case is Planning No Show."""
    require_lab(visible(session, who=who, case_id=case_id, lock=True), who)
    case, booking = _lab_change(session, who=who, case_id=case_id)
    _end(session, case=case, booking=booking, who=who, status=NO_SHOW, reason=None)
    stages.enter(session, case, S.planning_no_show, who=who)
    return case


def release_for_cancelled_case(
    session: Session, *, case: Case, who: Caller, reason: str | None
) -> None:
    """The lab cancels a case with a session booked: the booking ends and its slot is free."""
    if case.active_booking_id is None:
        return
    booking = session.get(PlanningBooking, case.active_booking_id)
    if booking is None or booking.status != BOOKED:
        case.active_booking_id = None
        return
    _end(session, case=case, booking=booking, who=who, status=CANCELLED, reason=reason)


def _end(
    session: Session,
    *,
    case: Case,
    booking: PlanningBooking,
    who: Caller,
    status: str,
    reason: str | None,
) -> None:
    at = now()
    booking.status, booking.ended_at, booking.updated_at = status, at, at
    booking.ended_by_user_id, booking.end_reason = who.user_id, reason
    case.active_booking_id = None
    session.flush()
    record_event(
        session,
        PlanningCancelled(
            case_id=case.id,
            reference=case.reference,
            booking_id=booking.id,
            client_office_id=case.client_office_id,
            lab_office_id=case.lab_office_id,
            no_show=status == NO_SHOW,
        ),
    )


def _booked_event(
    session: Session,
    *,
    case: Case,
    booking: PlanningBooking,
    slot: PlanningSlot,
    rescheduled: bool,
) -> None:
    record_event(
        session,
        PlanningBooked(
            case_id=case.id,
            reference=case.reference,
            booking_id=booking.id,
            client_office_id=case.client_office_id,
            lab_office_id=case.lab_office_id,
            start=slot.starts_at,
            end=slot.ends_at,
            time_zone=slot.time_zone,
            rescheduled=rescheduled,
        ),
    )
