"""The signed-in caller: who they are, and their password."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Response, status

from gateway.api import schemas
from gateway.api.deps import ClientIpDep, ServicesDep, SettingsDep
from gateway.api.responses import SIGNED_IN, errors
from gateway.auth.cookies import clear_session_cookies
from gateway.auth.deps import AuthDep, CallerDep, PrincipalDep
from shared.contracts.identity import Me, PasswordChange

router = APIRouter(prefix="/api/v1/me", tags=["me"])


@router.get(
    "",
    response_model=Me,
    summary="Who is calling: the user (or API client), their role and office",
    description="`office.setup` says what the one-time setup still needs.",
    responses=errors(*SIGNED_IN),
)
async def get_me(caller: CallerDep, services: ServicesDep) -> Any:
    return await services.call("identity", "get_me", caller=caller)


@router.post(
    "/password",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Change the password",
    description=(
        "Needs the current password; the new one follows the sign-up rules. Every session of "
        "the user ends, this one included (its cookies are cleared): sign in again."
    ),
    responses=errors(*SIGNED_IN),
)
async def change_password(
    payload: Annotated[PasswordChange, Body(openapi_examples=schemas.PASSWORD_CHANGE)],
    principal: PrincipalDep,
    services: ServicesDep,
    settings: SettingsDep,
    auth: AuthDep,
    client_ip: ClientIpDep,
) -> Response:
    session_id = principal.session_id
    await services.call(
        "identity",
        "change_password",
        caller=principal.caller,
        payload=payload,
        session_id=str(session_id) if session_id else None,
        client_ip=client_ip,
    )
    if session_id is not None:
        auth.revocations.revoke_session(session_id)  # the others follow by polling
    answer = Response(status_code=status.HTTP_204_NO_CONTENT)
    clear_session_cookies(answer, secure=settings.cookie_secure)
    return answer
