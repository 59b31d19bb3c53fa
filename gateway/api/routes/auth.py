"""Sign-up, e-mail verification and password reset: the endpoints used before signing in."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Response, status

from gateway.api import schemas
from gateway.api.deps import ClientIpDep, ServicesDep
from gateway.api.responses import errors
from gateway.api.schemas import Notice
from shared.contracts.identity import (
    PasswordResetConfirm,
    PasswordResetRequest,
    ResendVerification,
    SignUp,
    SignUpResult,
    TokenIn,
    VerifyResult,
)

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


@router.post(
    "/signup",
    status_code=status.HTTP_201_CREATED,
    response_model=SignUpResult,
    summary="Register a new office and its admin",
    description=(
        "Creates the office and its first user (the office admin) and e-mails a verification "
        "link. The password needs 12 characters or more with upper case, lower case and a "
        "digit, and must not be a common one; a 422 names every rule it breaks. If the e-mail "
        "or phone already belongs to an office, the 409 names only that office, so you can "
        "ask its admin for an invitation."
    ),
    responses=errors(409, 422, 429, s409="The office exists; `info.office_name` names it"),
)
async def sign_up(
    payload: Annotated[SignUp, Body(openapi_examples=schemas.SIGN_UP)],
    services: ServicesDep,
    client_ip: ClientIpDep,
) -> Any:
    return await services.call("identity", "sign_up", payload=payload, client_ip=client_ip)


@router.post(
    "/verify",
    response_model=VerifyResult,
    summary="Verify the e-mail address with the link's token",
    description="Single use. An expired link is a 410: POST /auth/resend with its token.",
    responses=errors(410, 422, s422="Unknown or already used link"),
)
async def verify_email(
    body: Annotated[TokenIn, Body(openapi_examples=schemas.LINK)],
    services: ServicesDep,
    client_ip: ClientIpDep,
) -> Any:
    return await services.call("identity", "verify_email", token=body.token, client_ip=client_ip)


@router.post(
    "/resend",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Notice,
    summary="Send a fresh verification link",
    description=(
        "By e-mail address, or by the token of the expired link that was clicked. The answer "
        "is the same whether or not the address has an account."
    ),
    responses=errors(422, 429),
)
async def resend_verification(
    payload: Annotated[ResendVerification, Body(openapi_examples=schemas.RESEND)],
    services: ServicesDep,
    client_ip: ClientIpDep,
) -> Notice:
    await services.call(
        "identity",
        "resend_verification",
        payload=payload,
        client_ip=client_ip,
    )
    return Notice(detail="if the address is waiting for verification, a new link is on its way")


@router.post(
    "/password-reset",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Notice,
    summary="E-mail a password reset link",
    description="The link works for 30 minutes. The answer is the same for unknown addresses.",
    responses=errors(422, 429),
)
async def request_password_reset(
    payload: Annotated[PasswordResetRequest, Body(openapi_examples=schemas.RESET)],
    services: ServicesDep,
    client_ip: ClientIpDep,
) -> Notice:
    await services.call(
        "identity",
        "request_password_reset",
        payload=payload,
        client_ip=client_ip,
    )
    return Notice(detail="if the address has an account, a reset link is on its way")


@router.post(
    "/password-reset/confirm",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Set a new password with the reset link's token",
    description="Ends every session of the account.",
    responses=errors(410, 422, 429),
)
async def reset_password(
    payload: Annotated[PasswordResetConfirm, Body(openapi_examples=schemas.RESET_CONFIRM)],
    services: ServicesDep,
    client_ip: ClientIpDep,
) -> Response:
    await services.call("identity", "reset_password", payload=payload, client_ip=client_ip)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
