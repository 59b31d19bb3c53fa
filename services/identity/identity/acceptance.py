"""Accepting an invitation: the link proves the address; the account is linked or created."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from identity.access import Actor
from identity.accounts import (
    active_user_by_email,
    check_new_account,
    refuse_existing_office,
    register_office,
)
from identity.colleagues import link_colleagues
from identity.invitations import audit_invitation
from identity.links import expired, find_link, not_valid
from identity.models import Invitation, Link, Office, User
from identity.passwords import hash_password
from identity.settings import Settings
from identity.tokens import utcnow
from shared.contracts.identity import (
    AcceptedInvitation,
    AcceptInvitation,
    InvitationAccepted,
    InvitationKind,
    InvitationPreview,
    LinkPurpose,
    Role,
)
from shared.errors import Conflict, Gone
from shared.outbox import record_event
from shared.validation import FieldError, invalid

_CHOOSE = "Choose a password."


def _open_invitation(
    session: Session, *, token: str, now: datetime, lock: bool
) -> tuple[Link, Invitation]:
    """The link and its invitation, if the invitation can still be accepted."""
    link = find_link(session, token=token, purpose=LinkPurpose.invitation, lock=lock)
    if link is None or link.invitation_id is None:
        raise not_valid()
    invitation = session.get(Invitation, link.invitation_id, with_for_update=lock)
    assert invitation is not None
    if invitation.accepted_at is not None or link.used_at is not None:
        raise Conflict("This invitation was already accepted.")
    if invitation.revoked_at is not None or link.superseded_at is not None:
        raise Gone("The office withdrew this invitation.", details={"revoked": True})
    if link.expires_at <= now:
        raise expired(LinkPurpose.invitation)
    return link, invitation


def get_invitation(session: Session, *, token: str) -> InvitationPreview:
    """What the invitation's landing page shows to whoever holds the link."""
    _link, invitation = _open_invitation(session, token=token, now=utcnow(), lock=False)
    office = session.get(Office, invitation.office_id)
    return InvitationPreview(
        kind=InvitationKind(invitation.kind),
        email=invitation.email,
        from_office_name=office.name if office else None,
        message=invitation.message,
        account_exists=active_user_by_email(session, invitation.email) is not None,
        expires_at=invitation.expires_at,
    )


def accept_invitation(
    session: Session,
    *,
    cmd: AcceptInvitation,
    actor: Actor | None,
    ip: str | None,
    settings: Settings,
) -> AcceptedInvitation:
    """Accept with the link's token: link or create the account, then mark it accepted."""
    now = utcnow()
    link, invitation = _open_invitation(session, token=cmd.token, now=now, lock=True)
    if invitation.kind == InvitationKind.colleague:
        office_id, user_id, created = _accept_as_colleague(
            session, invitation=invitation, cmd=cmd, actor=actor, settings=settings, now=now
        )
    else:
        office_id, user_id = _accept_as_staff(
            session, invitation=invitation, cmd=cmd, settings=settings, now=now
        )
        created = True
    invitation.accepted_at, link.used_at = now, now
    invitation.accepted_office_id, invitation.accepted_user_id = office_id, user_id
    _record_acceptance(session, invitation=invitation, actor=actor, ip=ip, now=now)
    colleague = invitation.office_id if invitation.kind == InvitationKind.colleague else None
    return AcceptedInvitation(
        invitation_id=invitation.id,
        kind=InvitationKind(invitation.kind),
        office_id=office_id,
        user_id=user_id,
        colleague_office_id=colleague,
        created_account=created,
    )


def _record_acceptance(
    session: Session,
    *,
    invitation: Invitation,
    actor: Actor | None,
    ip: str | None,
    now: datetime,
) -> None:
    assert invitation.accepted_office_id is not None
    record_event(
        session,
        InvitationAccepted(
            invitation_id=invitation.id,
            kind=InvitationKind(invitation.kind),
            from_office_id=invitation.office_id,
            office_id=invitation.accepted_office_id,
            user_id=invitation.accepted_user_id,
        ),
    )
    audit_invitation(
        session,
        "invitation_accepted",
        invitation,
        actor=actor,
        ip=ip,
        now=now,
        office_id=invitation.accepted_office_id,
    )


def _accept_as_colleague(
    session: Session,
    *,
    invitation: Invitation,
    cmd: AcceptInvitation,
    actor: Actor | None,
    settings: Settings,
    now: datetime,
) -> tuple[UUID, UUID | None, bool]:
    """The accepting office (the caller's, the address's, or a new one) and whether it is new."""
    created = False
    existing = active_user_by_email(session, invitation.email) if actor is None else None
    if actor is not None:
        office_id, user_id = actor.office_id, actor.user_id
    elif existing is not None:
        office_id, user_id = existing.office_id, existing.id
    else:
        office_id, user_id = _new_office(
            session, invitation=invitation, cmd=cmd, settings=settings, now=now
        )
        created = True
    if office_id == invitation.office_id:
        raise Conflict("This invitation came from your own office.")
    link_colleagues(
        session,
        office_id=invitation.office_id,
        colleague_office_id=office_id,
        relation="invited",
        reverse_relation="invited_by",
        now=now,
    )
    return office_id, user_id, created


def _require(cmd: AcceptInvitation, fields: dict[str, str]) -> None:
    errors: list[FieldError] = [
        {"field": name, "message": message}
        for name, message in fields.items()
        if not getattr(cmd, name)
    ]
    if errors:
        raise invalid(errors)


def _new_office(
    session: Session,
    *,
    invitation: Invitation,
    cmd: AcceptInvitation,
    settings: Settings,
    now: datetime,
) -> tuple[UUID, UUID]:
    """A new office whose admin's address the link has proven (so already verified)."""
    _require(cmd, {"phone": "Enter the office's main phone number.", "password": _CHOOSE})
    assert cmd.phone is not None and cmd.password is not None
    email, phone = check_new_account(
        email=invitation.email, phone=cmd.phone, password=cmd.password, settings=settings
    )
    assert phone is not None
    refuse_existing_office(session, email=email, phone=phone)
    office, user = register_office(
        session,
        email=email,
        phone=phone,
        password_hash=hash_password(cmd.password),
        settings=settings,
        now=now,
        verified=True,
        name=cmd.name or None,
    )
    return office.id, user.id


def _accept_as_staff(
    session: Session,
    *,
    invitation: Invitation,
    cmd: AcceptInvitation,
    settings: Settings,
    now: datetime,
) -> tuple[UUID, UUID]:
    """A new, verified user of the inviting office with the invitation's role."""
    if active_user_by_email(session, invitation.email) is not None:
        raise Conflict(
            "An account with this e-mail address already exists; "
            "a person belongs to one office. Ask the office to invite another address."
        )
    _require(cmd, {"name": "Enter your name.", "password": _CHOOSE})
    assert cmd.password is not None
    email, _ = check_new_account(
        email=invitation.email, phone=None, password=cmd.password, settings=settings
    )
    user = User(
        office_id=invitation.office_id,
        email=email,
        name=cmd.name,
        role=invitation.role or Role.staff.value,
        password_hash=hash_password(cmd.password),
        verified_at=now,
        created_at=now,
    )
    session.add(user)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict("An account with this e-mail address already exists.") from None
    return invitation.office_id, user.id
