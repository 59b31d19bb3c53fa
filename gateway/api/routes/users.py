"""The office's people: list, invite staff, change a role, remove."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Body, Response, status

from gateway.api import schemas
from gateway.api.deps import ClientIpDep, IdempotencyKeyDep, ServicesDep
from gateway.api.responses import SIGNED_IN, errors
from gateway.auth.deps import CallerDep
from shared.contracts.identity import InvitationOut, RoleChange, StaffInvitationIn, UserOut

router = APIRouter(prefix="/api/v1/office/users", tags=["office"])


@router.get(
    "",
    response_model=list[UserOut],
    summary="The office's users",
    responses=errors(*SIGNED_IN),
)
async def list_users(caller: CallerDep, services: ServicesDep) -> Any:
    return await services.call("identity", "list_users", caller=caller)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=InvitationOut,
    summary="Invite a person to join the office (office admin)",
    description="E-mails a registration link; the person becomes a user when they accept it.",
    responses=errors(*SIGNED_IN, 409),
)
async def invite_staff(
    payload: Annotated[StaffInvitationIn, Body(openapi_examples=schemas.STAFF_INVITE)],
    caller: CallerDep,
    services: ServicesDep,
    client_ip: ClientIpDep,
    idempotency_key: IdempotencyKeyDep = None,
) -> Any:
    return await services.call(
        "identity",
        "invite_staff",
        caller=caller,
        payload=payload,
        client_ip=client_ip,
        idempotency_key=idempotency_key,
    )


@router.get(
    "/{user_id}",
    response_model=UserOut,
    summary="One user of the office",
    responses=errors(*SIGNED_IN, 404),
)
async def get_user(user_id: UUID, caller: CallerDep, services: ServicesDep) -> Any:
    return await services.call("identity", "get_user", caller=caller, user_id=str(user_id))


@router.patch(
    "/{user_id}",
    response_model=UserOut,
    summary="Change a user's role (office admin)",
    description="The user's sessions end; they sign in again with the new role.",
    responses=errors(*SIGNED_IN, 404, 409, s409="The office's last admin keeps that role"),
)
async def change_role(
    user_id: UUID,
    payload: Annotated[RoleChange, Body(openapi_examples=schemas.ROLE_CHANGE)],
    caller: CallerDep,
    services: ServicesDep,
    client_ip: ClientIpDep,
) -> Any:
    return await services.call(
        "identity",
        "change_role",
        caller=caller,
        user_id=str(user_id),
        payload=payload,
        client_ip=client_ip,
    )


@router.delete(
    "/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Remove a user from the office (office admin)",
    description="Their sessions end. The office's last admin cannot be removed.",
    responses=errors(*SIGNED_IN, 404, 409),
)
async def remove_user(
    user_id: UUID, caller: CallerDep, services: ServicesDep, client_ip: ClientIpDep
) -> Response:
    await services.call(
        "identity",
        "remove_user",
        caller=caller,
        user_id=str(user_id),
        client_ip=client_ip,
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
