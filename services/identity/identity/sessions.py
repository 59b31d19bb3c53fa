"""Log-in, sessions with rotating refresh tokens, log-out, and the revocations list."""

from __future__ import annotations

import logging
import math
import uuid
from datetime import datetime, timedelta
from typing import NoReturn
from uuid import UUID

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from identity import audit
from identity.contact import ContactError, normalise_email
from identity.keys import SigningKey
from identity.models import AuditEntry, Revocation, User, UserSession
from identity.passwords import hash_password, needs_rehash, verify_nothing, verify_password
from identity.settings import Settings
from identity.tokens import hash_token, new_token, user_access_token, utcnow
from shared.contracts.identity import AccountLocked, LogIn, Revocations, TokenPair
from shared.contracts.identity import Revocation as RevocationOut
from shared.errors import BridgeworkError, PermissionDenied, RateLimited, Unauthenticated
from shared.outbox import record_event

log = logging.getLogger(__name__)

WRONG_CREDENTIALS = "E-mail or password is incorrect."
SESSION_ENDED = "Your session has ended. Sign in again."
# Entries younger than this are sent again on the next poll as well: a transaction that
# took an id earlier may commit after a later one, and the cursor must not skip it.
REVOCATION_SETTLE = timedelta(seconds=10)
REVOCATIONS_PAGE = 1000


def log_in(
    session: Session,
    *,
    cmd: LogIn,
    ip: str | None,
    user_agent: str | None,
    settings: Settings,
    key: SigningKey,
) -> TokenPair:
    """A new session for the right e-mail and password; one answer for every wrong case."""
    now = utcnow()
    _check_rate(session, ip=ip, now=now, settings=settings)
    user = _user_by_email(session, cmd.email)
    if user is None:
        verify_nothing(cmd.password)
        _fail(session, ip=ip, now=now, reason="unknown_user", details={"email": cmd.email})
    if user.locked_until is not None and user.locked_until > now:
        verify_nothing(cmd.password)  # a locked account checks nothing, in the same time
        _fail(session, ip=ip, now=now, reason="locked", user=user)
    if not verify_password(user.password_hash, cmd.password):
        _count_failure(session, user=user, ip=ip, now=now, settings=settings)
        _fail(session, ip=ip, now=now, reason="bad_password", user=user)
    user.failed_logins = 0
    if user.verified_at is None:
        _fail(session, ip=ip, now=now, reason="unverified", user=user, error=_unverified())
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(cmd.password)
    audit.record(session, action="login", ip=ip, office_id=user.office_id, user_id=user.id, at=now)
    return _open_session(
        session, user=user, ip=ip, user_agent=user_agent, settings=settings, key=key, now=now
    )


def _user_by_email(session: Session, email: str) -> User | None:
    try:
        address = normalise_email(email)
    except ContactError:
        return None  # nobody has an address like that: an unknown user like any other
    return session.scalar(
        select(User).where(User.email == address, User.removed_at.is_(None)).with_for_update()
    )


def _unverified() -> PermissionDenied:
    return PermissionDenied(
        "Verify your e-mail address first: use the link we sent, or ask for a new one.",
        details={"unverified": True},
    )


def _fail(
    session: Session,
    *,
    ip: str | None,
    now: datetime,
    reason: str,
    user: User | None = None,
    details: dict[str, str] | None = None,
    error: BridgeworkError | None = None,
) -> NoReturn:
    audit.record(
        session,
        action="login",
        outcome="failure",
        ip=ip,
        office_id=user.office_id if user else None,
        user_id=user.id if user else None,
        details={"reason": reason, **(details or {})},
        at=now,
    )
    audit.keep_and_raise(session, error or Unauthenticated(WRONG_CREDENTIALS))


def _count_failure(
    session: Session, *, user: User, ip: str | None, now: datetime, settings: Settings
) -> None:
    user.failed_logins += 1
    if user.failed_logins < settings.lockout_threshold:
        return
    # Counting starts again after the lock, so one more failure does not re-lock at once.
    user.failed_logins = 0
    user.locked_until = now + settings.lockout_duration
    record_event(
        session,
        AccountLocked(
            office_id=user.office_id,
            user_id=user.id,
            email=user.email,
            locked_until=user.locked_until,
        ),
    )
    audit.record(
        session,
        action="account_locked",
        ip=ip,
        office_id=user.office_id,
        user_id=user.id,
        details={"locked_until": user.locked_until.isoformat()},
        at=now,
    )
    log.warning("account locked after repeated failed log-ins", extra={"user_id": str(user.id)})


def _check_rate(session: Session, *, ip: str | None, now: datetime, settings: Settings) -> None:
    """RateLimited when ``ip`` made too many attempts in the window (refused ones not counted)."""
    if ip is None:
        return
    window_start = now - settings.login_rate_window
    attempts = (
        select(AuditEntry.at)
        .where(
            AuditEntry.ip == ip,
            AuditEntry.action == "login",
            AuditEntry.at > window_start,
            AuditEntry.details["reason"].astext.is_distinct_from("rate_limited"),
        )
        .order_by(AuditEntry.at)
    )
    count = session.scalar(select(func.count()).select_from(attempts.subquery())) or 0
    if count < settings.login_rate_limit:
        return
    # The attempt whose leaving the window brings the count under the limit.
    freeing = session.scalar(attempts.offset(count - settings.login_rate_limit).limit(1))
    assert freeing is not None
    retry_after = max(1, math.ceil((freeing + settings.login_rate_window - now).total_seconds()))
    error = RateLimited(
        f"Too many sign-in attempts from your address. Try again in {retry_after} seconds.",
        details={"retry_after": retry_after},
    )
    _fail(session, ip=ip, now=now, reason="rate_limited", error=error)


def _open_session(
    session: Session,
    *,
    user: User,
    ip: str | None,
    user_agent: str | None,
    settings: Settings,
    key: SigningKey,
    now: datetime,
) -> TokenPair:
    refresh_token, csrf_token = new_token(), new_token()
    row = UserSession(
        id=uuid.uuid4(),
        user_id=user.id,
        refresh_token_hash=hash_token(refresh_token),
        csrf_hash=hash_token(csrf_token),
        created_at=now,
        last_used_at=now,
        expires_at=now + settings.session_max_age,
        ip=ip,
        user_agent=(user_agent or "")[:300] or None,
    )
    session.add(row)
    return _token_pair(row, user, refresh_token, csrf_token, settings=settings, key=key, now=now)


def _token_pair(
    row: UserSession,
    user: User,
    refresh_token: str,
    csrf_token: str,
    *,
    settings: Settings,
    key: SigningKey,
    now: datetime,
) -> TokenPair:
    # An access token never outlives its session.
    expires_at = min(now + settings.access_token_ttl, row.expires_at)
    access_token = user_access_token(
        key=key,
        user_id=user.id,
        office_id=user.office_id,
        role=user.role,
        session_id=row.id,
        csrf_token=csrf_token,
        now=now,
        expires_at=expires_at,
    )
    return TokenPair(
        access_token=access_token,
        expires_in=int(expires_at.timestamp()) - int(now.timestamp()),
        refresh_token=refresh_token,
        refresh_expires_in=int((row.expires_at - now).total_seconds()),
        csrf_token=csrf_token,
        session_id=row.id,
    )


def refresh_session(
    session: Session, *, refresh_token: str, settings: Settings, key: SigningKey
) -> TokenPair:
    """New tokens for a live session; the refresh token it replaces ends it if seen again."""
    now, digest = utcnow(), hash_token(refresh_token)
    row = session.scalar(
        select(UserSession)
        .where(
            or_(
                UserSession.refresh_token_hash == digest,
                UserSession.previous_refresh_token_hash == digest,
            )
        )
        .with_for_update()
    )
    if row is None:
        raise Unauthenticated(SESSION_ENDED)
    if row.refresh_token_hash != digest:
        # Two parties hold this session's tokens; the one that refreshed first may be
        # the thief, so neither keeps it.
        if row.revoked_at is None:
            _revoke_session(session, row, now)
            user = session.get(User, row.user_id)
            audit.record(
                session,
                action="refresh_token_reused",
                outcome="failure",
                office_id=user.office_id if user else None,
                user_id=row.user_id,
                details={"session_id": str(row.id)},
                at=now,
            )
        audit.keep_and_raise(session, Unauthenticated(SESSION_ENDED))
    user = _live_user(session, row, now=now, settings=settings)
    refresh, csrf = new_token(), new_token()
    row.previous_refresh_token_hash = row.refresh_token_hash
    row.refresh_token_hash = hash_token(refresh)
    row.csrf_hash = hash_token(csrf)
    row.last_used_at = now
    return _token_pair(row, user, refresh, csrf, settings=settings, key=key, now=now)


def _live_user(session: Session, row: UserSession, *, now: datetime, settings: Settings) -> User:
    """The session's user if the session may go on; else Unauthenticated."""
    if (
        row.revoked_at is not None
        or row.expires_at <= now
        or row.last_used_at + settings.session_idle_timeout <= now
    ):
        raise Unauthenticated(SESSION_ENDED)
    user = session.get(User, row.user_id)
    if user is None or user.removed_at is not None or user.verified_at is None:
        raise Unauthenticated(SESSION_ENDED)
    return user


def log_out(
    session: Session, *, session_id: UUID | None, refresh_token: str | None, ip: str | None
) -> None:
    """End the session named by its id or its refresh token; nothing if there is none."""
    query = select(UserSession).with_for_update()
    if session_id is not None:
        query = query.where(UserSession.id == session_id)
    elif refresh_token:
        query = query.where(UserSession.refresh_token_hash == hash_token(refresh_token))
    else:
        return
    row = session.scalar(query)
    if row is None or row.revoked_at is not None:
        return
    now = utcnow()
    _revoke_session(session, row, now)
    user = session.get(User, row.user_id)
    audit.record(
        session,
        action="logout",
        ip=ip,
        office_id=user.office_id if user else None,
        user_id=row.user_id,
        details={"session_id": str(row.id)},
        at=now,
    )


def _revoke_session(session: Session, row: UserSession, now: datetime) -> None:
    row.revoked_at = now
    # Access tokens carry whole-second iat; an ended session issues no more tokens, so
    # every token of it is older than the next whole second.
    next_second = now.replace(microsecond=0) + timedelta(seconds=1)
    session.add(Revocation(session_id=row.id, revoked_before=next_second, created_at=now))


def end_user_sessions(session: Session, *, user_id: UUID, now: datetime) -> None:
    """End every session of the user and void their access tokens (published as revocations)."""
    rows = session.scalars(
        select(UserSession)
        .where(
            UserSession.user_id == user_id,
            UserSession.revoked_at.is_(None),
            UserSession.expires_at > now,
        )
        .with_for_update()
    )
    for row in rows:
        _revoke_session(session, row, now)
    # The start of this second, so a log-in right after (a new password) stands; the
    # session entries above cover the tokens issued earlier in this second.
    start_of_second = now.replace(microsecond=0)
    session.add(Revocation(user_id=user_id, revoked_before=start_of_second, created_at=now))


def list_revocations(session: Session, *, since: int, settings: Settings) -> Revocations:
    """Entries after the cursor (``since=0``: those young enough to matter) and the next cursor.

    Entries of the last few seconds come again on the next poll: applying one
    twice changes nothing, and an entry that committed late is not skipped.
    """
    now = utcnow()
    query = select(Revocation).where(Revocation.id > since)
    if since <= 0:
        query = query.where(Revocation.created_at > now - settings.session_max_age)
    rows = list(session.scalars(query.order_by(Revocation.id).limit(REVOCATIONS_PAGE)))
    cursor = max(since, 0)
    for row in rows:
        if row.created_at > now - REVOCATION_SETTLE:
            break
        cursor = row.id
    return Revocations(cursor=cursor, entries=[RevocationOut.model_validate(row) for row in rows])
