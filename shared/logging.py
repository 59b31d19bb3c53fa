"""JSON log lines carrying the request id, for the gateway and every service.

The gateway picks a request id for each HTTP request (or keeps a well-formed
``X-Request-ID`` from the client) and sends it as nameko context data
(``nameko.request_id``) with every RPC. Nameko copies context data into the
calls and events a worker makes, and each service sets it again on the
worker's context variable, so one id joins the log lines of one request
across processes. Log lines carry ids and names of things, never patient
data: log the referral id, not the patient's name.
"""

from __future__ import annotations

import contextvars
import logging
import logging.config
import os
import re
import traceback
import uuid
from typing import Any

from pythonjsonlogger.json import JsonFormatter as _BaseJsonFormatter

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "bridgework_request_id", default=None
)

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")


def new_request_id() -> str:
    """A fresh random request id."""
    return uuid.uuid4().hex


def clean_request_id(value: str | None) -> str:
    """The client's request id if it is safe to log and forward, else a fresh one."""
    if value and _REQUEST_ID_RE.match(value):
        return value
    return new_request_id()


class ContextFilter(logging.Filter):
    """Adds ``service`` and the current ``request_id`` to every record."""

    def __init__(self, service: str | None = None) -> None:
        super().__init__()
        self.service = service or os.environ.get("BRIDGEWORK_SERVICE", "bridgework")

    def filter(self, record: logging.LogRecord) -> bool:
        record.service = self.service
        if not getattr(record, "request_id", None):
            record.request_id = request_id_var.get()
        return True


class JsonFormatter(_BaseJsonFormatter):
    """One JSON object per line: ts, level, logger, message, service, request_id, extras."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault(
            "fmt", "%(asctime)s %(levelname)s %(name)s %(message)s %(service)s %(request_id)s"
        )
        kwargs.setdefault(
            "rename_fields", {"asctime": "ts", "levelname": "level", "name": "logger"}
        )
        kwargs.setdefault("datefmt", "%Y-%m-%dT%H:%M:%S%z")
        super().__init__(*args, **kwargs)

    def formatException(self, ei: Any) -> str:
        """The stack and the exception's type, never its message: a message may quote the data
        that failed (a DICOM tag, a patient's name in a constraint violation)."""
        return format_exception_without_messages(ei[1])


def format_exception_without_messages(exc: BaseException | None) -> str:
    """Each exception of the chain as "Traceback ... Type", innermost last, messages left out."""
    if exc is None:
        return ""
    parts: list[str] = []
    seen: set[int] = set()
    chain: list[BaseException] = []
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        chain.append(exc)
        exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    for position, item in enumerate(reversed(chain)):
        if position:
            parts.append("\nThe above exception led to:\n\n")
        parts.append("Traceback (most recent call last):\n")
        parts.extend(traceback.StackSummary.extract(traceback.walk_tb(item.__traceback__)).format())
        parts.append(f"{type(item).__module__}.{type(item).__qualname__} (message not logged)\n")
    return "".join(parts).rstrip("\n")


def logging_config(service: str, level: str = "INFO") -> dict[str, Any]:
    """A dictConfig that writes JSON lines to stderr for ``service``."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "shared.logging.ContextFilter", "service": service}},
        "formatters": {"json": {"()": "shared.logging.JsonFormatter"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "filters": ["context"],
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {
            # uvicorn's loggers come with plain-text handlers of their own: send them
            # through ours. Its access log would print query strings (names people
            # searched for); the gateway logs each request itself.
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": True},
            "amqp": {"level": "WARNING"},
            "kombu": {"level": "WARNING"},
            # httpx logs every request's URL at INFO: a transfer URL carries its ticket.
            "httpx": {"level": "WARNING"},
            "httpcore": {"level": "WARNING"},
        },
    }


def configure_logging(service: str, level: str | None = None) -> None:
    """Send this process's logs as JSON lines to stderr."""
    logging.config.dictConfig(logging_config(service, level or os.environ.get("LOG_LEVEL", "INFO")))
