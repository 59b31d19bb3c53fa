"""Patient Talk's rules, the office's side: an office's private threads with its patients,
reached by the patient through an expiring, revocable link and a confirmed date of birth
(the patient's side is ``patient_portal``).

Tokens (links and patient sessions) are 256-bit random strings; only their SHA-256 is kept.
Every use of a link or a patient session is written to ``patient_accesses``; the office
reads that record. No patient data goes into logs, events or e-mail subjects.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from notifications.patient_models import (
    PatientAccess,
    PatientIdempotencyKey,
    PatientLink,
    PatientMessage,
    PatientSessionRow,
    PatientText,
    PatientThread,
)
from shared.contracts import Caller
from shared.contracts.patient_talk import (
    Author,
    Channel,
    LinkOut,
    PatientAccessEntry,
    PatientMessageIn,
    PatientMessageOut,
    PatientSent,
    PatientThreadDetail,
    PatientThreadIn,
    PatientThreadOut,
    PatientThreadQuery,
    RevokedLinks,
)
from shared.errors import BridgeworkError, Conflict, Gone, NotFound, Unauthenticated
from shared.idempotency import Idempotency
from shared.validation import client_address, field_error, parse_id

once = Idempotency(PatientIdempotencyKey).once

_TEMPLATES = Path(__file__).parent / "templates"
_HTML = Environment(loader=FileSystemLoader(_TEMPLATES), autoescape=True, undefined=StrictUndefined)
# Plain text is not HTML: nothing to escape (the HTML part is autoescaped).
_TEXT = Environment(
    loader=FileSystemLoader(_TEMPLATES),
    autoescape=False,  # noqa: S701
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)

NEVER = datetime(1970, 1, 1, tzinfo=UTC)
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{40,100}$")
MAX_LIST = 200
MAX_ACCESS_ROWS = 500


@dataclass(frozen=True)
class TalkSettings:
    """Patient Talk's tunables (see the README's configuration table)."""

    public_url: str = "http://127.0.0.1:8000"
    link_ttl: timedelta = timedelta(days=7)
    session_ttl: timedelta = timedelta(minutes=30)
    verify_tries: int = 5  # wrong dates of birth per link within the window
    verify_ip_tries: int = 20  # wrong dates of birth per IP address within the window
    verify_window: timedelta = timedelta(minutes=15)


@dataclass(frozen=True)
class Notices:
    """How the office's notice reaches the patient: e-mail (``mailer.enqueue``'s signature)
    and whether texts can be sent (an SMS provider is configured)."""

    enqueue_email: Callable[..., bool]
    render_email: Callable[..., tuple[str, str, str]]  # -> (subject, text, html)
    texts_enabled: bool


class ThreadNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("No such patient thread.")


class LinkNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("This link is not valid. Use the latest link the office sent you.")


class LinkGone(Gone):
    def __init__(self) -> None:
        super().__init__(
            "This link has expired or was withdrawn. Ask the office to send you a new one.",
            details={"expired": True},
        )


class PatientSessionEnded(Unauthenticated):
    def __init__(self) -> None:
        super().__init__("Your session has ended. Open the link from your message again.")


def now() -> datetime:
    return datetime.now(UTC)


def sha256(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def new_token() -> str:
    """256 random bits, URL-safe (43 characters)."""
    return secrets.token_urlsafe(32)


def render_notice(*, office_name: str, url: str, expires_at: datetime) -> tuple[str, str, str]:
    """The e-mail telling the patient a message waits: (subject, text, html). It names the
    office and carries the link; never the message, never patient data."""
    office_name = " ".join(office_name.split()) or "Your dental office"
    context = {
        "office_name": office_name,
        "url": url,
        "expires": expires_at.astimezone(UTC).strftime("%B %d, %Y, %H:%M UTC"),
    }
    subject = f"A new message from {office_name}"
    text = _TEXT.get_template("patient_message.txt").render(context)
    html = _HTML.get_template("patient_message.html").render(context)
    return subject, text, html


def keep_and_raise(session: Session, error: BridgeworkError) -> NoReturn:
    """Commit the access record written so far, then fail (a refused try must still count)."""
    session.commit()
    raise error


def record_access(
    session: Session, *, thread_id: uuid.UUID, link_id: uuid.UUID | None, action: str, ip: Any
) -> None:
    session.add(
        PatientAccess(
            thread_id=thread_id, link_id=link_id, action=action, ip=client_address(ip), at=now()
        )
    )
    session.flush()


# ----------------------------------------------------------------- office side


def _office_thread(session: Session, *, who: Caller, thread_id: Any, lock: bool = False) -> Any:
    tid = parse_id(thread_id, field="thread_id")
    thread = session.get(PatientThread, tid, with_for_update=lock)
    if thread is None or thread.office_id != who.office_id:
        raise ThreadNotFound()
    return thread


def _unread(session: Session, thread: PatientThread) -> int:
    return int(
        session.scalar(
            select(func.count(PatientMessage.id)).where(
                PatientMessage.thread_id == thread.id,
                PatientMessage.author == Author.patient.value,
                PatientMessage.at > (thread.office_read_at or NEVER),
            )
        )
        or 0
    )


def _thread_out(session: Session, thread: PatientThread) -> PatientThreadOut:
    return PatientThreadOut.model_validate({**_columns(thread), "unread": _unread(session, thread)})


def _columns(thread: PatientThread) -> dict[str, Any]:
    return {c.key: getattr(thread, c.key) for c in PatientThread.__table__.columns}


def _link_out(link: PatientLink, at: datetime) -> LinkOut:
    active = link.revoked_at is None and link.expires_at > at
    return LinkOut(
        id=link.id,
        created_at=link.created_at,
        expires_at=link.expires_at,
        revoked_at=link.revoked_at,
        active=active,
    )


def create_thread(
    session: Session,
    *,
    who: Caller,
    cmd: PatientThreadIn,
    office_name: str,
    idempotency_key: str | None,
) -> PatientThreadOut:
    """A new thread with a patient of a referral or case the caller's office may see."""
    if cmd.preferred_channel == Channel.email and cmd.email is None:
        raise field_error("email", "An e-mail address is needed to send e-mails.")
    if cmd.preferred_channel == Channel.text and cmd.mobile_phone is None:
        raise field_error("mobile_phone", "A mobile phone number is needed to send texts.")

    def make() -> PatientThreadOut:
        thread = PatientThread(
            id=uuid.uuid4(),
            office_id=who.office_id,
            office_name=office_name,
            owner_type=cmd.owner_type.value,
            owner_id=cmd.owner_id,
            patient_name=cmd.patient_name,
            email=str(cmd.email) if cmd.email else None,
            mobile_phone=cmd.mobile_phone,
            date_of_birth=cmd.date_of_birth,
            preferred_channel=cmd.preferred_channel.value,
            created_by_user_id=who.user_id,
            created_at=now(),
        )
        session.add(thread)
        session.flush()
        return _thread_out(session, thread)

    return once(
        session,
        office_id=who.office_id,
        operation="create_patient_thread",
        key=idempotency_key,
        model=PatientThreadOut,
        make=make,
    )


