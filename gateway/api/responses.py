"""The error answers routes document in OpenAPI, in the one shape gateway/errors.py gives them."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class FieldError(BaseModel):
    field: str = Field(examples=["body.password"])
    message: str = Field(examples=["at least 12 characters"])


class ErrorBody(BaseModel):
    """Every error: a message for a person, the request id, and per-field problems (422)."""

    detail: str = Field(examples=["invalid request: body.email"])
    request_id: str = Field(examples=["9b2f4c1e8a7d4e3f9c0b1a2d3e4f5a6b"])
    errors: list[FieldError] | None = None
    info: dict[str, Any] | None = Field(default=None, description="machine-readable details")


DESCRIPTIONS: dict[int, str] = {
    400: "Malformed request",
    401: "Not signed in, or the access token is not valid (WWW-Authenticate says which)",
    403: "Not allowed (a role the caller lacks), or a cookie session without a valid X-CSRF-Token",
    404: "No such resource in the caller's office",
    409: "Conflicts with the current state",
    410: "The link has expired",
    422: "A field's value is unacceptable; `errors` names each one",
    429: "Too many attempts; retry after the number of seconds in Retry-After",
    503: "A service is not running, or sign-in is not available yet",
}

_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}}
_CHALLENGE = {
    "WWW-Authenticate": {
        "description": 'Bearer, or Bearer error="invalid_token"',
        "schema": {"type": "string"},
    }
}

#: What every signed-in endpoint may answer besides its own errors.
SIGNED_IN = (401, 403, 422, 503)


def errors(*statuses: int, **descriptions: str) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: each status with the error body, a description (the
    defaults, or ``s404="..."`` to say more) and the headers the status carries."""
    documented: dict[int | str, dict[str, Any]] = {}
    for status in sorted(set(statuses)):
        entry: dict[str, Any] = {
            "model": ErrorBody,
            "description": descriptions.get(f"s{status}", DESCRIPTIONS[status]),
        }
        if status == 429:
            entry["headers"] = _RETRY_AFTER
        if status == 401:
            entry["headers"] = _CHALLENGE
        documented[status] = entry
    return documented
