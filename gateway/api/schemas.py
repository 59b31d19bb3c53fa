"""HTTP bodies whose shape differs from the RPC contract (sessions, OAuth), and the request
examples shown in OpenAPI. Everything else is a model of shared/contracts/identity.py."""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field

from shared.contracts.identity import LogIn, Strict

_REFRESH = Field(default=None, min_length=16, max_length=200)


class LoginRequest(LogIn):
    """E-mail and password; ``session`` picks bearer tokens in the body or browser cookies."""

    session: Literal["token", "cookie"] = Field(
        default="token",
        description="token: the tokens in the body (API callers); cookie: HttpOnly cookies "
        "plus a CSRF token (the web app)",
    )


class CookieSession(BaseModel):
    """A browser session: the tokens are in HttpOnly cookies, never in the body."""

    csrf_token: str = Field(description="send as X-CSRF-Token on POST/PUT/PATCH/DELETE")
    expires_in: int = Field(description="seconds until the access cookie expires")
    session_id: UUID


class RefreshRequest(Strict):
    """The refresh token; omit the body to refresh the browser session of the cookies."""

    refresh_token: str | None = _REFRESH


class LogoutRequest(Strict):
    """Optional: the refresh token, when the access token is not at hand."""

    refresh_token: str | None = _REFRESH


class Notice(BaseModel):
    """An accepted request whose outcome is not told (so it says nothing about who exists)."""

    detail: str


class OAuthError(BaseModel):
    """RFC 6749, section 5.2."""

    error: Literal["invalid_request", "invalid_client", "unsupported_grant_type"]
    error_description: str


def example(summary: str, value: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {summary: {"summary": summary, "value": value}}


EMAIL = "frontdesk@brightsmiles.example"
PASSWORD = "Molar-Crown-2026"  # noqa: S105 - documentation example
LINK_TOKEN = "Vq3b0f9mI0rQ2eF9l3F1xw8cNnq7Z3qz"  # noqa: S105 - documentation example

SIGN_UP = example(
    "A new office", {"email": EMAIL, "phone": "+1 416 555 0134", "password": PASSWORD}
)
LINK = example("The token from the e-mailed link", {"token": LINK_TOKEN})
RESEND = {
    **example("By e-mail", {"email": EMAIL}),
    **example("By the expired link's token", {"token": LINK_TOKEN}),
}
LOGIN = {
    **example("API caller (bearer tokens)", {"email": EMAIL, "password": PASSWORD}),
    **example("Browser (cookies)", {"email": EMAIL, "password": PASSWORD, "session": "cookie"}),
}
REFRESH = example("API caller", {"refresh_token": "rT9x2LqV0bN4mZ8cW1yE6uH3sK5aJ7dF"})
RESET = example("Ask for a reset link", {"email": EMAIL})
RESET_CONFIRM = example("Set the new password", {"token": LINK_TOKEN, "password": PASSWORD})
PASSWORD_CHANGE = example(
    "Change", {"current_password": "Old-Molar-Crown-2025", "new_password": PASSWORD}
)
OFFICE_UPDATE = example(
    "One-time setup",
    {
        "name": "Bright Smiles Dental",
        "kind": "general_practice",
        "address": {
            "street": "120 King St W, Suite 400",
            "city": "Toronto",
            "region": "ON",
            "postal_code": "M5H 1J9",
            "country": "CA",
        },
        "time_zone": "America/Toronto",
        "notation": "universal",
    },
)
TERMS = example("Accept the current terms", {"version": "2026-11"})
PROVIDER = example("A doctor", {"display_name": "Dr. Amara Okafor", "specialty": "Oral surgery"})
PROVIDER_UPDATE = example("Rename", {"display_name": "Dr. Amara Okafor-Reid"})
STAFF_INVITE = example("A front-desk colleague", {"email": "reception@brightsmiles.example"})
ROLE_CHANGE = example("Make an admin", {"role": "admin"})
INVITATION = example(
    "Invite a referring office",
    {"email": "info@northside-dental.example", "message": "We would be glad to see your cases."},
)
ACCEPT = {
    **example("Signed in: link my office", {"token": LINK_TOKEN}),
    **example(
        "New office",
        {"token": LINK_TOKEN, "phone": "+1 905 555 0199", "password": PASSWORD},
    ),
    **example(
        "New staff member",
        {"token": LINK_TOKEN, "name": "Jordan Lee", "password": PASSWORD},
    ),
}
API_CLIENT = example("A practice-management system", {"name": "Practice management sync"})
