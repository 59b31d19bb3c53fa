"""Browser sessions: the tokens travel in cookies, guarded by a double-submitted CSRF token.

- ``bw_access``: the access JWT. HttpOnly (no script can read it), SameSite=Lax,
  sent to /api only.
- ``bw_refresh``: the refresh token. HttpOnly, SameSite=Strict, sent only to
  /api/v1/auth (refresh and logout), so a leak through any other route is impossible.
- ``bw_csrf``: the CSRF token, readable by the web app's script, which sends it
  back as ``X-CSRF-Token`` on unsafe requests. Another site can make the browser
  send the cookies but cannot read this one, so it cannot forge the header.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Literal

from fastapi import Request, Response

from shared.contracts.identity import TokenPair
from shared.errors import PermissionDenied

ACCESS_COOKIE = "bw_access"
REFRESH_COOKIE = "bw_refresh"
CSRF_COOKIE = "bw_csrf"
CSRF_HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
INVALID_CSRF = f"invalid CSRF token: send the {CSRF_COOKIE} cookie's value as {CSRF_HEADER}"

SameSite = Literal["lax", "strict"]
#: name -> (path, HttpOnly, SameSite)
_COOKIES: dict[str, tuple[str, bool, SameSite]] = {
    ACCESS_COOKIE: ("/api", True, "lax"),
    REFRESH_COOKIE: ("/api/v1/auth", True, "strict"),
    CSRF_COOKIE: ("/", False, "strict"),
}


def set_session_cookies(response: Response, pair: TokenPair, *, secure: bool) -> None:
    """Put a fresh session (login or refresh) in the three cookies."""
    values = {
        ACCESS_COOKIE: (pair.access_token, pair.expires_in),
        REFRESH_COOKIE: (pair.refresh_token, pair.refresh_expires_in),
        CSRF_COOKIE: (pair.csrf_token, pair.refresh_expires_in),
    }
    for name, (value, max_age) in values.items():
        path, httponly, samesite = _COOKIES[name]
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            path=path,
            secure=secure,
            httponly=httponly,
            samesite=samesite,
        )


def clear_session_cookies(response: Response, *, secure: bool) -> None:
    """Expire the three cookies (same path and flags, or the browser keeps the originals)."""
    for name, (path, httponly, samesite) in _COOKIES.items():
        response.delete_cookie(name, path=path, secure=secure, httponly=httponly, samesite=samesite)


def check_csrf_hash(request: Request, expected_hash: str | None) -> None:
    """403 unless X-CSRF-Token hashes (SHA-256, hex) to the access token's ``csrf`` claim."""
    sent = _sent_token(request)
    digest = hashlib.sha256(sent.encode()).hexdigest()
    if expected_hash is None or not hmac.compare_digest(digest, expected_hash):
        raise PermissionDenied(INVALID_CSRF)


def check_csrf_cookie(request: Request) -> None:
    """403 unless X-CSRF-Token equals the bw_csrf cookie: refresh and logout by cookie, when
    the access token (and its ``csrf`` claim) may already have expired."""
    sent = _sent_token(request)
    cookie = request.cookies.get(CSRF_COOKIE) or ""
    if not cookie or not hmac.compare_digest(sent.encode(), cookie.encode()):
        raise PermissionDenied(INVALID_CSRF)


def _sent_token(request: Request) -> str:
    sent = request.headers.get(CSRF_HEADER)
    if not sent:
        raise PermissionDenied(
            f"missing CSRF token: a request signed in by cookie must send the {CSRF_COOKIE} "
            f"cookie's value in the {CSRF_HEADER} header"
        )
    return sent
