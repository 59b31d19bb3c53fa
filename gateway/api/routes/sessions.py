"""Log in, refresh and log out: bearer tokens for API callers, cookies for the browser."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, Response, status

from gateway.api import schemas
from gateway.api.deps import ClientIpDep, ServicesDep, SettingsDep, UserAgentDep
from gateway.api.responses import errors
from gateway.api.schemas import CookieSession, LoginRequest, LogoutRequest, RefreshRequest
from gateway.auth.cookies import (
    ACCESS_COOKIE,
    REFRESH_COOKIE,
    check_csrf_cookie,
    clear_session_cookies,
    set_session_cookies,
)
from gateway.auth.deps import AuthDep, bearer_token
from gateway.auth.tokens import NotSignedIn
from shared.contracts.identity import TokenPair
from shared.errors import RemoteError

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}  # RFC 6749 5.1: tokens
#: log_out errors meaning the session is already over: logging out again is not an error.
ALREADY_ENDED = frozenset({"unauthenticated", "not_found", "invalid", "gone"})


def _answer(
    pair: TokenPair, cookie: bool, response: Response, secure: bool
) -> TokenPair | CookieSession:
    response.headers.update(NO_STORE)
    if not cookie:
        return pair
    set_session_cookies(response, pair, secure=secure)
    return CookieSession(
        csrf_token=pair.csrf_token, expires_in=pair.expires_in, session_id=pair.session_id
    )


@router.post(
    "/login",
    response_model=TokenPair | CookieSession,
    summary="Log in with e-mail and password",
    description=(
        '`"session": "token"` (the default) answers the access and refresh tokens (send the '
        'access token as `Authorization: Bearer ...`). `"session": "cookie"` sets the '
        "`bw_access`, `bw_refresh` (HttpOnly) and `bw_csrf` cookies and answers only the CSRF "
        "token: send it as `X-CSRF-Token` on every POST, PUT, PATCH and DELETE. An unknown "
        "e-mail, a wrong password and a locked account get the same 401; ten failures lock "
        "the account for 15 minutes."
    ),
    responses=errors(401, 403, 422, 429, s403="Right password, but the e-mail is not verified yet"),
)
async def log_in(
    body: Annotated[LoginRequest, Body(openapi_examples=schemas.LOGIN)],
    response: Response,
    services: ServicesDep,
    settings: SettingsDep,
    client_ip: ClientIpDep,
    user_agent: UserAgentDep,
) -> Any:
    answer = await services.call(
        "identity",
        "log_in",
        payload=body.model_dump(mode="json", exclude={"session"}),
        client_ip=client_ip,
        user_agent=user_agent,
    )
    pair = TokenPair.model_validate(answer)
    return _answer(pair, body.session == "cookie", response, settings.cookie_secure)


@router.post(
    "/refresh",
    response_model=TokenPair | CookieSession,
    summary="Renew the access token (the refresh token is rotated)",
    description=(
        "API callers send `refresh_token` and get a new pair. The browser sends no body: the "
        "`bw_refresh` cookie is used, `X-CSRF-Token` must equal the `bw_csrf` cookie, and the "
        "cookies are replaced. A refresh token used twice ends its session."
    ),
    responses=errors(401, 403, 422, 429, s403="Cookie refresh without the right X-CSRF-Token"),
)
async def refresh(
    request: Request,
    response: Response,
    services: ServicesDep,
    settings: SettingsDep,
    client_ip: ClientIpDep,
    body: Annotated[RefreshRequest | None, Body(openapi_examples=schemas.REFRESH)] = None,
) -> Any:
    token = body.refresh_token if body else None
    cookie = token is None
    if cookie:
        token = request.cookies.get(REFRESH_COOKIE)
        if not token:
            raise NotSignedIn("send refresh_token, or sign in again: no session cookie")
        check_csrf_cookie(request)
    answer = await services.call(
        "identity", "refresh_session", refresh_token=token, client_ip=client_ip
    )
    pair = TokenPair.model_validate(answer)
    return _answer(pair, cookie, response, settings.cookie_secure)


@router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="End the session",
    description=(
        "Ends the session of the access token (bearer or cookie, even an expired one) or of "
        "the refresh token (body or cookie), everywhere within seconds, and clears the "
        "cookies. A browser session needs `X-CSRF-Token` equal to the `bw_csrf` cookie."
    ),
    responses=errors(401, 403, 422),
)
async def log_out(
    request: Request,
    services: ServicesDep,
    settings: SettingsDep,
    auth: AuthDep,
    client_ip: ClientIpDep,
    body: Annotated[LogoutRequest | None, Body(openapi_examples=schemas.REFRESH)] = None,
) -> Response:
    access = bearer_token(request)
    refresh_token = body.refresh_token if body else None
    if access is None and refresh_token is None:  # a browser session: its cookies
        access = request.cookies.get(ACCESS_COOKIE)
        refresh_token = request.cookies.get(REFRESH_COOKIE)
        if access or refresh_token:
            check_csrf_cookie(request)
    session_id = await auth.verifier.session_of(access) if access else None
    if session_id is None and refresh_token is None:
        raise NotSignedIn("nothing to log out: send the access or the refresh token")
    try:
        await services.call(
            "identity",
            "log_out",
            session_id=str(session_id) if session_id else None,
            refresh_token=refresh_token,
            client_ip=client_ip,
        )
    except RemoteError as exc:
        if exc.remote_kind not in ALREADY_ENDED:
            raise
    if session_id is not None:
        auth.revocations.revoke_session(session_id)  # here at once; other gateways by polling
    answer = Response(status_code=status.HTTP_204_NO_CONTENT)
    clear_session_cookies(answer, secure=settings.cookie_secure)
    return answer
