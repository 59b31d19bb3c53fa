"""Text messages out: a pluggable sender chosen by ``SMS_URL``.

- ``file:<directory>`` (the default, ``file:var/sms``): each text is written as a small
  ``.txt`` file there and a log line names the file (never the number or the text);
  a newcomer can open the patient's link without an SMS provider.
- empty: no provider; texts are not sent (the e-mail still is).

A real provider plugs in by registering a factory for its URL scheme::

    @register("twilio")
    def _twilio(url: SplitResult) -> SmsSender: ...

and its ``send(to=..., body=...)`` raises ``SmsError`` for a failure worth retrying.
"""

from __future__ import annotations

import logging
import os
import tempfile
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol
from urllib.parse import SplitResult, urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from notifications.patient_models import PatientText

log = logging.getLogger(__name__)

DEFAULT_SMS_URL = "file:var/sms"


class SmsError(Exception):
    """The provider did not take the text; it is tried again later."""


class SmsSender(Protocol):
    def send(self, *, to: str, body: str) -> str:
        """Hand one text to the provider; returns the provider's id for it."""
        ...


class FileSink:
    """Writes each text to ``<directory>/<time>-<id>.txt`` (written whole, then renamed)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def send(self, *, to: str, body: str) -> str:
        self.directory.mkdir(parents=True, exist_ok=True)
        sms_id = uuid.uuid4().hex
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        final = self.directory / f"{stamp}-{sms_id}.txt"
        handle, temporary = tempfile.mkstemp(dir=self.directory, suffix=".part")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(f"To: {to}\n\n{body}\n")
            os.replace(temporary, final)
        except OSError as exc:
            Path(temporary).unlink(missing_ok=True)
            raise SmsError(f"could not write the text ({type(exc).__name__})") from exc
        log.info("text message written to a file", extra={"path": str(final)})
        return sms_id


_FACTORIES: dict[str, Callable[[SplitResult], SmsSender]] = {}


def register(scheme: str) -> Callable[[Callable[[SplitResult], SmsSender]], Callable]:
    """Make ``scheme://...`` URLs build their sender with the decorated factory."""

    def decorate(factory: Callable[[SplitResult], SmsSender]) -> Callable:
        _FACTORIES[scheme] = factory
        return factory

    return decorate


@register("file")
def _file_sink(url: SplitResult) -> SmsSender:
    return FileSink(Path(url.path or "var/sms"))


def sender_from_url(url: str | None) -> SmsSender | None:
    """The sender ``url`` names, or None when it is empty (no texts are sent)."""
    if not url:
        return None
    parts = urlsplit(url)
    factory = _FACTORIES.get(parts.scheme)
    if factory is None:
        known = ", ".join(sorted(_FACTORIES))
        raise ValueError(f"SMS_URL: unknown scheme {parts.scheme!r} (known: {known})")
    return factory(parts)


# ----------------------------------------------------------------- the queue of texts

MAX_TEXT_ATTEMPTS = 8
TEXT_BATCH = 20


def text_backoff(attempts: int) -> timedelta:
    """5 s, 10 s, 20 s ... at most 15 minutes between tries."""
    return timedelta(seconds=min(5 * 2 ** max(attempts - 1, 0), 900))


def deliver_due_texts(session: Session, *, sender: SmsSender, at: datetime | None = None) -> int:
    """Send the queued texts that are due (rows locked, so instances share the work); a
    failure is tried again with backoff and marked failed after ``MAX_TEXT_ATTEMPTS``. The
    body (it carries the link) is cleared once sent or given up on. Returns how many went
    out."""
    at = at or datetime.now(UTC)
    rows = session.scalars(
        select(PatientText)
        .where(
            PatientText.sent_at.is_(None),
            PatientText.failed_at.is_(None),
            PatientText.next_attempt_at <= at,
        )
        .order_by(PatientText.next_attempt_at)
        .limit(TEXT_BATCH)
        .with_for_update(skip_locked=True)
    ).all()
    sent = 0
    for row in rows:
        try:
            sender.send(to=row.to, body=row.body or "")
        except SmsError as exc:
            row.attempts += 1
            row.last_error = str(exc)[:200]
            row.next_attempt_at = at + text_backoff(row.attempts)
            if row.attempts >= MAX_TEXT_ATTEMPTS:
                row.failed_at, row.body = at, None
                log.error("a text message failed for good", extra={"text_id": str(row.id)})
            continue
        row.attempts += 1
        row.sent_at, row.body = at, None
        sent += 1
    return sent
