"""The caller's office: its profile (the one-time setup), the terms of use and the audit log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query

from gateway.api import schemas
from gateway.api.deps import ClientIpDep, ServicesDep
from gateway.api.responses import SIGNED_IN, errors
from gateway.auth.deps import CallerDep
from shared.contracts.identity import AuditEntry, OfficeOut, OfficeUpdate, TermsAcceptance

router = APIRouter(prefix="/api/v1/office", tags=["office"])


@router.get(
    "",
    response_model=OfficeOut,
    summary="The caller's office",
    responses=errors(*SIGNED_IN),
)
async def get_office(caller: CallerDep, services: ServicesDep) -> Any:
    return await services.call("identity", "get_office", caller=caller)


@router.patch(
    "",
    response_model=OfficeOut,
    summary="Update the office information (office admin)",
    description=(
        "The one-time setup after verification, and later edits: name, kind, specialty, "
        "contact details, address, time zone, preferred tooth notation, whether it accepts "
        "referrals. Omitted fields stay as they are. This information travels with every "
        "referral and case the office sends."
    ),
    responses=errors(*SIGNED_IN),
)
async def update_office(
    payload: Annotated[OfficeUpdate, Body(openapi_examples=schemas.OFFICE_UPDATE)],
    caller: CallerDep,
    services: ServicesDep,
) -> Any:
    return await services.call(
        "identity",
        "update_office",
        caller=caller,
        payload=payload.model_dump(mode="json", exclude_unset=True),
    )


@router.post(
    "/terms",
    response_model=OfficeOut,
    summary="Accept the Terms of Use (HIPAA and PIPEDA) for the office (office admin)",
    description="Recorded with the version, the user and the time.",
    responses=errors(*SIGNED_IN, 409),
)
async def accept_terms(
    payload: Annotated[TermsAcceptance, Body(openapi_examples=schemas.TERMS)],
    caller: CallerDep,
    services: ServicesDep,
    client_ip: ClientIpDep,
) -> Any:
    return await services.call(
        "identity",
        "accept_terms",
        caller=caller,
        payload=payload,
        client_ip=client_ip,
    )


@router.get(
    "/audit",
    response_model=list[AuditEntry],
    summary="The office's audit log, newest first (office admin)",
    description=(
        "Logins, logouts, password and role changes, invitations and API-client changes. "
        "Page with `before_id` = the last id of the previous page."
    ),
    responses=errors(*SIGNED_IN),
)
async def list_audit(
    caller: CallerDep,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    before_id: Annotated[int | None, Query(ge=1)] = None,
) -> Any:
    return await services.call(
        "identity",
        "list_audit",
        caller=caller,
        limit=limit,
        before_id=before_id,
    )
