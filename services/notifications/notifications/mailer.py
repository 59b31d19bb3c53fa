"""The outgoing-mail queue and its sender.

``enqueue`` writes one message to ``outgoing_mail`` in the caller's transaction
(an event consumer's, so the message and the event's claim commit together);
a unique ``dedupe_key`` makes a repeat a no-op. ``MailSender`` (a nameko
dependency with a background loop) delivers queued rows over SMTP, or as
``.eml`` files under ``MAIL_DIR`` when ``SMTP_URL`` is empty, retrying with
exponential backoff; after ``MAIL_MAX_ATTEMPTS`` failures a row is marked
``failed`` (a metric, a log line without addresses or content, and the
``list_failed_mail`` RPC).

Usage (e.g. from Patient Talk)::

    from notifications.mailer import enqueue

    enqueue(self.db, dedupe_key=f"patient-message:{message_id}", to=address,
            subject="A message from your dental office", text=text, html=html,
            sender_name=office_name, reply_to=None)
"""

from __future__ import annotations

import base64
import contextlib
import logging
import smtplib
import ssl
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from nameko.extensions import DependencyProvider
from prometheus_client import Counter
from sqlalchemy import event, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from notifications.models import MailStatus, OutgoingMail
from shared.db import Database

log = logging.getLogger(__name__)

MAIL_SENT = Counter("bridgework_mail_sent_total", "E-mails delivered (SMTP or .eml sink).")
MAIL_ATTEMPT_FAILURES = Counter(
    "bridgework_mail_attempt_failures_total",
    "Delivery attempts that failed (retried with backoff).",
)
MAIL_FAILED = Counter(
    "bridgework_mail_failed_total",
    "E-mails given up on after MAIL_MAX_ATTEMPTS attempts (see list_failed_mail).",
)

Attachment = tuple[str, str, bytes]

# Set after a commit that queued mail: the sender looks at once instead of at its next poll.
_WAKE = threading.Event()
_HOOKED_KEY = "notifications.mail_wake_hooked"


def enqueue(
    session: Session,
    *,
    dedupe_key: str,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    sender_name: str | None = None,
    reply_to: str | None = None,
    attachments: Sequence[Attachment] = (),
) -> bool:
    """Queue one message in ``session``'s transaction; False if ``dedupe_key`` was queued before.

    ``attachments``: (filename, mime type such as "text/calendar", bytes). The subject
    must not carry patient data; the sender name is shown as "<name> via Bridgework".
    """
    if not dedupe_key or len(dedupe_key) > 300:
        raise ValueError("dedupe_key must be 1 to 300 characters")
    if "\n" in subject or "\r" in subject:
        raise ValueError("a subject is one line")
    stored = [
        {
            "filename": filename,
            "mime_type": mime_type,
            "content": base64.b64encode(content).decode("ascii"),
        }
        for filename, mime_type, content in attachments
    ]
    inserted = session.execute(
        pg_insert(OutgoingMail.__table__)
        .values(
            id=uuid.uuid4(),
            dedupe_key=dedupe_key,
            to_address=to,
            subject=subject[:300],
            text_body=text,
            html_body=html,
            sender_name=sender_name[:200] if sender_name else None,
            reply_to=reply_to,
            attachments=stored,
            status=MailStatus.queued,
            attempts=0,
            next_attempt_at=datetime.now(UTC),
            created_at=datetime.now(UTC),
        )
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(OutgoingMail.__table__.c.id)
    ).first()
    if inserted is not None and not session.info.get(_HOOKED_KEY):
        session.info[_HOOKED_KEY] = True
        event.listen(session, "after_commit", lambda _session: _WAKE.set())
    return inserted is not None


# ----------------------------------------------------------------- settings


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    tls: bool  # implicit TLS (smtps://)
    starttls: bool
    username: str | None
    password: str | None
    # The CA that signed the server's certificate (a private relay); None: the system's CAs.
    ca_file: str | None = None

    def tls_context(self) -> ssl.SSLContext:
        """Certificates and host names are always verified."""
        return ssl.create_default_context(cafile=self.ca_file)


def parse_smtp_url(url: str, password: str | None = None) -> SmtpTarget | None:
    """``smtp://user:pass@host:587?starttls=1`` or ``smtps://host:465``; None when empty.

    ``password`` (``SMTP_PASSWORD``) wins over one written in the URL.
    """
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError("SMTP_URL must look like smtp://host:587 or smtps://host:465")
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    tls = parts.scheme == "smtps"
    starttls = query.get("starttls", "0").lower() in ("1", "true", "yes")
    username = unquote(parts.username) if parts.username else None
    secret = password or (unquote(parts.password) if parts.password else None)
    return SmtpTarget(
        host=parts.hostname,
        port=parts.port or (465 if tls else (587 if starttls else 25)),
        tls=tls,
        starttls=starttls and not tls,
        username=username,
        password=secret,
    )