def list_threads(
    session: Session, *, who: Caller, query: PatientThreadQuery
) -> list[PatientThreadOut]:
    """The office's threads (of one owner, when given), latest activity first."""
    if (query.owner_type is None) != (query.owner_id is None):
        raise field_error("owner_id", "Give owner_type and owner_id together.")
    statement = select(PatientThread).where(PatientThread.office_id == who.office_id)
    if query.owner_type is not None:
        statement = statement.where(
            PatientThread.owner_type == query.owner_type.value,
            PatientThread.owner_id == query.owner_id,
        )
    latest = func.coalesce(PatientThread.last_message_at, PatientThread.created_at)
    unread = (
        select(func.count(PatientMessage.id))
        .where(
            PatientMessage.thread_id == PatientThread.id,
            PatientMessage.author == Author.patient.value,
            PatientMessage.at > func.coalesce(PatientThread.office_read_at, NEVER),
        )
        .scalar_subquery()
    )
    rows = session.execute(
        statement.add_columns(unread).order_by(latest.desc()).limit(MAX_LIST)
    ).all()
    return [
        PatientThreadOut.model_validate({**_columns(thread), "unread": count})
        for thread, count in rows
    ]


def messages_of(session: Session, thread_id: uuid.UUID) -> list[PatientMessageOut]:
    rows = session.scalars(
        select(PatientMessage)
        .where(PatientMessage.thread_id == thread_id)
        .order_by(PatientMessage.at, PatientMessage.id)
    )
    return [PatientMessageOut.model_validate(row) for row in rows]


