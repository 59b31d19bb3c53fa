"""The internal HTTP transfers: ``PUT /transfers/<ticket>`` and ``GET /transfers/<ticket>``.

The body is read from ``request.stream`` in 64 KiB chunks (werkzeug does not
buffer it), so neither direction ever holds a whole file in memory.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from sqlalchemy.orm import Session
from werkzeug.wrappers import Request, Response

from files import tickets, uploads
from files.catalog import file_out
from files.dependencies import Settings
from files.exceptions import FileNotFound, FileTooLarge
from files.headers import download_headers
from files.models import File, TransferTicket
from files.storage import Storage
from shared.contracts import Caller
from shared.errors import BridgeworkError

log = logging.getLogger(__name__)

STATUS = {
    "invalid": 422,
    "not_found": 404,
    "gone": 410,
    "conflict": 409,
    "too_large": 413,
    "unavailable": 503,
}


def error_response(error: BridgeworkError) -> Response:
    """``{"detail", "errors": [{"field": "file", "message"}]}`` with the kind's status."""
    details = error.details if isinstance(error.details, list) else None
    body = {
        "detail": error.message,
        "errors": details or [{"field": "file", "message": error.message}],
    }
    return Response(
        json.dumps(body), status=STATUS.get(error.kind, 400), mimetype="application/json"
    )


def original_name(request: Request, fallback: str | None) -> str | None:
    """The sanitised original name: the header (percent-encoded UTF-8), else the ticket's."""
    raw = request.headers.get("X-Original-Filename")
    name = unquote(raw, errors="replace") if raw else fallback
    if not name:
        return None
    from files.inspection import sanitize_filename

    return sanitize_filename(name) or None


def body_stream(request: Request) -> Any:
    """The request body, unbuffered; a chunked body (no length) straight from the server.

    Werkzeug hands out an empty ``request.stream`` when there is no Content-Length
    and the server did not promise to end the input; eventlet's input decodes the
    chunks itself, and ``spool`` bounds what is read.
    """
    if (
        request.content_length is None
        and "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    ):
        return request.environ["wsgi.input"]
    return request.stream


_NOT_READ = "the rest of a refused upload is not read"


class _QuietRefusals(logging.Filter):
    """eventlet reports the closed connection of a refused upload as an I/O error: it is not."""

    def filter(self, record: logging.LogRecord) -> bool:
        return _NOT_READ not in record.getMessage()


logging.getLogger("nameko.web.server").addFilter(_QuietRefusals())


def _stop_reading(request: Request) -> None:
    """Close the connection after the answer instead of letting the server drain the body.

    eventlet reads and discards an unread body to keep the connection; failing
    that discard makes it close the connection instead.
    """
    stream = request.environ.get("wsgi.input")

    def refuse(*_args: Any, **_kwargs: Any) -> None:
        raise OSError(_NOT_READ)

    if stream is not None and hasattr(stream, "discard"):
        stream.discard = refuse


def receive(
    session: Session,
    storage: Storage,
    settings: Settings,
    *,
    token: str,
    request: Request,
    on_stored: Callable[[File], None],
    may_still_add: Callable[[Caller, TransferTicket], None],
) -> Response:
    """The whole PUT: ticket, spool, inspect, store; an error body names the file and why.

    ``may_still_add`` asks the owner's service again once the bytes are in (a referral or
    case closed since the ticket was issued takes no more files) and raises if not.
    """
    try:
        ticket = tickets.consume(session, token=token, purposes=("upload",))
    except BridgeworkError as error:
        _stop_reading(request)
        return error_response(error)
    session.commit()  # single use, whatever happens next
    who = tickets.caller_of_ticket(ticket)
    name = original_name(request, ticket.filename)
    spooled = None
    try:
        declared = request.content_length
        if declared is not None and declared > settings.max_file_bytes:
            raise FileTooLarge(settings.max_file_bytes, name)
        spooled = uploads.spool(
            body_stream(request),
            spool_dir=settings.spool_dir,
            max_bytes=settings.max_file_bytes,
            name=name,
        )
        inspection = uploads.inspect_spooled(spooled, name=name, settings=settings)
        if str(inspection.kind) == "dicom":
            uploads.zero_preamble(spooled)
        may_still_add(who, ticket)
        stored = uploads.store(
            session,
            storage,
            settings,
            ticket=ticket,
            who=who,
            spooled=spooled,
            inspection=inspection,
            name=name,
            commit=session.commit,
        )
    except BridgeworkError as error:
        session.rollback()
        if error.kind == "too_large":
            _stop_reading(request)
        response = error_response(_named(error, name))
        uploads.reject(
            session, ticket=ticket, who=who, error=error, status=response.status_code, name=name
        )
        session.commit()
        return response
    except Exception:
        # Not the caller's fault (the store, the database): its detail goes to the log only.
        session.rollback()
        _stop_reading(request)
        log.exception("an upload failed")
        return _internal_error()
    finally:
        if spooled is not None:
            spooled.remove()
    on_stored(stored)
    body = file_out(stored, who=who).model_dump(mode="json")
    return Response(json.dumps(body), status=201, mimetype="application/json")


def _named(error: BridgeworkError, name: str | None) -> BridgeworkError:
    """A refusal of the content names the file (the event keeps only the reason)."""
    if error.kind != "invalid" or not name or name in error.message:
        return error
    message = f"{name}: {error.message}"
    return _Refused(message, error.details)


class _Refused(BridgeworkError):
    kind = "invalid"

    def __init__(self, message: str, details: Any) -> None:
        super().__init__(message, details=[{"field": "file", "message": message}])
        self.original_details = details


def send(session: Session, storage: Storage, *, token: str) -> Response:
    """The GET: the file or its preview, streamed with its headers."""
    try:
        ticket = tickets.consume(session, token=token, purposes=("download", "preview"))
        found = session.get(File, ticket.file_id) if ticket.file_id else None
        if found is None or found.deleted_at is not None:
            raise FileNotFound()
    except BridgeworkError as error:
        return error_response(error)
    session.commit()
    name = found.original_name or f"file-{found.id}"
    if ticket.purpose == "preview":
        if not found.preview_key:
            return error_response(FileNotFound("preview"))
        stem = name.rsplit(".", 1)[0]
        key = found.preview_key
        headers = download_headers(
            media_type="image/png",
            size=int(found.metadata_.get("_preview_size") or storage.size(key)),
            sha256=str(found.metadata_.get("_preview_sha256", "")),
            filename=f"{stem}-preview.png",
            inline=True,
        )
    else:
        key = found.storage_key
        headers = download_headers(
            media_type=found.media_type,
            size=found.size,
            sha256=found.sha256,
            filename=name,
            inline=ticket.disposition == "inline",
        )
    try:
        chunks = storage.open_stream(key)
    except Exception:
        log.exception("a stored object could not be read")
        return _internal_error()
    return Response(chunks, status=200, headers=headers, direct_passthrough=True)


def _internal_error() -> Response:
    body = {"detail": "internal error", "errors": []}
    return Response(json.dumps(body), status=500, mimetype="application/json")