@dataclass(frozen=True)
class MailSettings:
    """How mail leaves: SMTP or the .eml folder, the From address and the retry rules."""

    smtp: SmtpTarget | None = None
    mail_dir: Path = Path("var/mail")
    mail_from: str = "no-reply@bridgework.local"
    max_attempts: int = 8
    retry_seconds: float = 30.0
    retry_max_seconds: float = 3600.0
    poll_interval: float = 2.0
    smtp_timeout: float = 10.0
    public_url: str = "http://127.0.0.1:8000"

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> MailSettings:
        default = cls()

        def get(key: str, fallback: Any) -> Any:
            value = config.get(key)
            return fallback if value is None or value == "" else value

        max_attempts = int(get("MAIL_MAX_ATTEMPTS", default.max_attempts))
        if max_attempts < 1:
            raise ValueError("MAIL_MAX_ATTEMPTS must be at least 1")
        smtp = parse_smtp_url(str(get("SMTP_URL", "")), str(get("SMTP_PASSWORD", "")) or None)
        ca_file = str(get("SMTP_CA_FILE", ""))
        if smtp is not None and ca_file:
            smtp = replace(smtp, ca_file=ca_file)
        return cls(
            smtp=smtp,
            mail_dir=Path(str(get("MAIL_DIR", default.mail_dir))),
            mail_from=str(get("MAIL_FROM", default.mail_from)),
            max_attempts=max_attempts,
            retry_seconds=float(get("MAIL_RETRY_SECONDS", default.retry_seconds)),
            retry_max_seconds=float(get("MAIL_RETRY_MAX_SECONDS", default.retry_max_seconds)),
            poll_interval=float(get("MAIL_POLL_INTERVAL", default.poll_interval)),
            smtp_timeout=float(get("SMTP_TIMEOUT", default.smtp_timeout)),
            public_url=str(get("PUBLIC_URL", default.public_url)).rstrip("/"),
        )

    def backoff(self, attempts: int) -> timedelta:
        """The wait after the ``attempts``-th failed attempt: doubling, capped."""
        seconds = min(self.retry_seconds * 2 ** max(attempts - 1, 0), self.retry_max_seconds)
        return timedelta(seconds=seconds)


# ----------------------------------------------------------------- messages


def build_message(row: OutgoingMail, settings: MailSettings) -> EmailMessage:
    """The RFC 5322 message of a queued row: plain text, HTML alternative, attachments."""
    message = EmailMessage()
    display = f"{row.sender_name} via Bridgework" if row.sender_name else "Bridgework"
    message["From"] = formataddr((display, settings.mail_from))
    message["To"] = row.to_address
    if row.reply_to:
        message["Reply-To"] = row.reply_to
    message["Subject"] = row.subject
    message["Date"] = format_datetime(row.created_at or datetime.now(UTC))
    # Stable across retries: a receiver can drop a copy it already has.
    message["Message-ID"] = f"<{row.id}@bridgework>"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(row.text_body)
    if row.html_body:
        message.add_alternative(row.html_body, subtype="html")
    for item in row.attachments or []:
        maintype, _, subtype = str(item["mime_type"]).partition("/")
        message.add_attachment(
            base64.b64decode(item["content"]),
            maintype=maintype,
            subtype=subtype or "octet-stream",
            filename=item["filename"],
        )
    return message


class SmtpTransport:
    """One SMTP connection, opened when first needed and reused for a batch."""

    def __init__(self, target: SmtpTarget, timeout: float) -> None:
        self.target = target
        self.timeout = timeout
        self._client: smtplib.SMTP | None = None

    def _open(self) -> smtplib.SMTP:
        if self._client is None:
            target = self.target
            client: smtplib.SMTP
            if target.tls:
                client = smtplib.SMTP_SSL(
                    target.host,
                    target.port,
                    timeout=self.timeout,
                    context=target.tls_context(),
                )
            else:
                client = smtplib.SMTP(target.host, target.port, timeout=self.timeout)
                if target.starttls:
                    client.starttls(context=target.tls_context())
            if target.username:
                client.login(target.username, target.password or "")
            self._client = client
        return self._client

    def send(self, message: EmailMessage, row: OutgoingMail) -> str:
        self._open().send_message(message)
        return f"smtp {self.target.host}:{self.target.port}"

    def close(self) -> None:
        if self._client is not None:
            with contextlib.suppress(Exception):
                self._client.quit()
            with contextlib.suppress(Exception):
                self._client.close()
        self._client = None


