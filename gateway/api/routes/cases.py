"""Lab cases: work a client office sends to a dental lab, its RX script, its progress through
the lab's stages, the client's archive and the lab's turnaround rules. Every route forwards to
the cases service (services/cases/README.md); planning sessions are in planning.py.

Only the client office and the lab of a case see it: for anyone else its id is a 404 on every
route here.
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
from shared.contracts.cases import (
    ARCHIVE_NOTE,
    CaseCreated,
    CaseDetail,
    CaseEdit,
    CaseIn,
    CaseListQuery,
    CaseNoteIn,
    CaseNoteOut,
    CasePage,
    ShipEstimate,
    StageChangeIn,
    TurnaroundRules,
)

router = APIRouter(prefix="/api/v1", tags=["cases"])

#: Creating or editing a case renders its RX script (WeasyPrint), longer than an ordinary call.
PDF_RPC_TIMEOUT = 30.0
_SAFE_FILENAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")

_NOT_FOUND = "No such case, or the caller's office is neither its client nor its lab"
_CONFLICT = "Not allowed at the case's current stage (the message names it)"
_NOT_EDITABLE = "The case can no longer be edited (it is in the lab's hands or over)"
_FORBIDDEN = "The other side's action (the lab moves stages; the client edits and archives)"

TEETH_DOC = (
    "**Teeth** are written in `notation` (default: the client office's preferred notation: "
    "`universal`, `fdi` or `palmer`), stored as ISO 3950 codes and shown to every reader in "
    "their own office's notation (with the ISO code); the RX script prints them in the lab's."
)
STAGES_DOC = (
    "Stages and their urgency colours (services/cases/README.md): `missing_files` (red), "
    "`processing` and `received` (yellow), `ready_to_plan` (red until a session is booked), "
    "`planning_scheduled` (green), `planning_no_show` (red), `manufacturing`, `finished`, "
    "`shipped`, `cancelled`, `on_hold` (white). Red: the client must act."
)

_LAB = "6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f"
CASE = {
    **example(
        "A surgical guide",
        {
            "lab_office_id": _LAB,
            "patient_name": "Maya Chen",
            "description": "Surgical guide for implants at 19 and 30, 4.1 x 10 mm, "
            "tooth-supported.",
            "teeth": ["19", "30"],
            "notation": "universal",
            "due_date": "2026-12-18",
        },
    ),
    **example(
        "Teeth in FDI, no due date",
        {
            "lab_office_id": _LAB,
            "patient_name": "Maya Chen",
            "description": "Night guard, upper arch.",
            "teeth": ["16", "26"],
            "notation": "fdi",
        },
    ),
}
EDIT = {
    **example("A new description", {"description": "Guide for 19 only; 30 was extracted."}),
    **example("Other teeth", {"teeth": ["19", "20"], "notation": "universal"}),
}
STAGE = {
    **example("Received (lab)", {"stage": "received"}),
    **example("Ready to plan (lab)", {"stage": "ready_to_plan"}),
    **example("Manufacturing (lab)", {"stage": "manufacturing"}),
    **example("Finished (lab)", {"stage": "finished"}),
    **example(
        "Shipped (lab)",
        {
            "stage": "shipped",
            "carrier": "UPS",
            "tracking_number": "1Z999AA10123456784",
            "tracking_url": "https://www.ups.com/track?tracknum=1Z999AA10123456784",
        },
    ),
    **example("Files missing (lab)", {"stage": "missing_files"}),
    **example("On hold (lab)", {"stage": "on_hold", "reason": "Waiting for the bite record."}),
    **example("Cancel (lab)", {"stage": "cancelled", "reason": "The client asked us to."}),
}
TURNAROUND = example(
    "Manufacturing ships within 2-5 business days",
    {
        "rules": [
            {"stage": "processing", "min_days": 8, "max_days": 14},
            {"stage": "manufacturing", "min_days": 2, "max_days": 5},
        ]
    },
)


def _case_path(case_id: Any) -> str:
    return f"/api/v1/cases/{case_id}"


@router.post(
    "/cases",
    status_code=status.HTTP_201_CREATED,
    response_model=CaseCreated,
    summary="Send a case to a lab (the client office)",
    description=(
        "Creates the case (a case ID such as `C-2026-00042`) and its RX script, and answers "
        "with the confirmation the web app prints; the office is also e-mailed it. A new case "
        "is in `missing_files` until its first file (CBCT, models) is attached with "
        "`POST /api/v1/cases/{case_id}/files`. A retry with the same `Idempotency-Key` "
        "returns the first case, never a second one. Validation errors name every field at "
        "once.\n\n" + TEETH_DOC
    ),
    responses={
        201: {
            "description": "The case, a one-line confirmation and the RX script's path",
            "headers": {
                "Location": {
                    "description": "the new case: /api/v1/cases/{case_id}",
                    "schema": {"type": "string"},
                }
            },
        },
        **errors(
            *SIGNED_IN,
            404,
            403,
            s404="No such lab office (labs are offices of kind `lab`)",
            s403="A lab cannot send cases, or the caller lacks the role",
        ),
    },
)
async def create_case(
    payload: Annotated[CaseIn, Body(openapi_examples=CASE)],
    caller: CallerDep,
    services: ServicesDep,
    settings: SettingsDep,
    response: Response,
    idempotency_key: IdempotencyKeyDep = None,
) -> Any:
    created = await services.call(
        "cases",
        "create_case",
        caller=caller,
        payload=payload,
        idempotency_key=idempotency_key,
        timeout=max(settings.rpc_timeout, PDF_RPC_TIMEOUT),
    )
    case_id = (created.get("case") or {}).get("id") if isinstance(created, dict) else None
    if case_id:
        response.headers["Location"] = _case_path(case_id)
    return created


@router.get(
    "/cases",
    response_model=CasePage,
    summary="The office's cases, as client or lab: filtered, sorted and paged",
    description=(
        "`side` picks the cases the office sent (`client`) or makes (`lab`); both when "
        "absent. `archived`: `exclude` (the main list, default), `only` (the archive) or "
        "`include`. Filters: `stage` and `colour` (repeat either for several), `q` (part of "
        "the patient's name, or the start of a case ID). `sort`: `attention` (default: red, "
        "yellow, green, white, oldest first within a colour) or a column (`reference`, "
        "`patient`, `stage`, `last_modified`, `ship_date`, `other_office`, `created_at`, "
        "`due_date`), `-` first for descending. Pages carry `total`.\n\n"
        + STAGES_DOC
        + f"\n\n**Archive:** {ARCHIVE_NOTE}"
    ),
    responses=errors(*SIGNED_IN),
)
async def list_cases(
    query: Annotated[CaseListQuery, Query()], caller: CallerDep, services: ServicesDep
) -> Any:
    return await services.call("cases", "list_cases", caller=caller, query=query)


@router.get(
    "/cases/{case_id}",
    response_model=CaseDetail,
    summary="One case: prescription, teeth, stage and colour, ship date, booking, history",
    description=(
        "Teeth are labelled in the caller's office notation (`notation`), each with its ISO "
        "3950 code. `allowed_stages` says what the caller may move it to now, `editable` "
        "whether the client may edit it.\n\n" + STAGES_DOC
    ),
    responses=errors(*SIGNED_IN, 404, s404=_NOT_FOUND),
)
async def get_case(case_id: UUID, caller: CallerDep, services: ServicesDep) -> Any:
    return await services.call("cases", "get_case", caller=caller, case_id=str(case_id))


@router.patch(
    "/cases/{case_id}",
    response_model=CaseDetail,
    summary="Edit the description, teeth or due date (the client)",
    description=(
        "Fields left out keep their value. Submitting an edit returns the case to "
        "`processing` and estimates its ship date again as if it were new (ask "
        "`GET /api/v1/cases/{case_id}/edit-preview` first to see that date); the RX script "
        "is made again. Files are added with `POST /api/v1/cases/{case_id}/files`.\n\n" + TEETH_DOC
    ),
    responses=errors(*SIGNED_IN, 404, 409, s404=_NOT_FOUND, s409=_NOT_EDITABLE, s403=_FORBIDDEN),
)
async def edit_case(
    case_id: UUID,
    payload: Annotated[CaseEdit, Body(openapi_examples=EDIT)],
    caller: CallerDep,
    services: ServicesDep,
    settings: SettingsDep,
) -> Any:
    return await services.call(
        "cases",
        "edit_case",
        caller=caller,
        case_id=str(case_id),
        payload=payload,
        timeout=max(settings.rpc_timeout, PDF_RPC_TIMEOUT),
    )


@router.get(
    "/cases/{case_id}/edit-preview",
    response_model=ShipEstimate,
    summary="The ship date an edit submitted now would get (the client)",
    description=(
        "An edit counts from `processing` again, as a new case does: this is the ship date "
        "(`earliest`-`latest`) the case would show if the client submitted an edit now, so "
        "nobody is surprised. Nothing changes."
    ),
    responses=errors(*SIGNED_IN, 404, 409, s404=_NOT_FOUND, s409=_NOT_EDITABLE, s403=_FORBIDDEN),
)
async def preview_edit(case_id: UUID, caller: CallerDep, services: ServicesDep) -> Any:
    return await services.call("cases", "preview_edit", caller=caller, case_id=str(case_id))


@router.post(
    "/cases/{case_id}/stage",
    response_model=CaseDetail,
    summary="Move a case to its next stage (the lab)",
    description=(
        "The lab moves a case along the legal transitions only (services/cases/README.md): "
        "`missing_files` -> `processing` -> `received` -> `ready_to_plan` or `manufacturing` "
        "-> `finished` -> `shipped` (with `carrier`, `tracking_number` and optionally "
        "`tracking_url`); `on_hold` and `cancelled` need a `reason`. `planning_scheduled` and "
        "`planning_no_show` come from booking and `POST .../booking/no-show`. Each change "
        "records who and when in `history`; any other move is a 409 naming the current "
        "stage. The lab's changes never touch `last_modified_at`."
    ),
    responses=errors(*SIGNED_IN, 404, 409, s404=_NOT_FOUND, s409=_CONFLICT, s403=_FORBIDDEN),
)
async def change_stage(
    case_id: UUID,
    payload: Annotated[StageChangeIn, Body(openapi_examples=STAGE)],
    caller: CallerDep,
    services: ServicesDep,
) -> Any:
    return await services.call(
        "cases", "change_stage", caller=caller, case_id=str(case_id), payload=payload
    )


@router.put(
    "/cases/{case_id}/archive",
    response_model=CaseDetail,
    summary="Archive a case (the client)",
    description=(
        f"**{ARCHIVE_NOTE}** The case leaves the main list and shows with "
        "`GET /api/v1/cases?archived=only`. Archiving twice is harmless."
    ),
    responses=errors(*SIGNED_IN, 404, s404=_NOT_FOUND, s403=_FORBIDDEN),
)
async def archive_case(case_id: UUID, caller: CallerDep, services: ServicesDep) -> Any:
    return await services.call("cases", "archive_case", caller=caller, case_id=str(case_id))


@router.delete(
    "/cases/{case_id}/archive",
    response_model=CaseDetail,
    summary="Take a case out of the archive (the client)",
    description=f"Back in the main list. **{ARCHIVE_NOTE}**",
    responses=errors(*SIGNED_IN, 404, s404=_NOT_FOUND, s403=_FORBIDDEN),
)
async def unarchive_case(case_id: UUID, caller: CallerDep, services: ServicesDep) -> Any:
    return await services.call("cases", "unarchive_case", caller=caller, case_id=str(case_id))


NOTE = example("A note to the other office", {"body": "Please send the upper scan again."})


@router.get(
    "/cases/{case_id}/notes",
    response_model=list[CaseNoteOut],
    summary="The notes between the client and the lab, oldest first",
    description="`new`: written by the other office since the caller's office last read them.",
    responses=errors(*SIGNED_IN, 404, s404=_NOT_FOUND),
)
async def list_notes(case_id: UUID, caller: CallerDep, services: ServicesDep) -> Any:
    return await services.call("cases", "list_notes", caller=caller, case_id=str(case_id))


@router.post(
    "/cases/{case_id}/notes",
    status_code=status.HTTP_201_CREATED,
    response_model=CaseNoteOut,
    summary="Write a note to the other office of the case",
    description=(
        "Open until the case is shipped or cancelled (then a 409 naming the stage). The other "
        "office is told by e-mail (without the note's text). A retry with the same "
        "`Idempotency-Key` returns the first note."
    ),
    responses=errors(*SIGNED_IN, 404, 409, s404=_NOT_FOUND, s409=_CONFLICT),
)
async def add_note(
    case_id: UUID,
    payload: Annotated[CaseNoteIn, Body(openapi_examples=NOTE)],
    caller: CallerDep,
    services: ServicesDep,
    idempotency_key: IdempotencyKeyDep = None,
) -> Any:
    return await services.call(
        "cases",
        "add_note",
        caller=caller,
        case_id=str(case_id),
        payload=payload,
        idempotency_key=idempotency_key,
    )


@router.post(
    "/cases/{case_id}/notes/read",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Mark the case's notes read for the caller's office",
    responses=errors(*SIGNED_IN, 404, s404=_NOT_FOUND),
)
async def mark_notes_read(case_id: UUID, caller: CallerDep, services: ServicesDep) -> Response:
    await services.call("cases", "mark_notes_read", caller=caller, case_id=str(case_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/cases/{case_id}/rx.pdf",
    response_class=Response,
    summary="The case's RX script (PDF)",
    description=(
        "The prescription, the teeth in the lab's notation with their ISO codes, the patient, "
        "both offices, the case ID, dates and a QR code linking back to the case. Made again "
        "whenever the case is edited. Not cached (`no-store`)."
    ),
    responses={
        200: {
            "description": "The RX script, shown inline, named after the case ID",
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
            "headers": {
                "Content-Disposition": {
                    "description": 'inline; filename="C-2026-00042-rx.pdf"',
                    "schema": {"type": "string"},
                }
            },
        },
        **errors(*SIGNED_IN, 404, s404=_NOT_FOUND),
    },
)
async def get_rx(
    case_id: UUID, caller: CallerDep, services: ServicesDep, settings: SettingsDep
) -> Response:
    script = await services.call(
        "cases",
        "render_rx",
        caller=caller,
        case_id=str(case_id),
        timeout=max(settings.rpc_timeout, PDF_RPC_TIMEOUT),
    )
    filename = str(script.get("filename") or "")
    if not _SAFE_FILENAME.fullmatch(filename):
        filename = "rx.pdf"  # never let a header be built from an odd name
    try:
        content = base64.b64decode(script["content_base64"], validate=True)
    except (KeyError, TypeError, binascii.Error) as exc:
        # The service broke its contract: a 500 whose detail goes to the log.
        raise RuntimeError("render_rx answered without valid content_base64") from exc
    return Response(
        content=content,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


@router.get(
    "/lab/turnaround",
    response_model=TurnaroundRules,
    summary="The lab's turnaround rules: business days from each stage until shipping",
    description=(
        "The ship dates of the lab's cases are estimated from these rules (the defaults until "
        "the lab sets its own; services/cases/README.md)."
    ),
    responses=errors(*SIGNED_IN, s403="Only a lab has turnaround rules"),
)
async def get_turnaround(caller: CallerDep, services: ServicesDep) -> Any:
    return await services.call("cases", "get_turnaround", caller=caller)


@router.put(
    "/lab/turnaround",
    response_model=TurnaroundRules,
    summary="Set the lab's turnaround rules (a lab admin)",
    description=(
        "Each rule: business days (Monday to Friday, in the lab's time zone) from entering "
        "`stage` until the case ships, `min_days`-`max_days`. New estimates use them; the "
        "answer is the rules now in force."
    ),
    responses=errors(*SIGNED_IN, s403="Only a lab's admin sets turnaround rules"),
)
async def set_turnaround(
    payload: Annotated[TurnaroundRules, Body(openapi_examples=TURNAROUND)],
    caller: CallerDep,
    services: ServicesDep,
) -> Any:
    return await services.call("cases", "set_turnaround", caller=caller, payload=payload)
