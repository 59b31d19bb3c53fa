"""Every error, mapped to HTTP in one table.

Services raise typed errors whose ``kind`` travels in the RPC error reply;
this table turns the kind into a status. Anything else is a 500 that shows
only the request id: its detail goes to the log, not to the client.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.errors import BridgeworkError, RemoteError
from shared.logging import request_id_var

log = logging.getLogger(__name__)

STATUS_BY_KIND: dict[str, int] = {
    "invalid": 422,
    "not_found": 404,
    "conflict": 409,
    "gone": 410,
    "too_large": 413,
    "unauthenticated": 401,
    "forbidden": 403,
    "rate_limited": 429,
    "unavailable": 503,
    "timeout": 504,
}


def _body(status: int, message: str, **extra: Any) -> JSONResponse:
    content: dict[str, Any] = {"detail": message, "request_id": request_id_var.get()}
    content.update({key: value for key, value in extra.items() if value is not None})
    return JSONResponse(status_code=status, content=content)


async def bridgework_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, BridgeworkError)
    kind = exc.remote_kind if isinstance(exc, RemoteError) else exc.kind
    status = STATUS_BY_KIND.get(kind, 500)
    if status == 500:
        log.error(
            "unexpected error from a service",
            extra={"exc_type": getattr(exc, "exc_type", type(exc).__name__)},
        )
        return _body(500, "internal error; quote the request id when reporting it")
    response = _body(
        status, exc.message, errors=_field_errors(exc.details), info=_info(exc.details)
    )
    response.headers.update(_headers(exc, kind))
    return response


def _headers(exc: BridgeworkError, kind: str) -> dict[str, str]:
    """Headers the status calls for: the challenge of a 401 raised here (the gateway's own
    errors may carry ``headers``), Retry-After of a 429 from the service's details."""
    headers: dict[str, str] = dict(getattr(exc, "headers", None) or {})
    retry_after = exc.details.get("retry_after") if isinstance(exc.details, dict) else None
    if kind == "rate_limited" and isinstance(retry_after, int | float) and retry_after >= 0:
        headers["Retry-After"] = str(math.ceil(retry_after))  # RFC 9110: whole seconds
    return headers


def _field_errors(details: Any) -> list[Any] | None:
    return details if isinstance(details, list) else None


def _info(details: Any) -> dict[str, Any] | None:
    return details if isinstance(details, dict) else None


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    """422 naming every field at once: [{"field": "query.tooth", "message": ...}, ...]."""
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"field": ".".join(str(part) for part in error["loc"]), "message": error["msg"]}
        for error in exc.errors()
    ]
    fields = ", ".join(error["field"] for error in errors)
    return _body(422, f"invalid request: {fields}", errors=errors)


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return _body(exc.status_code, str(exc.detail))


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    app.add_exception_handler(BridgeworkError, bridgework_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    # Anything else is answered 500 by gateway.observability.RequestContextMiddleware.