class FolderTransport:
    """The default for ``make run``: each message written as ``MAIL_DIR/<time>-<id>.eml``
    (``<time>``: when it was queued, to the microsecond, so names sort in that order)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, message: EmailMessage, row: OutgoingMail) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        # Names sort in the order the messages were queued.
        stamp = (row.created_at or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S%f")
        path = self.folder / f"{stamp}-{row.id}.eml"
        partial = path.with_suffix(".eml.partial")
        partial.write_bytes(bytes(message))
        partial.replace(path)
        log.info("mail written to %s", path, extra={"mail_path": str(path)})
        return str(path)

    def close(self) -> None:
        pass


# ----------------------------------------------------------------- the sender


class Delivery:
    """Delivers the queued rows that are due, one transaction per row."""

    def __init__(self, engine: Engine, settings: MailSettings, batch_size: int = 50) -> None:
        self.engine = engine
        self.settings = settings
        self.batch_size = batch_size

    def transport(self) -> SmtpTransport | FolderTransport:
        if self.settings.smtp is None:
            return FolderTransport(self.settings.mail_dir)
        return SmtpTransport(self.settings.smtp, self.settings.smtp_timeout)

    def deliver_due(self) -> int:
        """Try every row that is due once; the number of rows tried."""
        table = OutgoingMail.__table__
        with self.engine.connect() as conn:
            ids = (
                conn.execute(
                    select(table.c.id)
                    .where(
                        table.c.status == MailStatus.queued,
                        table.c.next_attempt_at <= datetime.now(UTC),
                    )
                    .order_by(table.c.next_attempt_at)
                    .limit(self.batch_size)
                )
                .scalars()
                .all()
            )
        if not ids:
            return 0
        transport = self.transport()
        tried = 0
        try:
            for mail_id in ids:
                tried += self._deliver_one(mail_id, transport)
        finally:
            transport.close()
        return tried

    def _deliver_one(self, mail_id: uuid.UUID, transport: SmtpTransport | FolderTransport) -> int:
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            row = session.execute(
                select(OutgoingMail)
                .where(OutgoingMail.id == mail_id, OutgoingMail.status == MailStatus.queued)
                .with_for_update(skip_locked=True)
            ).scalar_one_or_none()
            if row is None or row.next_attempt_at > datetime.now(UTC):
                return 0  # another sender has it, or it was sent meanwhile
            row.attempts += 1
            try:
                where = transport.send(build_message(row, self.settings), row)
            except Exception as exc:  # noqa: BLE001 - every failure is retried, then given up
                transport.close()
                self._failed_attempt(row, exc)
                return 1
            row.status = MailStatus.sent
            row.sent_at = datetime.now(UTC)
            row.last_error = None
            # Once delivered, the content (single-use links, office and case details) is not
            # kept: the row stays as the record that this message went out, and its dedupe key.
            row.text_body, row.html_body, row.attachments = "", None, []
            MAIL_SENT.inc()
            log.info(
                "mail %s sent (%s)", row.id, where.split(" ")[0], extra={"mail_id": str(row.id)}
            )
            return 1

    def _failed_attempt(self, row: OutgoingMail, exc: BaseException) -> None:
        MAIL_ATTEMPT_FAILURES.inc()
        row.last_error = _describe(exc)
        if row.attempts >= self.settings.max_attempts:
            row.status = MailStatus.failed
            row.failed_at = datetime.now(UTC)
            MAIL_FAILED.inc()
            # No address or content here: they may be a patient's.
            log.error(
                "mail %s failed after %d attempts (%s)",
                row.id,
                row.attempts,
                row.last_error,
                extra={"mail_id": str(row.id), "attempts": row.attempts},
            )
            return
        row.next_attempt_at = datetime.now(UTC) + self.settings.backoff(row.attempts)
        log.warning(
            "mail %s attempt %d failed (%s); retrying",
            row.id,
            row.attempts,
            row.last_error,
            extra={"mail_id": str(row.id), "attempts": row.attempts},
        )


def _describe(exc: BaseException) -> str:
    """The error's type, and an SMTP reply code when there is one (never the text)."""
    code = getattr(exc, "smtp_code", None)
    return f"{exc.__class__.__name__} {code}" if code else exc.__class__.__name__


class MailSender(DependencyProvider):
    """Runs the delivery loop in the service process; the dependency is its ``MailSettings``."""

    def setup(self) -> None:
        self.settings = MailSettings.from_config(self.container.config)
        self._stopping = False
        self.delivery: Delivery | None = None

    def start(self) -> None:
        engine = next(
            provider.engine
            for provider in self.container.dependencies
            if isinstance(provider, Database) and provider.engine is not None
        )
        self.delivery = Delivery(engine, self.settings)
        self.container.spawn_managed_thread(self.run)

    def stop(self) -> None:
        self._stopping = True
        _WAKE.set()

    def kill(self) -> None:
        self.stop()

    def get_dependency(self, worker_ctx: Any) -> MailSettings:
        return self.settings

    def run(self) -> None:
        pause = self.settings.poll_interval
        while not self._stopping:
            assert self.delivery is not None
            try:
                tried = self.delivery.deliver_due()
                pause = self.settings.poll_interval
            except Exception as exc:  # noqa: BLE001 - the database is away: wait, then retry
                log.warning("mail sender paused (%s)", exc.__class__.__name__)
                tried = 0
                pause = min(pause * 2, 30.0)
            if tried == 0 and not self._stopping:
                _WAKE.wait(pause)
                _WAKE.clear()