def get_thread(session: Session, *, who: Caller, thread_id: Any) -> PatientThreadDetail:
    """The thread with its messages and links; the patient's replies count as read now."""
    thread = _office_thread(session, who=who, thread_id=thread_id)
    unread = _unread(session, thread)
    thread.office_read_at = now()
    at = now()
    links = session.scalars(
        select(PatientLink)
        .where(PatientLink.thread_id == thread.id)
        .order_by(PatientLink.created_at)
    )
    return PatientThreadDetail.model_validate(
        {
            **_columns(thread),
            "unread": unread,
            "messages": messages_of(session, thread.id),
            "links": [_link_out(link, at) for link in links],
        }
    )


def send_message(
    session: Session,
    *,
    who: Caller,
    thread_id: Any,
    cmd: PatientMessageIn,
    settings: TalkSettings,
    notices: Notices,
    idempotency_key: str | None,
) -> PatientSent:
    """Store the office's message and tell the patient, with a fresh link, by e-mail (and by
    text where they prefer it and texts can be sent). The notice never carries the text."""
    thread = _office_thread(session, who=who, thread_id=thread_id, lock=True)

    def make() -> PatientSent:
        may_text = (
            thread.preferred_channel == Channel.text.value
            and thread.mobile_phone is not None
            and notices.texts_enabled
        )
        if thread.email is None and not may_text:
            raise Conflict(
                "The patient has no e-mail address and texts cannot be sent: "
                "start a thread with their e-mail address."
            )
        at = now()
        message = PatientMessage(
            id=uuid.uuid4(),
            thread_id=thread.id,
            author=Author.office.value,
            author_user_id=who.user_id,
            body=cmd.body,
            at=at,
        )
        token = new_token()
        link = PatientLink(
            id=uuid.uuid4(),
            thread_id=thread.id,
            token_sha256=sha256(token),
            created_at=at,
            expires_at=at + settings.link_ttl,
        )
        session.add_all([message, link])
        thread.last_message_at = at
        url = f"{settings.public_url.rstrip('/')}/p/{token}"
        dedupe = f"patient-message:{message.id}"
        emailed = False
        if thread.email is not None:
            subject, text, html = notices.render_email(
                office_name=thread.office_name, url=url, expires_at=link.expires_at
            )
            notices.enqueue_email(
                session,
                dedupe_key=dedupe,
                to=thread.email,
                subject=subject,
                text=text,
                html=html,
                sender_name=thread.office_name,
            )
            emailed = True
        if may_text:
            session.add(
                PatientText(
                    dedupe_key=dedupe,
                    thread_id=thread.id,
                    to=thread.mobile_phone,
                    body=f"{thread.office_name}: you have a new message. Read it here: {url}",
                    next_attempt_at=at,
                )
            )
        session.flush()
        return PatientSent(
            message=PatientMessageOut.model_validate(message),
            link=_link_out(link, at),
            emailed=emailed,
            texted=may_text,
        )

    return once(
        session,
        office_id=who.office_id,
        operation=f"send_patient_message:{thread.id}",
        key=idempotency_key,
        model=PatientSent,
        make=make,
    )


def revoke_links(session: Session, *, who: Caller, thread_id: Any) -> RevokedLinks:
    """End every active link of the thread, and the patient sessions opened with them."""
    thread = _office_thread(session, who=who, thread_id=thread_id, lock=True)
    at = now()
    revoked = session.execute(
        update(PatientLink)
        .where(
            PatientLink.thread_id == thread.id,
            PatientLink.revoked_at.is_(None),
            PatientLink.expires_at > at,
        )
        .values(revoked_at=at)
        .returning(PatientLink.id)
    ).all()
    session.execute(
        update(PatientSessionRow)
        .where(PatientSessionRow.thread_id == thread.id, PatientSessionRow.expires_at > at)
        .values(expires_at=at)
    )
    return RevokedLinks(revoked=len(revoked))


def list_access(session: Session, *, who: Caller, thread_id: Any) -> list[PatientAccessEntry]:
    """Every use of the thread's links and patient sessions, newest first."""
    thread = _office_thread(session, who=who, thread_id=thread_id)
    rows = session.scalars(
        select(PatientAccess)
        .where(PatientAccess.thread_id == thread.id)
        .order_by(PatientAccess.id.desc())
        .limit(MAX_ACCESS_ROWS)
    )
    return [PatientAccessEntry.model_validate(row) for row in rows]
