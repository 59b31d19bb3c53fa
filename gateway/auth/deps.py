"""Who is calling, as FastAPI dependencies: a bearer token first, else the access cookie."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal
from uuid import UUID

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from gateway.auth.cookies import ACCESS_COOKIE, UNSAFE_METHODS, check_csrf_hash
from gateway.auth.sync import Auth
from gateway.auth.tokens import InvalidToken, NotSignedIn
from shared.contracts.common import Caller

# Declared as security schemes so the OpenAPI schema (and /docs) shows both ways in;
# auto_error=False because either one is enough and the rules below decide.
bearer_scheme = HTTPBearer(
    auto_error=False,
    description="An access token from POST /api/v1/auth/login or /api/v1/oauth/token.",
)
cookie_scheme = APIKeyCookie(
    name=ACCESS_COOKIE,
    auto_error=False,
    description="Browser sessions (login with session=cookie); unsafe methods need X-CSRF-Token.",
)


@dataclass(frozen=True)
class Principal:
    """A verified caller, with the session its token belongs to."""

    caller: Caller
    session_id: UUID | None
    csrf_hash: str | None
    via: Literal["bearer", "cookie"]


async def get_auth(request: Request) -> Auth:
    auth: Auth = request.app.state.auth
    return auth


AuthDep = Annotated[Auth, Depends(get_auth)]


def bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer`` header; 401 for any other scheme."""
    header = request.headers.get("Authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken("the Authorization header must be 'Bearer <access token>'")
    return token.strip()


async def optional_principal(
    request: Request,
    auth: AuthDep,
    _bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    _cookie: Annotated[str | None, Depends(cookie_scheme)],
) -> Principal | None:
    """The caller if the request carries credentials; None if it carries none.

    A bearer token wins over cookies and needs no CSRF header (a browser never
    adds one on its own); a cookie-authenticated unsafe request must prove it
    comes from our page with X-CSRF-Token.
    """
    token = bearer_token(request)
    via: Literal["bearer", "cookie"] = "bearer"
    if token is None:
        token, via = request.cookies.get(ACCESS_COOKIE), "cookie"
    if not token:
        return None
    claims = await auth.verifier.verify(token)
    if via == "cookie" and request.method in UNSAFE_METHODS:
        check_csrf_hash(request, claims.csrf)
    return Principal(caller=claims.caller(), session_id=claims.sid, csrf_hash=claims.csrf, via=via)


async def require_principal(
    principal: Annotated[Principal | None, Depends(optional_principal)],
) -> Principal:
    if principal is None:
        raise NotSignedIn("sign in first: send a bearer token or the session cookies")
    return principal


async def require_caller(principal: Annotated[Principal, Depends(require_principal)]) -> Caller:
    return principal.caller


async def optional_caller(
    principal: Annotated[Principal | None, Depends(optional_principal)],
) -> Caller | None:
    return principal.caller if principal else None


PrincipalDep = Annotated[Principal, Depends(require_principal)]
CallerDep = Annotated[Caller, Depends(require_caller)]
OptionalCallerDep = Annotated[Caller | None, Depends(optional_caller)]
