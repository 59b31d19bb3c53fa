"""Patient Talk: an office's private threads with its patients (services/notifications/README.md).

Office side (signed in, under ``/api/v1/patient-threads``): start a thread with a patient of one
of the office's referrals or cases, write to the patient, revoke links, read the access record.
Each thread is its office's alone: for any other office its id is a 404.

Patient side (no account): the e-mailed link ``/p/<token>`` opens a small page
(``gateway/web/patient/``); the patient confirms their date of birth
(``POST /api/v1/patient/{token}/verify``), which sets a short-lived HttpOnly cookie scoped to
``/api/v1/patient``, then reads the thread and replies. Every use is recorded with the address.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Body, Cookie, Query, Response, status
from fastapi import Path as PathParam
from fastapi.responses import FileResponse

from gateway.api.deps import ClientIpDep, IdempotencyKeyDep, ServicesDep, SettingsDep
from gateway.api.responses import SIGNED_IN, errors
from gateway.api.schemas import example
from gateway.auth.deps import CallerDep
from shared.contracts.patient_talk import (
    LinkInfo,
    PatientAccessEntry,
    PatientMessageIn,
    PatientMessageOut,
    PatientSent,
    PatientSession,
    PatientSessionStarted,
    PatientThreadDetail,
    PatientThreadIn,
    PatientThreadOut,
    PatientThreadView,
    PatientVerifyIn,
    RevokedLinks,
    ThreadOwnerType,
)
from shared.errors import Unauthenticated

router = APIRouter()

PATIENT_COOKIE = "bw_patient"
PATIENT_COOKIE_PATH = "/api/v1/patient"
PAGE = Path(__file__).resolve().parents[2] / "web" / "patient" / "index.html"
# The page is opened from a link that is itself the credential: never cached, never sent on
# as a Referer, never framed; scripts and styles only from this origin.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
}

_THREAD_404 = "No such thread in the caller's office (another office's thread is a 404)"
_TOKEN = Annotated[
    str,
    PathParam(
        min_length=20,
        max_length=100,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="the token of the link the patient received",
    ),
]
_LINK_ERRORS = errors(
    404,
    410,
    422,
    503,
    s404="No such link",
    s410="The link expired or the office withdrew it; the office can send a new one",
)

THREAD_EXAMPLES = {
    **example(
        "By e-mail",
        {
            "owner_type": "referral",
            "owner_id": "6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f",
            "patient_name": "Maya Chen",
            "email": "maya.chen@example.com",
            "date_of_birth": "1988-04-12",
            "preferred_channel": "email",
        },
    ),
    **example(
        "By text (and e-mail)",
        {
            "owner_type": "case",
            "owner_id": "0b7d4c1a-2e3f-4a5b-8c9d-1e2f3a4b5c6d",
            "patient_name": "Maya Chen",
            "email": "maya.chen@example.com",
            "mobile_phone": "+1 416 555 0199",
            "date_of_birth": "1988-04-12",
            "preferred_channel": "text",
        },
    ),
}
MESSAGE_EXAMPLES = example(
    "A message", {"body": "Your crown is ready. Call us to book the fitting."}
)
REPLY_EXAMPLES = example("A reply", {"body": "Thank you, I will call tomorrow morning."})
VERIFY_EXAMPLES = example("The patient's date of birth", {"date_of_birth": "1988-04-12"})

# ----------------------------------------------------------------- the office's side

OFFICE: list[str | Enum] = ["patient talk (office)"]


@router.post(
    "/api/v1/patient-threads",
    tags=OFFICE,
    status_code=status.HTTP_201_CREATED,
    response_model=PatientThreadOut,
    summary="Start a private thread with a patient of one of the office's referrals or cases",
    description=(
        "The office must be able to see the referral or case (`owner_type`, `owner_id`); "
        "otherwise 404. `preferred_channel=text` needs `mobile_phone` (with its country code); "
        "`email` is needed for e-mail. The date of birth is what the patient confirms."
    ),
    responses=errors(*SIGNED_IN, 404, s404="No such referral or case for the caller's office"),
)
async def create_thread(
    payload: Annotated[PatientThreadIn, Body(openapi_examples=THREAD_EXAMPLES)],
    caller: CallerDep,
    services: ServicesDep,
    idempotency_key: IdempotencyKeyDep = None,
) -> Any:
    return await services.call(
        "notifications",
        "create_patient_thread",
        caller=caller,
        payload=payload,
        idempotency_key=idempotency_key,
    )


@router.get(
    "/api/v1/patient-threads",
    tags=OFFICE,
    response_model=list[PatientThreadOut],
    summary="The office's patient threads (all, or one referral's or case's), latest first",
    responses=errors(*SIGNED_IN),
)
async def list_threads(
    caller: CallerDep,
    services: ServicesDep,
    owner_type: Annotated[ThreadOwnerType | None, Query()] = None,
    owner_id: Annotated[UUID | None, Query()] = None,
) -> Any:
    query = {
        "owner_type": owner_type.value if owner_type else None,
        "owner_id": str(owner_id) if owner_id else None,
    }
    return await services.call(
        "notifications",
        "list_patient_threads",
        caller=caller,
        query={key: value for key, value in query.items() if value is not None},
    )


@router.get(
    "/api/v1/patient-threads/{thread_id}",
    tags=OFFICE,
    response_model=PatientThreadDetail,
    summary="A thread with its messages and links (the patient's replies count as read)",
    responses=errors(*SIGNED_IN, 404, s404=_THREAD_404),
)
async def get_thread(thread_id: UUID, caller: CallerDep, services: ServicesDep) -> Any:
    return await services.call(
        "notifications", "get_patient_thread", caller=caller, thread_id=str(thread_id)
    )


@router.post(
    "/api/v1/patient-threads/{thread_id}/messages",
    tags=OFFICE,
    status_code=status.HTTP_201_CREATED,
    response_model=PatientSent,
    summary="Write to the patient: they get an e-mail (or a text) with a fresh link",
    description=(
        "The notice names the office and carries a new link (`PATIENT_LINK_TTL`); it never "
        "carries the message. A retry with the same Idempotency-Key sends nothing twice."
    ),
    responses=errors(*SIGNED_IN, 404, 409, s404=_THREAD_404, s409="No way to reach the patient"),
)
async def send_message(
    thread_id: UUID,
    payload: Annotated[PatientMessageIn, Body(openapi_examples=MESSAGE_EXAMPLES)],
    caller: CallerDep,
    services: ServicesDep,
    idempotency_key: IdempotencyKeyDep = None,
) -> Any:
    return await services.call(
        "notifications",
        "send_patient_message",
        caller=caller,
        thread_id=str(thread_id),
        payload=payload,
        idempotency_key=idempotency_key,
    )


@router.post(
    "/api/v1/patient-threads/{thread_id}/links/revoke",
    tags=OFFICE,
    response_model=RevokedLinks,
    summary="Withdraw every active link of the thread (and end the patient's sessions)",
    responses=errors(*SIGNED_IN, 404, s404=_THREAD_404),
)
async def revoke_links(thread_id: UUID, caller: CallerDep, services: ServicesDep) -> Any:
    return await services.call(
        "notifications", "revoke_patient_links", caller=caller, thread_id=str(thread_id)
    )


@router.get(
    "/api/v1/patient-threads/{thread_id}/access",
    tags=OFFICE,
    response_model=list[PatientAccessEntry],
    summary="Every use of the thread's links: opened, verified, read, replied (newest first)",
    responses=errors(*SIGNED_IN, 404, s404=_THREAD_404),
)
async def list_access(thread_id: UUID, caller: CallerDep, services: ServicesDep) -> Any:
    return await services.call(
        "notifications", "list_patient_access", caller=caller, thread_id=str(thread_id)
    )


# ----------------------------------------------------------------- the patient's side

PATIENT: list[str | Enum] = ["patient talk (patient)"]
_SESSION_ERRORS = errors(401, 422, 503, s401="No patient session, or it ended: open the link again")


def _session_token(value: str | None) -> str:
    if not value:
        raise Unauthenticated("Open the link from your message and confirm your date of birth.")
    return value


@router.get(
    "/api/v1/patient/thread",
    tags=PATIENT,
    response_model=PatientThreadView,
    summary="The thread, for the patient (needs the cookie set by verify)",
    responses=_SESSION_ERRORS,
)
async def patient_thread(
    services: ServicesDep,
    client_ip: ClientIpDep,
    response: Response,
    bw_patient: Annotated[str | None, Cookie()] = None,
) -> Any:
    response.headers["Cache-Control"] = "no-store"
    return await services.call(
        "notifications",
        "get_patient_view",
        session_token=_session_token(bw_patient),
        client_ip=client_ip,
    )


@router.post(
    "/api/v1/patient/thread/messages",
    tags=PATIENT,
    status_code=status.HTTP_201_CREATED,
    response_model=PatientMessageOut,
    summary="The patient's reply (needs the cookie set by verify)",
    responses=_SESSION_ERRORS,
)
async def patient_reply(
    payload: Annotated[PatientMessageIn, Body(openapi_examples=REPLY_EXAMPLES)],
    services: ServicesDep,
    client_ip: ClientIpDep,
    bw_patient: Annotated[str | None, Cookie()] = None,
    idempotency_key: IdempotencyKeyDep = None,
) -> Any:
    return await services.call(
        "notifications",
        "post_patient_reply",
        session_token=_session_token(bw_patient),
        payload=payload,
        client_ip=client_ip,
        idempotency_key=idempotency_key,
    )


@router.post(
    "/api/v1/patient/logout",
    tags=PATIENT,
    status_code=status.HTTP_204_NO_CONTENT,
    summary="The patient signs out: the session ends and its cookie is cleared",
    responses=errors(503),
)
async def patient_logout(
    services: ServicesDep,
    settings: SettingsDep,
    client_ip: ClientIpDep,
    bw_patient: Annotated[str | None, Cookie()] = None,
) -> Response:
    if bw_patient:
        await services.call(
            "notifications", "end_patient_session", session_token=bw_patient, client_ip=client_ip
        )
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(
        PATIENT_COOKIE,
        path=PATIENT_COOKIE_PATH,
        secure=settings.cookie_secure,
        httponly=True,
        samesite="strict",
    )
    return response


@router.get(
    "/api/v1/patient/{token}",
    tags=PATIENT,
    response_model=LinkInfo,
    summary="What the link's page shows before the date of birth: the office's name",
    responses=_LINK_ERRORS,
)
async def open_link(
    token: _TOKEN, services: ServicesDep, client_ip: ClientIpDep, response: Response
) -> Any:
    response.headers["Cache-Control"] = "no-store"
    return await services.call(
        "notifications", "open_patient_link", token=token, client_ip=client_ip
    )


@router.post(
    "/api/v1/patient/{token}/verify",
    tags=PATIENT,
    response_model=PatientSessionStarted,
    summary="Confirm the date of birth: starts a short patient session (an HttpOnly cookie)",
    description=(
        "A wrong date is refused (422 naming `date_of_birth`) and recorded; after 5 wrong "
        "dates for a link within 15 minutes (or 20 from one address) the answer is 429 with "
        "Retry-After. The session cookie is scoped to `/api/v1/patient` and lasts "
        "`PATIENT_SESSION_TTL` at most."
    ),
    responses={**_LINK_ERRORS, **errors(429)},
)
async def verify(
    token: _TOKEN,
    payload: Annotated[PatientVerifyIn, Body(openapi_examples=VERIFY_EXAMPLES)],
    services: ServicesDep,
    settings: SettingsDep,
    client_ip: ClientIpDep,
    response: Response,
) -> Any:
    answer = PatientSession.model_validate(
        await services.call(
            "notifications",
            "verify_patient",
            token=token,
            payload=payload,
            client_ip=client_ip,
        )
    )
    max_age = math.floor((answer.expires_at - datetime.now(UTC)).total_seconds())
    response.set_cookie(
        PATIENT_COOKIE,
        answer.session_token,
        max_age=max(max_age, 1),
        path=PATIENT_COOKIE_PATH,
        secure=settings.cookie_secure,
        httponly=True,
        samesite="strict",
    )
    response.headers["Cache-Control"] = "no-store"
    return PatientSessionStarted(office_name=answer.office_name, expires_at=answer.expires_at)


@router.get("/p/{token}", include_in_schema=False)
async def patient_page(token: str) -> FileResponse:
    """The patient's page (static; its script reads the token from the address)."""
    return FileResponse(PAGE, media_type="text/html; charset=utf-8", headers=PAGE_HEADERS)
