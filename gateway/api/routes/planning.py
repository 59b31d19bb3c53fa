"""Planning sessions: the lab's slots, the client's booking of one for a case, calendar files and
each office's private calendar subscription. Every route forwards to the cases service
(services/cases/README.md, "Planning sessions" and "Calendar files").

A case's booking is seen by the case's two offices only: for anyone else the case id is a 404.
The subscription feed (``GET /api/v1/calendar/{token}.ics``) is public: its token is the
secret, so it never reaches a log (the access log prints the route template, not the path).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Body, Path, Query, Response, status

from gateway.api.deps import IdempotencyKeyDep, ServicesDep
from gateway.api.responses import SIGNED_IN, errors
from gateway.api.schemas import example
from gateway.auth.deps import CallerDep
from shared.contracts.cases import (
    BookingCancelIn,
    BookingIn,
    BookingOut,
    CalendarFeedOut,
    CaseDetail,
    RescheduleIn,
    SlotIn,
    SlotOut,
    SlotQuery,
)
from shared.errors import NotFound

router = APIRouter(prefix="/api/v1", tags=["planning"])

CALENDAR_TYPE = "text/calendar; charset=utf-8"
_SAFE_FILENAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
#: What a feed token can look like (256 random bits, URL-safe); anything else is unknown.
_FEED_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,128}")

_NOT_FOUND = "No such case, or the caller's office is neither its client nor its lab"
_NO_BOOKING = _NOT_FOUND + ", or the case has no booking"
_CONTACT_LAB = (
    "The client cannot change or cancel a booking (409: contact the lab), or the case is not "
    "at a stage that allows this (the message names it)"
)

SLOT = {
    **example(
        "One video session",
        {
            "start": "2026-12-03T14:00:00",
            "end": "2026-12-03T14:45:00",
            "time_zone": "America/Toronto",
            "mode": "video",
            "join_url": "https://meet.example.com/acme-lab-planning",
        },
    ),
    **example(
        "Every Tuesday for the next 8 weeks, by remote control",
        {
            "start": "2026-12-01T10:00:00",
            "end": "2026-12-01T11:00:00",
            "time_zone": "Europe/Berlin",
            "mode": "remote_control",
            "join_details": "TeamViewer ID 123 456 789; the password is e-mailed",
            "repeat_weeks": 8,
        },
    ),
}
BOOKING = example("Book a free slot", {"slot_id": "3b2c1d0e-9f8a-4b7c-8d6e-5f4a3b2c1d0e"})
RESCHEDULE = example(
    "Move to another free slot (lab)", {"slot_id": "7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d"}
)
CANCEL = example("Cancel (lab)", {"reason": "Our planner is ill; please book again."})

_ICS: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "An RFC 5545 calendar",
        "content": {"text/calendar": {"schema": {"type": "string"}}},
    }
}


def _calendar(content: Any, *, filename: str | None, **headers: str) -> Response:
    if not isinstance(content, str):
        # The service broke its contract: a 500 whose detail goes to the log.
        raise RuntimeError("the calendar answer has no content")
    if filename is not None:
        headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return Response(content=content.encode(), media_type=CALENDAR_TYPE, headers=headers)


# ----------------------------------------------------------------- slots


@router.get(
    "/planning/slots",
    response_model=list[SlotOut],
    summary="A lab's free planning slots in a window, in the viewer's time zone",
    description=(
        "The slots of `lab` overlapping `from`-`to` (at most 92 days), free ones only (the "
        "lab itself also sees its booked ones, `booked: true`), with start and end in `tz` "
        "(an IANA zone; default: the caller's office's zone)."
    ),
    responses=errors(*SIGNED_IN, 404, s404="No such lab"),
)
async def list_slots(
    lab: Annotated[UUID, Query(description="the lab office")],
    start: Annotated[datetime, Query(alias="from", description="from (inclusive)")],
    end: Annotated[datetime, Query(alias="to", description="to (exclusive)")],
    caller: CallerDep,
    services: ServicesDep,
    tz: Annotated[
        str | None,
        Query(max_length=64, description="the viewer's IANA zone", examples=["Europe/Berlin"]),
    ] = None,
) -> Any:
    query = SlotQuery(lab_office_id=lab, start=start, end=end, time_zone=tz)
    return await services.call("cases", "list_slots", caller=caller, query=query)


@router.post(
    "/planning/slots",
    status_code=status.HTTP_201_CREATED,
    response_model=list[SlotOut],
    summary="Publish a planning slot, or a weekly pattern of them (the lab)",
    description=(
        "`start` and `end` are local to `time_zone` (the lab's IANA zone). With "
        "`repeat_weeks` > 0 the same weekday and local time repeats for that many more weeks "
        "(across daylight-saving changes). `mode` says how the session is held: a video link "
        "(`join_url`) or remote-control details (`join_details`). A retry with the same "
        "`Idempotency-Key` returns the first answer."
    ),
    responses=errors(*SIGNED_IN, 409, s403="Only a lab publishes planning slots"),
)
async def publish_slots(
    payload: Annotated[SlotIn, Body(openapi_examples=SLOT)],
    caller: CallerDep,
    services: ServicesDep,
    idempotency_key: IdempotencyKeyDep = None,
) -> Any:
    return await services.call(
        "cases", "publish_slots", caller=caller, payload=payload, idempotency_key=idempotency_key
    )


@router.delete(
    "/planning/slots/{slot_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Withdraw a free planning slot (the lab)",
    responses=errors(
        *SIGNED_IN,
        404,
        409,
        s404="No such slot of the caller's lab",
        s409="The slot is booked: cancel or move the booking first",
    ),
)
async def delete_slot(slot_id: UUID, caller: CallerDep, services: ServicesDep) -> Response:
    await services.call("cases", "delete_slot", caller=caller, slot_id=str(slot_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# ----------------------------------------------------------------- a case's booking


@router.post(
    "/cases/{case_id}/booking",
    status_code=status.HTTP_201_CREATED,
    response_model=BookingOut,
    summary="Book a planning session for the case (the client)",
    description=(
        "When the case is `ready_to_plan` or `planning_no_show`, the client books one free "
        "slot of the case's lab; the case moves to `planning_scheduled`. Exactly one booking "
        "wins a slot: the others get 409. The answer carries the calendar file's path and a "
        "Google Calendar link."
    ),
    responses=errors(
        *SIGNED_IN,
        404,
        409,
        s404=_NOT_FOUND + ", or no such slot of its lab",
        s409="The slot was taken, or the case is not ready to plan (the message says which)",
    ),
)
async def book_slot(
    case_id: UUID,
    payload: Annotated[BookingIn, Body(openapi_examples=BOOKING)],
    caller: CallerDep,
    services: ServicesDep,
) -> Any:
    return await services.call(
        "cases", "book_slot", caller=caller, case_id=str(case_id), payload=payload
    )


@router.get(
    "/cases/{case_id}/booking",
    response_model=BookingOut,
    summary="The case's planning session: when, and how to join",
    responses=errors(*SIGNED_IN, 404, s404=_NO_BOOKING),
)
async def get_booking(case_id: UUID, caller: CallerDep, services: ServicesDep) -> Any:
    return await services.call("cases", "get_booking", caller=caller, case_id=str(case_id))


@router.put(
    "/cases/{case_id}/booking",
    response_model=BookingOut,
    summary="Move the session to another free slot (the lab)",
    description="The client cannot change a booking: it gets 409, contact the lab.",
    responses=errors(*SIGNED_IN, 404, 409, s404=_NO_BOOKING, s409=_CONTACT_LAB),
)
async def reschedule_booking(
    case_id: UUID,
    payload: Annotated[RescheduleIn, Body(openapi_examples=RESCHEDULE)],
    caller: CallerDep,
    services: ServicesDep,
) -> Any:
    return await services.call(
        "cases", "reschedule_booking", caller=caller, case_id=str(case_id), payload=payload
    )


@router.delete(
    "/cases/{case_id}/booking",
    response_model=CaseDetail,
    summary="Cancel the session (the lab); the case goes back to Ready to Plan",
    description=(
        "The body is optional (a `reason`). The client cannot cancel a booking: it gets 409, "
        "contact the lab."
    ),
    responses=errors(*SIGNED_IN, 404, 409, s404=_NO_BOOKING, s409=_CONTACT_LAB),
)
async def cancel_booking(
    case_id: UUID,
    caller: CallerDep,
    services: ServicesDep,
    payload: Annotated[BookingCancelIn | None, Body(openapi_examples=CANCEL)] = None,
) -> Any:
    return await services.call(
        "cases",
        "cancel_booking",
        caller=caller,
        case_id=str(case_id),
        payload=payload or BookingCancelIn(),
    )


@router.post(
    "/cases/{case_id}/booking/no-show",
    response_model=CaseDetail,
    summary="The client missed the session (the lab): Planning No Show",
    description="The case moves to `planning_no_show` (red); the client books again.",
    responses=errors(*SIGNED_IN, 404, 409, s404=_NO_BOOKING, s409=_CONTACT_LAB),
)
async def mark_no_show(case_id: UUID, caller: CallerDep, services: ServicesDep) -> Any:
    return await services.call("cases", "mark_no_show", caller=caller, case_id=str(case_id))


@router.get(
    "/cases/{case_id}/booking.ics",
    response_class=Response,
    summary="The session as a calendar file (RFC 5545)",
    description=(
        "One event with a stable UID, the start and end in the lab's time zone (with its "
        "VTIMEZONE), the case ID and how to join. Downloaded as an attachment."
    ),
    responses={**_ICS, **errors(*SIGNED_IN, 404, s404=_NO_BOOKING)},
)
async def booking_ics(case_id: UUID, caller: CallerDep, services: ServicesDep) -> Response:
    answer = await services.call("cases", "render_booking_ics", caller=caller, case_id=str(case_id))
    filename = str(answer.get("filename") or "")
    if not _SAFE_FILENAME.fullmatch(filename):
        filename = "planning.ics"  # never let a header be built from an odd name
    return _calendar(answer.get("content"), filename=filename, **{"Cache-Control": "no-store"})


# ----------------------------------------------------------------- the office's feed


@router.post(
    "/calendar-feed",
    status_code=status.HTTP_201_CREATED,
    response_model=CalendarFeedOut,
    summary="Create the office's private calendar subscription URL",
    description=(
        "A secret URL listing every booked planning session of the office, for a calendar "
        "app to subscribe to. The URL is shown once, in this answer; creating another "
        "replaces it (the old one stops working)."
    ),
    responses=errors(*SIGNED_IN),
)
async def create_calendar_feed(caller: CallerDep, services: ServicesDep) -> Any:
    return await services.call("cases", "create_calendar_feed", caller=caller)


@router.get(
    "/calendar-feed",
    response_model=CalendarFeedOut,
    summary="Whether the office has a calendar subscription (the URL is not shown again)",
    responses=errors(*SIGNED_IN, 404, s404="The office has no calendar subscription"),
)
async def get_calendar_feed(caller: CallerDep, services: ServicesDep) -> Any:
    return await services.call("cases", "get_calendar_feed", caller=caller)


@router.delete(
    "/calendar-feed",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Revoke the office's calendar subscription URL",
    responses=errors(*SIGNED_IN),
)
async def revoke_calendar_feed(caller: CallerDep, services: ServicesDep) -> Response:
    await services.call("cases", "revoke_calendar_feed", caller=caller)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/calendar/{token}.ics",
    response_class=Response,
    summary="The office's booked planning sessions, for calendar apps (no sign-in)",
    description=(
        "The URL from `POST /api/v1/calendar-feed`; its token is the secret, so no sign-in. "
        "An unknown or revoked token is a 404. Never cached by shared caches."
    ),
    responses={**_ICS, **errors(404, s404="No such subscription, or it was revoked")},
)
async def calendar_feed(
    token: Annotated[str, Path(description="the secret of the subscription URL")],
    services: ServicesDep,
) -> Response:
    if not _FEED_TOKEN.fullmatch(token):
        raise NotFound("no such calendar")
    answer = await services.call("cases", "render_calendar_feed", token=token)
    return _calendar(answer.get("content"), filename=None, **{"Cache-Control": "private, no-store"})
