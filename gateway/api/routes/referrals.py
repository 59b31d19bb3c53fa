"""Referrals: a patient sent from one office to another, followed to the end, talked about in
notes and printed. Every route forwards to the referrals service (services/referrals/README.md).

Only the sending and the receiving office see a referral: for anyone else its id is a 404 on
every route here.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Body, Query, Response, status

from gateway.api.deps import IdempotencyKeyDep, ServicesDep, SettingsDep
from gateway.api.responses import SIGNED_IN, errors
from gateway.api.schemas import example
from gateway.auth.deps import CallerDep
from shared.contracts.referrals import (
    TEETH_IN_NOTES_WARNING,
    Dashboard,
    ListQuery,
    NoteIn,
    NoteOut,
    ReferralDetail,
    ReferralIn,
    ReferralPage,
    StageChange,
)

router = APIRouter(prefix="/api/v1/referrals", tags=["referrals"])

#: Rendering a slip with WeasyPrint takes longer than an ordinary call.
PDF_RPC_TIMEOUT = 30.0
_SAFE_FILENAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")

TEETH_DOC = (
    "**Teeth** are chosen in `teeth`, written in `notation` (default: the sending office's "
    "preferred notation: `universal`, `fdi` or `palmer`), stored as ISO 3950 codes and shown "
    "to every reader in their own office's notation (with the ISO code). "
    f"**Note:** {TEETH_IN_NOTES_WARNING}"
)
_NOT_FOUND = "No such referral, or the caller's office is neither its sender nor its receiver"
_CONFLICT = "Not allowed at the referral's current stage (the message names it)"

_PATIENT = {
    "first_name": "Maya",
    "last_name": "Chen",
    "date_of_birth": "1988-04-12",
    "sex": "female",
    "phones": ["+1 416 555 0199"],
    "email": "maya.chen@example.com",
    "preferred_contact": "text",
    "insurance_note": "Sun Life, plan 12345",
}
_RECEIVER = "6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f"
REFERRAL = {
    **example(
        "Send now",
        {
            "receiver_office_id": _RECEIVER,
            "referring_provider_id": "0b7e6a52-9d3c-4f1e-8a2b-5c6d7e8f9a0b",
            "patient": _PATIENT,
            "procedure_ids": ["3c9e1f7a-2b4d-4e6f-8a1c-9d0e2f3a4b5c"],
            "other_procedures": "Bone graft if needed",
            "urgency": "soon",
            "teeth": ["1", "16", "17", "32"],
            "notation": "universal",
            "case_notes": "Impacted third molars; pain on the lower right since March.",
        },
    ),
    **example(
        "A draft, to finish later (`?draft=true`)",
        {"receiver_office_id": _RECEIVER, "patient": {"first_name": "Maya", "last_name": "Chen"}},
    ),
}
DRAFT_UPDATE = example(
    "The draft, now with teeth",
    {
        "receiver_office_id": _RECEIVER,
        "patient": {"first_name": "Maya", "last_name": "Chen", "date_of_birth": "1988-04-12"},
        "teeth": ["16", "17"],
        "notation": "fdi",
        "urgency": "urgent",
    },
)
STAGE = {
    **example("Accept (receiver)", {"stage": "accepted"}),
    **example("Decline (receiver)", {"stage": "declined", "reason": "We do not place implants."}),
    **example(
        "Forward (receiver)",
        {"stage": "forwarded", "forward_to_office_id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"},
    ),
    **example("Patient contacted (receiver)", {"stage": "contacted"}),
    **example(
        "Appointment booked (receiver)",
        {"stage": "booked", "appointment_at": "2026-12-03T14:30:00-05:00"},
    ),
    **example("Treatment completed (receiver)", {"stage": "completed"}),
    **example("Report sent back (receiver)", {"stage": "closed"}),
    **example("Cancel (sender, until booked)", {"stage": "cancelled", "reason": "Patient moved."}),
}
NOTE = example("A note", {"body": "Patient prefers morning appointments; see the x-ray of 30."})


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ReferralDetail,
    summary="Refer a patient (send now, or save a draft with ?draft=true)",
    description=(
        "Sends the referral to `receiver_office_id` at once (stage `sent`), or with "
        "`?draft=true` saves it as a draft (every field optional) to finish and send later. "
        "A retry with the same `Idempotency-Key` returns the first referral, never a second "
        "one. Validation errors name every field at once.\n\n" + TEETH_DOC
    ),
    responses=errors(*SIGNED_IN, 404, 409),
)
async def create_referral(
    payload: Annotated[ReferralIn, Body(openapi_examples=REFERRAL)],
    caller: CallerDep,
    services: ServicesDep,
    draft: Annotated[bool, Query(description="save as a draft instead of sending")] = False,
    idempotency_key: IdempotencyKeyDep = None,
) -> Any:
    return await services.call(
        "referrals",
        "create_referral",
        caller=caller,
        payload=payload,
        draft=draft,
        idempotency_key=idempotency_key,
    )


@router.get(
    "",
    response_model=ReferralPage,
    summary="The office's sent or received referrals, filtered, sorted and paged",
    description=(
        "`box` picks sent or received. Filters: `stage` (repeat it for several), the other "
        "office, a procedure, the sending date range (inclusive), and `q` (patient name or "
        "reference such as `R-7K3F9Q`). `sort` is a listed column, `-` first for descending. "
        "Each row carries its count of new notes and whether it needs attention."
    ),
    responses=errors(*SIGNED_IN),
)
async def list_referrals(
    query: Annotated[ListQuery, Query()], caller: CallerDep, services: ServicesDep
) -> Any:
    return await services.call("referrals", "list_referrals", caller=caller, query=query)


@router.get(
    "/dashboard",
    response_model=Dashboard,
    summary="Counts of both boxes by stage, needing attention and unread notes",
    responses=errors(*SIGNED_IN),
)
async def get_dashboard(caller: CallerDep, services: ServicesDep) -> Any:
    return await services.call("referrals", "get_dashboard", caller=caller)


@router.get(
    "/{referral_id}",
    response_model=ReferralDetail,
    summary="One referral: patient, teeth, procedures, notes, files and the stage timeline",
    description=(
        "Teeth are labelled in the caller's office notation (`notation`), each with its ISO "
        "3950 code. `allowed_stages` says what the caller may move it to now.\n\n"
        f"**Note:** {TEETH_IN_NOTES_WARNING}"
    ),
    responses=errors(*SIGNED_IN, 404, s404=_NOT_FOUND),
)
async def get_referral(referral_id: UUID, caller: CallerDep, services: ServicesDep) -> Any:
    return await services.call(
        "referrals", "get_referral", caller=caller, referral_id=str(referral_id)
    )


@router.patch(
    "/{referral_id}",
    response_model=ReferralDetail,
    summary="Save changes to a draft (the sender)",
    description=(
        "The body replaces what the draft says (send it whole, as when creating; fields left "
        "out are cleared). Only drafts change this way: a sent referral moves on by its "
        "stage.\n\n" + TEETH_DOC
    ),
    responses=errors(*SIGNED_IN, 404, 409, s404=_NOT_FOUND, s409=_CONFLICT),
)
async def update_draft(
    referral_id: UUID,
    payload: Annotated[ReferralIn, Body(openapi_examples=DRAFT_UPDATE)],
    caller: CallerDep,
    services: ServicesDep,
) -> Any:
    return await services.call(
        "referrals",
        "update_draft",
        caller=caller,
        referral_id=str(referral_id),
        payload=payload,
    )


@router.post(
    "/{referral_id}/send",
    response_model=ReferralDetail,
    summary="Send a draft (the sender)",
    description="The draft must be complete; a 422 names every missing field at once.",
    responses=errors(*SIGNED_IN, 404, 409, s404=_NOT_FOUND, s409=_CONFLICT),
)
async def send_draft(referral_id: UUID, caller: CallerDep, services: ServicesDep) -> Any:
    return await services.call(
        "referrals", "send_draft", caller=caller, referral_id=str(referral_id)
    )


@router.delete(
    "/{referral_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Delete a draft (the sender)",
    description="A sent referral is cancelled by its stage instead (`cancelled`, with a reason).",
    responses=errors(*SIGNED_IN, 404, 409, s404=_NOT_FOUND, s409=_CONFLICT),
)
async def delete_draft(referral_id: UUID, caller: CallerDep, services: ServicesDep) -> Response:
    await services.call("referrals", "delete_draft", caller=caller, referral_id=str(referral_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{referral_id}/stage",
    response_model=ReferralDetail,
    summary="Move a referral to its next stage",
    description=(
        "The receiver accepts, declines (with a `reason`), forwards (to "
        "`forward_to_office_id`), records the patient contacted, the appointment booked "
        "(`appointment_at`; booking again changes the time), the treatment completed and the "
        "report sent back (`closed`). The sender may cancel (with a `reason`) until the "
        "appointment is booked. Each change records who and when in the timeline; any other "
        "move is a 409 naming the current stage."
    ),
    responses=errors(*SIGNED_IN, 404, 409, s404=_NOT_FOUND, s409=_CONFLICT),
)
async def change_stage(
    referral_id: UUID,
    payload: Annotated[StageChange, Body(openapi_examples=STAGE)],
    caller: CallerDep,
    services: ServicesDep,
) -> Any:
    return await services.call(
        "referrals",
        "change_stage",
        caller=caller,
        referral_id=str(referral_id),
        payload=payload,
    )


@router.get(
    "/{referral_id}/notes",
    response_model=list[NoteOut],
    summary="The notes between the two offices, oldest first",
    description="`new`: written by the other office since the caller's office last read them.",
    responses=errors(*SIGNED_IN, 404, s404=_NOT_FOUND),
)
async def list_notes(referral_id: UUID, caller: CallerDep, services: ServicesDep) -> Any:
    return await services.call(
        "referrals", "list_notes", caller=caller, referral_id=str(referral_id)
    )


@router.post(
    "/{referral_id}/notes",
    status_code=status.HTTP_201_CREATED,
    response_model=NoteOut,
    summary="Write a note to the other office",
    description=(
        "Open until the referral is closed or cancelled. A retry with the same "
        f"`Idempotency-Key` returns the first note.\n\n**Note:** {TEETH_IN_NOTES_WARNING}"
    ),
    responses=errors(*SIGNED_IN, 404, 409, s404=_NOT_FOUND, s409=_CONFLICT),
)
async def add_note(
    referral_id: UUID,
    payload: Annotated[NoteIn, Body(openapi_examples=NOTE)],
    caller: CallerDep,
    services: ServicesDep,
    idempotency_key: IdempotencyKeyDep = None,
) -> Any:
    return await services.call(
        "referrals",
        "add_note",
        caller=caller,
        referral_id=str(referral_id),
        payload=payload,
        idempotency_key=idempotency_key,
    )


@router.post(
    "/{referral_id}/notes/read",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Mark the notes read for the caller's office",
    responses=errors(*SIGNED_IN, 404, s404=_NOT_FOUND),
)
async def mark_notes_read(referral_id: UUID, caller: CallerDep, services: ServicesDep) -> Response:
    await services.call("referrals", "mark_notes_read", caller=caller, referral_id=str(referral_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/{referral_id}/pdf",
    response_class=Response,
    summary="The printable referral slip (PDF)",
    description=(
        "Both offices' letterheads, the patient, providers, procedures, teeth in the caller's "
        "notation with a chart, notes, stage, reference and date. Not cached (`no-store`)."
    ),
    responses={
        200: {
            "description": "The slip, shown inline, named after the reference",
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
            "headers": {
                "Content-Disposition": {
                    "description": 'inline; filename="R-7K3F9Q.pdf"',
                    "schema": {"type": "string"},
                }
            },
        },
        **errors(*SIGNED_IN, 404, s404=_NOT_FOUND),
    },
)
async def get_pdf(
    referral_id: UUID, caller: CallerDep, services: ServicesDep, settings: SettingsDep
) -> Response:
    slip = await services.call(
        "referrals",
        "render_pdf",
        caller=caller,
        referral_id=str(referral_id),
        timeout=max(settings.rpc_timeout, PDF_RPC_TIMEOUT),
    )
    filename = str(slip.get("filename") or "")
    if not _SAFE_FILENAME.fullmatch(filename):
        filename = "referral.pdf"  # never let a header be built from an odd name
    try:
        content = base64.b64decode(slip["content_base64"], validate=True)
    except (KeyError, TypeError, binascii.Error) as exc:
        # The service broke its contract: a 500 whose detail goes to the log.
        raise RuntimeError("render_pdf answered without valid content_base64") from exc
    return Response(
        content=content,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )
