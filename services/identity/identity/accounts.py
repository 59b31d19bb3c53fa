"""Accounts: sign-up, e-mail verification, password reset and change."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from identity import audit
from identity.access import Actor, require_user
from identity.contact import ContactError, normalise_email, normalise_phone
from identity.links import create_link, find_link, not_valid, supersede_links, usable_link
from identity.models import Office, User
from identity.offices import accepts_referrals_by_default
from identity.passwords import hash_password, policy_violations, verify_password
from identity.sessions import end_user_sessions
from identity.settings import Settings
from identity.tokens import utcnow
from shared.contracts.identity import (
    LinkPurpose,
    OfficeKind,
    OfficeRegistered,
    PasswordChange,
    PasswordResetConfirm,
    PasswordResetRequest,
    PasswordResetRequested,
    ResendVerification,
    Role,
    SignUp,
    SignUpResult,
    UserVerified,
    VerificationResent,
    VerifyResult,
)
from shared.errors import Conflict
from shared.outbox import record_event
from shared.teeth import Notation
from shared.validation import FieldError, field_error, invalid


def check_new_account(
    *, email: str, phone: str | None, password: str | None, settings: Settings
) -> tuple[str, str | None]:
    """The normalised e-mail and phone; InvalidInput naming every field and password rule."""
    errors: list[FieldError] = []
    try:
        email = normalise_email(email)
    except ContactError as exc:
        errors.append({"field": "email", "message": str(exc)})
    if phone is not None:
        try:
            phone = normalise_phone(phone, region=settings.default_phone_region)
        except ContactError as exc:
            errors.append({"field": "phone", "message": str(exc)})
    if password is not None:
        errors += [{"field": "password", "message": m} for m in policy_violations(password)]
    if errors:
        raise invalid(errors)
    return email, phone


def _office_exists(name: str | None) -> Conflict:
    # Only the office's name: enough to know whom to ask, nothing else about it.
    named = f": {name}" if name else ""
    return Conflict(
        f"An office is already registered with this e-mail or phone{named}. "
        "Ask its administrator to invite you.",
        details={"office_name": name},
    )


def refuse_existing_office(session: Session, *, email: str, phone: str) -> None:
    """Conflict when the e-mail or phone belongs to an office, or the e-mail to a person."""
    office = session.scalar(
        select(Office).where(or_(Office.email == email, Office.phone == phone)).limit(1)
    )
    if office is None:
        user = active_user_by_email(session, email)
        office = session.get(Office, user.office_id) if user else None
    if office is not None:
        raise _office_exists(office.name)


def active_user_by_email(session: Session, email: str) -> User | None:
    """The active user with this (normalised) address."""
    return session.scalar(select(User).where(User.email == email, User.removed_at.is_(None)))


def register_office(
    session: Session,
    *,
    email: str,
    phone: str,
    password_hash: str,
    settings: Settings,
    now: datetime,
    verified: bool,
    name: str | None = None,
) -> tuple[Office, User]:
    """A new office (details to follow in its setup) and its first admin."""
    office = Office(
        kind=OfficeKind.general_practice.value,
        email=email,
        phone=phone,
        time_zone=settings.default_time_zone,
        notation=Notation.UNIVERSAL.value,
        accepts_referrals=accepts_referrals_by_default(OfficeKind.general_practice),
        created_at=now,
    )
    session.add(office)
    try:
        session.flush()
    except IntegrityError:
        raise _office_exists(None) from None  # registered a moment ago by someone else
    user = User(
        office_id=office.id,
        email=email,
        name=name,
        role=Role.admin.value,
        password_hash=password_hash,
        verified_at=now if verified else None,
        created_at=now,
    )
    session.add(user)
    session.flush()
    return office, user


def sign_up(session: Session, *, cmd: SignUp, ip: str | None, settings: Settings) -> SignUpResult:
    """Register an office and its admin; the admin verifies the e-mail next."""
    email, phone = check_new_account(
        email=cmd.email, phone=cmd.phone, password=cmd.password, settings=settings
    )
    assert phone is not None
    refuse_existing_office(session, email=email, phone=phone)
    password_hash, now = hash_password(cmd.password), utcnow()
    office, user = register_office(
        session,
        email=email,
        phone=phone,
        password_hash=password_hash,
        settings=settings,
        now=now,
        verified=False,
    )
    link = create_link(
        session, purpose=LinkPurpose.verify_email, settings=settings, now=now, user_id=user.id
    )
    record_event(
        session,
        OfficeRegistered(office_id=office.id, user_id=user.id, email=email, link_id=link.id),
    )
    audit.record(session, action="sign_up", ip=ip, office_id=office.id, user_id=user.id, at=now)
    return SignUpResult(office_id=office.id, user_id=user.id, email=email)


def verify_email(session: Session, *, token: str, ip: str | None) -> VerifyResult:
    """Mark the user's address verified with the token of their link (single use)."""
    now = utcnow()
    link = usable_link(session, token=token, purpose=LinkPurpose.verify_email, now=now)
    user = session.get(User, link.user_id, with_for_update=True)
    if user is None or user.removed_at is not None:
        raise not_valid()
    link.used_at = now
    supersede_links(session, purpose=LinkPurpose.verify_email, user_id=user.id, now=now)
    if user.verified_at is None:
        user.verified_at = now
        record_event(session, UserVerified(office_id=user.office_id, user_id=user.id))
    audit.record(
        session, action="email_verified", ip=ip, office_id=user.office_id, user_id=user.id, at=now
    )
    return VerifyResult(office_id=user.office_id, user_id=user.id, email=user.email)


def resend_verification(session: Session, *, cmd: ResendVerification, settings: Settings) -> None:
    """A fresh verification link for an unverified user; silent when there is none."""
    if cmd.token is None and cmd.email is None:
        raise field_error("email", "Give the e-mail address, or the token of the link you used.")
    user: User | None = None
    if cmd.token is not None:
        link = find_link(session, token=cmd.token, purpose=LinkPurpose.verify_email)
        if link is not None and link.used_at is None and link.superseded_at is None:
            user = session.get(User, link.user_id)
    else:
        assert cmd.email is not None
        try:
            user = active_user_by_email(session, normalise_email(cmd.email))
        except ContactError as exc:
            raise field_error("email", str(exc)) from None
    if user is None or user.verified_at is not None or user.removed_at is not None:
        return
    now = utcnow()
    supersede_links(session, purpose=LinkPurpose.verify_email, user_id=user.id, now=now)
    link = create_link(
        session, purpose=LinkPurpose.verify_email, settings=settings, now=now, user_id=user.id
    )
    record_event(
        session,
        VerificationResent(
            office_id=user.office_id, user_id=user.id, email=user.email, link_id=link.id
        ),
    )


def request_password_reset(
    session: Session, *, cmd: PasswordResetRequest, ip: str | None, settings: Settings
) -> None:
    """Send a reset link if the address has an account; the same answer if it has not."""
    try:
        user = active_user_by_email(session, normalise_email(cmd.email))
    except ContactError as exc:
        raise field_error("email", str(exc)) from None
    if user is None:
        return
    now = utcnow()
    supersede_links(session, purpose=LinkPurpose.reset_password, user_id=user.id, now=now)
    link = create_link(
        session, purpose=LinkPurpose.reset_password, settings=settings, now=now, user_id=user.id
    )
    record_event(
        session,
        PasswordResetRequested(
            office_id=user.office_id, user_id=user.id, email=user.email, link_id=link.id
        ),
    )
    audit.record(
        session,
        action="password_reset_requested",
        ip=ip,
        office_id=user.office_id,
        user_id=user.id,
        at=now,
    )


def reset_password(session: Session, *, cmd: PasswordResetConfirm, ip: str | None) -> None:
    """Set a new password with a reset link's token; every session of the user ends."""
    now = utcnow()
    link = usable_link(session, token=cmd.token, purpose=LinkPurpose.reset_password, now=now)
    broken = policy_violations(cmd.password)
    if broken:
        raise invalid([{"field": "password", "message": message} for message in broken])
    user = session.get(User, link.user_id, with_for_update=True)
    if user is None or user.removed_at is not None:
        raise not_valid()
    link.used_at = now
    _set_password(session, user=user, password=cmd.password, now=now)
    # The link proved the address, and a locked owner is let back in.
    user.verified_at = user.verified_at or now
    user.failed_logins, user.locked_until = 0, None
    audit.record(
        session, action="password_reset", ip=ip, office_id=user.office_id, user_id=user.id, at=now
    )


def _set_password(session: Session, *, user: User, password: str, now: datetime) -> None:
    user.password_hash = hash_password(password)
    supersede_links(session, purpose=LinkPurpose.reset_password, user_id=user.id, now=now)
    end_user_sessions(session, user_id=user.id, now=now)


def change_password(
    session: Session,
    *,
    actor: Actor,
    cmd: PasswordChange,
    session_id: UUID | None,
    ip: str | None,
) -> None:
    """Replace the caller's password; every session of theirs ends."""
    user_id = require_user(actor)
    user = session.get(User, user_id, with_for_update=True)
    assert user is not None  # resolved a moment ago
    broken = policy_violations(cmd.new_password)
    if broken:
        raise invalid([{"field": "new_password", "message": message} for message in broken])
    now = utcnow()
    if not verify_password(user.password_hash, cmd.current_password):
        audit.record(
            session,
            action="password_change",
            outcome="failure",
            ip=ip,
            office_id=user.office_id,
            user_id=user.id,
            details={"reason": "bad_password"},
            at=now,
        )
        wrong = field_error("current_password", "This is not your current password.")
        audit.keep_and_raise(session, wrong)
    _set_password(session, user=user, password=cmd.new_password, now=now)
    details = {"session_id": str(session_id)} if session_id else None
    audit.record(
        session,
        action="password_change",
        ip=ip,
        office_id=user.office_id,
        user_id=user.id,
        details=details,
        at=now,
    )
