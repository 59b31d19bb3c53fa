"""Planning sessions as readers see them: the booking, its calendar file and Google link.

Times are shown in the lab's zone (the zone of the calendar file); nothing
here carries patient data (see ``cases.calendar``).
"""

from __future__ import annotations

import uuid
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases import calendar
from cases.access import visible
from cases.models import Case
from cases.planning_models import BOOKED, PlanningBooking, PlanningSlot
from cases.planning_rules import BookingNotFound
from shared.contracts import Caller
from shared.contracts.cases import BookingOut


def active_booking(session: Session, case: Case) -> PlanningBooking:
    """The case's booking in force, else BookingNotFound."""
    booking = (
        session.get(PlanningBooking, case.active_booking_id) if case.active_booking_id else None
    )
    if booking is None or booking.status != BOOKED:
        raise BookingNotFound()
    return booking


def case_url(public_url: str | None, case: Case) -> str | None:
    """The case in the web app."""
    return f"{public_url.rstrip('/')}/cases/{case.id}" if public_url else None


def calendar_session(
    case: Case, booking: PlanningBooking, slot: PlanningSlot, *, public_url: str | None
) -> calendar.Session:
    """What a calendar shows of a booked session (no patient data)."""
    return calendar.Session(
        booking_id=booking.id,
        sequence=booking.sequence,
        reference=case.reference,
        lab_name=case.lab_office_name,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        time_zone=slot.time_zone,
        join_url=slot.join_url,
        join_details=slot.join_details,
        case_url=case_url(public_url, case),
    )


def booking_out(
    session: Any,
    case: Any,
    *,
    viewer_time_zone: str | None = None,
    public_url: str | None = None,
) -> BookingOut | None:
    """The case's active booking as ``BookingOut`` (times in the lab's zone), or None.

    ``viewer_time_zone`` is accepted for symmetry with the slot list; a booking is
    shown in the lab's zone, the zone of its calendar file.
    """
    if case.active_booking_id is None:
        return None
    booking = session.get(PlanningBooking, case.active_booking_id)
    if booking is None or booking.status != BOOKED:
        return None
    slot = session.get_one(PlanningSlot, booking.slot_id)
    tz = ZoneInfo(slot.time_zone)
    shown = calendar_session(case, booking, slot, public_url=public_url)
    return BookingOut(
        id=booking.id,
        case_id=case.id,
        slot_id=slot.id,
        start=slot.starts_at.astimezone(tz),
        end=slot.ends_at.astimezone(tz),
        time_zone=slot.time_zone,
        mode=slot.mode,
        join_url=slot.join_url,
        join_details=slot.join_details,
        booked_at=booking.booked_at,
        booked_by_user_id=booking.booked_by_user_id,
        google_calendar_url=calendar.google_calendar_url(shown),
        ics_path=f"/api/v1/cases/{case.id}/booking.ics",
    )


def get_booking(session: Session, *, who: Caller, case_id: Any, public_url: str) -> BookingOut:
    """The case's booking in force, else not_found."""
    case = visible(session, who=who, case_id=case_id)
    out = booking_out(session, case, public_url=public_url)
    if out is None:
        raise BookingNotFound()
    return out


def render_booking_ics(
    session: Session, *, who: Caller, case_id: Any, public_url: str
) -> dict[str, str]:
    """The booked session as an RFC 5545 calendar file."""
    case = visible(session, who=who, case_id=case_id)
    booking = active_booking(session, case)
    slot = session.get_one(PlanningSlot, booking.slot_id)
    content = calendar.calendar([calendar_session(case, booking, slot, public_url=public_url)])
    return {"filename": f"{case.reference}-planning.ics", "content": content}


def booked_sessions(session: Session, *, office_id: uuid.UUID, public_url: str) -> list[Any]:
    """Every booked session of the office, as client or as lab, soonest first."""
    rows = session.execute(
        select(Case, PlanningBooking, PlanningSlot)
        .join(PlanningBooking, PlanningBooking.case_id == Case.id)
        .join(PlanningSlot, PlanningSlot.id == PlanningBooking.slot_id)
        .where(
            PlanningBooking.status == BOOKED,
            (Case.client_office_id == office_id) | (Case.lab_office_id == office_id),
        )
        .order_by(PlanningSlot.starts_at)
    ).all()
    return [calendar_session(c, b, s, public_url=public_url) for c, b, s in rows]
