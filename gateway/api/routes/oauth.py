"""The OAuth2 token endpoint for API clients: the client-credentials grant (RFC 6749, 4.4)."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any
from urllib.parse import unquote_plus

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from gateway.api.deps import ClientIpDep, ServicesDep
from gateway.api.responses import errors
from gateway.api.schemas import OAuthError
from shared.contracts.identity import ClientCredentials, ClientToken
from shared.errors import RemoteError

router = APIRouter(prefix="/api/v1/oauth", tags=["auth"])

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}  # RFC 6749 5.1 and 5.2
FORM = "application/x-www-form-urlencoded"
#: Service errors that mean "these credentials do not open anything".
CLIENT_REJECTED = frozenset({"unauthenticated", "not_found", "forbidden"})


class OAuthProblem(Exception):
    """An error answered in the RFC 6749 5.2 shape rather than the gateway's usual one."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.body = OAuthError.model_validate({"error": error, "error_description": description})

    def response(self) -> JSONResponse:
        headers = dict(NO_STORE)
        status = 401 if self.body.error == "invalid_client" else 400
        if status == 401:
            headers["WWW-Authenticate"] = 'Basic realm="bridgework"'
        return JSONResponse(self.body.model_dump(), status_code=status, headers=headers)


@router.post(
    "/token",
    response_model=ClientToken,
    summary="Exchange an API client's id and secret for an access token",
    description=(
        "OAuth2 client credentials (RFC 6749, section 4.4), form-encoded: "
        "`grant_type=client_credentials`, with the client id and secret in HTTP Basic "
        "authentication (preferred) or as `client_id` and `client_secret` in the form. The "
        "token acts for the client's office: send it as `Authorization: Bearer ...`. Errors "
        'follow RFC 6749, section 5.2: `{"error": ..., "error_description": ...}`.'
    ),
    responses={
        400: {"model": OAuthError, "description": "invalid_request or unsupported_grant_type"},
        401: {"model": OAuthError, "description": "invalid_client: unknown, wrong or revoked"},
        **errors(429, 503),
    },
)
async def issue_token(
    request: Request,
    services: ServicesDep,
    client_ip: ClientIpDep,
    grant_type: Annotated[str | None, Form(examples=["client_credentials"])] = None,
    client_id: Annotated[str | None, Form()] = None,
    client_secret: Annotated[str | None, Form()] = None,
    scope: Annotated[str | None, Form(description="ignored: the office's rights apply")] = None,
) -> Any:
    try:
        _check_grant(request, grant_type)
        credentials = _credentials(request, client_id, client_secret)
        answer = await services.call(
            "identity",
            "issue_client_token",
            payload=credentials,
            client_ip=client_ip,
        )
    except OAuthProblem as problem:
        return problem.response()
    except RemoteError as exc:
        if exc.remote_kind in CLIENT_REJECTED:
            return OAuthProblem("invalid_client", exc.message).response()
        if exc.remote_kind == "invalid":
            return OAuthProblem("invalid_request", exc.message).response()
        raise  # 429, 503...: the usual error answer
    token = ClientToken.model_validate(answer)
    return JSONResponse(token.model_dump(mode="json"), headers=NO_STORE)


def _check_grant(request: Request, grant_type: str | None) -> None:
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != FORM:
        raise OAuthProblem("invalid_request", f"send the parameters as {FORM}")
    if not grant_type:
        raise OAuthProblem("invalid_request", "grant_type is missing")
    if grant_type != "client_credentials":
        raise OAuthProblem(
            "unsupported_grant_type", "only grant_type=client_credentials is supported"
        )


def _credentials(
    request: Request, client_id: str | None, client_secret: str | None
) -> ClientCredentials:
    """The client's id and secret, from exactly one place: Basic auth or the form."""
    header = request.headers.get("Authorization")
    in_form = client_id is not None or client_secret is not None
    if header and in_form:
        raise OAuthProblem(
            "invalid_request", "send the credentials either in Basic auth or in the form, not both"
        )
    if header:
        client_id, client_secret = _basic(header)
    if not client_id or not client_secret:
        raise OAuthProblem("invalid_client", "client_id and client_secret are required")
    try:
        return ClientCredentials(client_id=client_id, client_secret=client_secret)
    except ValidationError:
        raise OAuthProblem("invalid_client", "unknown client or wrong secret") from None


def _basic(header: str) -> tuple[str, str]:
    """RFC 6749 2.3.1: base64 of ``urlencoded(id):urlencoded(secret)``."""
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        raise OAuthProblem("invalid_client", "use HTTP Basic authentication for the client")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise OAuthProblem("invalid_client", "malformed Basic credentials") from None
    client_id, colon, client_secret = decoded.partition(":")
    if not colon:
        raise OAuthProblem("invalid_client", "malformed Basic credentials")
    return unquote_plus(client_id), unquote_plus(client_secret)
