"""Patient Talk, the patient's side: a link opened, the date of birth confirmed (tries
limited per link and per IP address), a short session to read the thread and reply.

Every use, refused ones included, is written to ``patient_accesses`` (refusals are
committed before the error, so they count). The office's side is ``patient_talk``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from notifications.patient_models import (
    PatientAccess,
    PatientLink,
    PatientMessage,
    PatientSessionRow,
    PatientThread,
)
from notifications.patient_talk import (
    TOKEN_PATTERN,
    LinkGone,
    LinkNotFound,
    PatientSessionEnded,
    TalkSettings,
    keep_and_raise,
    messages_of,
    new_token,
    now,
    once,
    record_access,
    sha256,
)
from shared.contracts.patient_talk import (
    AccessAction,
    Author,
    LinkInfo,
    PatientMessageIn,
    PatientMessageOut,
    PatientMessageReceived,
    PatientSession,
    PatientThreadView,
    PatientVerifyIn,
)
from shared.errors import RateLimited
from shared.outbox import record_event
from shared.validation import client_address, field_error


def _usable_link(session: Session, *, token: Any, ip: Any, lock: bool = False) -> PatientLink:
    """The link ``token`` opens; 404 for an unknown one, 410 (recorded) for an expired or
    revoked one."""
    if not isinstance(token, str) or not TOKEN_PATTERN.match(token):
        raise LinkNotFound()
    statement = select(PatientLink).where(PatientLink.token_sha256 == sha256(token))
    link = session.scalar(statement.with_for_update() if lock else statement)
    if link is None:
        raise LinkNotFound()
    if link.revoked_at is not None or link.expires_at <= now():
        record_access(
            session,
            thread_id=link.thread_id,
            link_id=link.id,
            action=AccessAction.link_refused,
            ip=ip,
        )
        keep_and_raise(session, LinkGone())
    return link


def open_link(session: Session, *, token: Any, ip: Any) -> LinkInfo:
    """What the page shows before the date of birth: the office's name and the link's end."""
    link = _usable_link(session, token=token, ip=ip)
    thread = session.get_one(PatientThread, link.thread_id)
    record_access(session, thread_id=thread.id, link_id=link.id, action=AccessAction.opened, ip=ip)
    return LinkInfo(office_name=thread.office_name, expires_at=link.expires_at)


def _failures_since(session: Session, since: datetime, *criteria: Any) -> list[datetime]:
    return list(
        session.scalars(
            select(PatientAccess.at)
            .where(PatientAccess.action == AccessAction.verify_failed.value, *criteria)
            .where(PatientAccess.at > since)
            .order_by(PatientAccess.at)
        )
    )


def _refuse_if_limited(
    session: Session, *, link: PatientLink, ip: str | None, settings: TalkSettings
) -> None:
    at = now()
    since = at - settings.verify_window
    checks = [(PatientAccess.link_id == link.id, settings.verify_tries)]
    if ip is not None:
        checks.append((PatientAccess.ip == ip, settings.verify_ip_tries))
    for criterion, limit in checks:
        failures = _failures_since(session, since, criterion)
        if len(failures) >= limit:
            retry_after = (failures[-limit] + settings.verify_window - at).total_seconds()
            record_access(
                session,
                thread_id=link.thread_id,
                link_id=link.id,
                action=AccessAction.verify_refused,
                ip=ip,
            )
            keep_and_raise(
                session,
                RateLimited(
                    "Too many tries. Wait a while before trying again.",
                    details={"retry_after": max(1, int(retry_after) + 1)},
                ),
            )


def verify(
    session: Session, *, token: Any, cmd: PatientVerifyIn, ip: Any, settings: TalkSettings
) -> PatientSession:
    """A short patient session when the date of birth matches; a wrong one is recorded and,
    after too many within the window (per link and per IP address), refused with 429."""
    link = _usable_link(session, token=token, ip=ip, lock=True)
    address = client_address(ip)
    _refuse_if_limited(session, link=link, ip=address, settings=settings)
    thread = session.get_one(PatientThread, link.thread_id)
    if cmd.date_of_birth != thread.date_of_birth:
        record_access(
            session,
            thread_id=thread.id,
            link_id=link.id,
            action=AccessAction.verify_failed,
            ip=address,
        )
        keep_and_raise(
            session, field_error("date_of_birth", "That date of birth does not match our records.")
        )
    token_value = new_token()
    expires_at = min(now() + settings.session_ttl, link.expires_at)
    session.add(
        PatientSessionRow(
            link_id=link.id,
            thread_id=thread.id,
            token_sha256=sha256(token_value),
            created_at=now(),
            expires_at=expires_at,
        )
    )
    record_access(
        session, thread_id=thread.id, link_id=link.id, action=AccessAction.verify_ok, ip=address
    )
    return PatientSession(
        session_token=token_value, expires_at=expires_at, office_name=thread.office_name
    )


def _patient_session(session: Session, *, session_token: Any) -> PatientSessionRow:
    if not isinstance(session_token, str) or not TOKEN_PATTERN.match(session_token):
        raise PatientSessionEnded()
    row = session.scalar(
        select(PatientSessionRow).where(PatientSessionRow.token_sha256 == sha256(session_token))
    )
    if row is None or row.expires_at <= now():
        raise PatientSessionEnded()
    link = session.get_one(PatientLink, row.link_id)
    if link.revoked_at is not None:
        raise PatientSessionEnded()
    return row


def patient_view(session: Session, *, session_token: Any, ip: Any) -> PatientThreadView:
    """The thread as the patient reads it (recorded)."""
    row = _patient_session(session, session_token=session_token)
    thread = session.get_one(PatientThread, row.thread_id)
    record_access(
        session, thread_id=thread.id, link_id=row.link_id, action=AccessAction.read, ip=ip
    )
    return PatientThreadView(
        office_name=thread.office_name,
        patient_name=thread.patient_name,
        messages=messages_of(session, thread.id),
        session_expires_at=row.expires_at,
    )


def patient_reply(
    session: Session,
    *,
    session_token: Any,
    cmd: PatientMessageIn,
    ip: Any,
    idempotency_key: str | None,
) -> PatientMessageOut:
    """The patient's answer: stored, recorded, and signalled to the office by an event."""
    row = _patient_session(session, session_token=session_token)
    thread = session.get_one(PatientThread, row.thread_id, with_for_update=True)

    def make() -> PatientMessageOut:
        message = PatientMessage(
            id=uuid.uuid4(), thread_id=thread.id, author=Author.patient.value, body=cmd.body
        )
        message.at = now()
        session.add(message)
        thread.last_message_at = message.at
        record_access(
            session,
            thread_id=thread.id,
            link_id=row.link_id,
            action=AccessAction.replied,
            ip=ip,
        )
        record_event(
            session,
            PatientMessageReceived(
                thread_id=thread.id,
                message_id=message.id,
                office_id=thread.office_id,
                owner_type=thread.owner_type,
                owner_id=thread.owner_id,
            ),
        )
        return PatientMessageOut.model_validate(message)

    return once(
        session,
        office_id=thread.office_id,
        operation=f"patient_reply:{thread.id}",
        key=idempotency_key,
        model=PatientMessageOut,
        make=make,
    )


def end_session(session: Session, *, session_token: Any, ip: Any) -> None:
    """The patient signs out (a shared computer): the session stops working now. Ending one
    that already ended is not an error."""
    try:
        row = _patient_session(session, session_token=session_token)
    except PatientSessionEnded:
        return
    row.expires_at = now()
    record_access(
        session, thread_id=row.thread_id, link_id=row.link_id, action=AccessAction.signed_out, ip=ip
    )
