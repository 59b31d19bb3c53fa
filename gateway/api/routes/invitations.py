"""Invitations: an office invites another office to become colleagues; anyone holding the link
previews and accepts it, signed in (to link their office) or not (to create an account)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Body, Response, status

from gateway.api import schemas
from gateway.api.deps import ClientIpDep, IdempotencyKeyDep, ServicesDep
from gateway.api.responses import SIGNED_IN, errors
from gateway.auth.deps import CallerDep, OptionalCallerDep
from shared.contracts.identity import (
    AcceptedInvitation,
    AcceptInvitation,
    InvitationIn,
    InvitationOut,
    InvitationPreview,
    TokenIn,
)

router = APIRouter(prefix="/api/v1/invitations", tags=["invitations"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=InvitationOut,
    summary="Invite another office by e-mail (office admin)",
    description=(
        "The e-mail carries a registration link; accepting it makes the offices colleagues."
    ),
    responses=errors(*SIGNED_IN, 409),
)
async def create_invitation(
    payload: Annotated[InvitationIn, Body(openapi_examples=schemas.INVITATION)],
    caller: CallerDep,
    services: ServicesDep,
    client_ip: ClientIpDep,
    idempotency_key: IdempotencyKeyDep = None,
) -> Any:
    return await services.call(
        "identity",
        "create_invitation",
        caller=caller,
        payload=payload,
        client_ip=client_ip,
        idempotency_key=idempotency_key,
    )


@router.get(
    "",
    response_model=list[InvitationOut],
    summary="Invitations the office has sent",
    responses=errors(*SIGNED_IN),
)
async def list_invitations(caller: CallerDep, services: ServicesDep) -> Any:
    return await services.call("identity", "list_invitations", caller=caller)


@router.delete(
    "/{invitation_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Withdraw a pending invitation (office admin)",
    responses=errors(*SIGNED_IN, 404, 409),
)
async def revoke_invitation(
    invitation_id: UUID, caller: CallerDep, services: ServicesDep, client_ip: ClientIpDep
) -> Response:
    await services.call(
        "identity",
        "revoke_invitation",
        caller=caller,
        invitation_id=str(invitation_id),
        client_ip=client_ip,
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/preview",
    response_model=InvitationPreview,
    summary="What an invitation link is for (no sign-in needed)",
    description="For the landing page of the link: who invites, and whether an account exists.",
    responses=errors(410, 422),
)
async def preview_invitation(
    body: Annotated[TokenIn, Body(openapi_examples=schemas.LINK)], services: ServicesDep
) -> Any:
    return await services.call("identity", "get_invitation", token=body.token)


@router.post(
    "/accept",
    response_model=AcceptedInvitation,
    summary="Accept an invitation",
    description=(
        "Signed in: links the caller's office (the offices become colleagues). Not signed in: "
        "creates the account with `password` (and `phone` for a new office, `name` for a new "
        "staff member)."
    ),
    responses=errors(401, 403, 409, 410, 422, 503),
)
async def accept_invitation(
    payload: Annotated[AcceptInvitation, Body(openapi_examples=schemas.ACCEPT)],
    caller: OptionalCallerDep,
    services: ServicesDep,
    client_ip: ClientIpDep,
) -> Any:
    return await services.call(
        "identity",
        "accept_invitation",
        payload=payload,
        caller=caller if caller else None,
        client_ip=client_ip,
    )
