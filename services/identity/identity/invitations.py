"""Invitations: to another office (to become colleagues) or to a person (to join the office)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from identity import audit, idempotency
from identity.access import Actor, require_admin
from identity.accounts import active_user_by_email
from identity.contact import ContactError, normalise_email
from identity.links import create_link
from identity.models import Invitation, Link, Office
from identity.settings import Settings
from identity.tokens import utcnow
from shared.contracts.identity import (
    InvitationIn,
    InvitationKind,
    InvitationOut,
    InvitationSent,
    LinkPurpose,
    Role,
    StaffInvitationIn,
)
from shared.errors import Conflict, NotFound
from shared.outbox import record_event
from shared.validation import field_error


def _status(invitation: Invitation, now: datetime) -> str:
    if invitation.accepted_at is not None:
        return "accepted"
    if invitation.revoked_at is not None:
        return "revoked"
    return "expired" if invitation.expires_at <= now else "pending"


def invitation_out(invitation: Invitation, *, office_name: str | None) -> InvitationOut:
    """The contract's view of an invitation."""
    return InvitationOut(
        id=invitation.id,
        kind=InvitationKind(invitation.kind),
        email=invitation.email,
        from_office_id=invitation.office_id,
        from_office_name=office_name,
        role=Role(invitation.role) if invitation.role else None,
        status=_status(invitation, utcnow()),
        created_at=invitation.created_at,
        expires_at=invitation.expires_at,
        accepted_at=invitation.accepted_at,
    )


def create_invitation(
    session: Session,
    *,
    actor: Actor,
    cmd: InvitationIn,
    ip: str | None,
    idempotency_key: str | None,
    settings: Settings,
) -> InvitationOut:
    """Invite another office by e-mail to become colleagues (admin)."""
    require_admin(actor)
    return idempotency.once(
        session,
        office_id=actor.office_id,
        operation="create_invitation",
        key=idempotency_key,
        model=InvitationOut,
        make=lambda: _invite(
            session,
            actor=actor,
            kind=InvitationKind.colleague,
            email=cmd.email,
            message=cmd.message,
            role=None,
            ip=ip,
            settings=settings,
        ),
    )


def invite_staff(
    session: Session,
    *,
    actor: Actor,
    cmd: StaffInvitationIn,
    ip: str | None,
    idempotency_key: str | None,
    settings: Settings,
) -> InvitationOut:
    """Invite a person by e-mail to join the office with a role (admin)."""
    require_admin(actor)
    if cmd.role not in (Role.admin, Role.staff):
        raise field_error("role", "Choose admin or staff.")
    return idempotency.once(
        session,
        office_id=actor.office_id,
        operation="invite_staff",
        key=idempotency_key,
        model=InvitationOut,
        make=lambda: _invite(
            session,
            actor=actor,
            kind=InvitationKind.staff,
            email=cmd.email,
            message=None,
            role=cmd.role,
            ip=ip,
            settings=settings,
        ),
    )


def _invitee(session: Session, *, office: Office, email: str) -> str:
    """The normalised address, unless it already belongs to the inviting office."""
    try:
        email = normalise_email(email)
    except ContactError as exc:
        raise field_error("email", str(exc)) from None
    member = active_user_by_email(session, email)
    if office.email == email or (member is not None and member.office_id == office.id):
        raise Conflict("This address already belongs to your office.")
    return email


def _invite(
    session: Session,
    *,
    actor: Actor,
    kind: InvitationKind,
    email: str,
    message: str | None,
    role: Role | None,
    ip: str | None,
    settings: Settings,
) -> InvitationOut:
    office = session.get(Office, actor.office_id)
    assert office is not None
    email, now = _invitee(session, office=office, email=email), utcnow()
    invitation = Invitation(
        kind=kind.value,
        office_id=office.id,
        invited_by=actor.user_id,
        email=email,
        message=message,
        role=role.value if role else None,
        created_at=now,
        expires_at=now + settings.invitation_ttl,
    )
    session.add(invitation)
    session.flush()
    link = create_link(
        session,
        purpose=LinkPurpose.invitation,
        settings=settings,
        now=now,
        invitation_id=invitation.id,
    )
    event = InvitationSent(
        invitation_id=invitation.id,
        kind=kind,
        from_office_id=office.id,
        from_office_name=office.name,
        invited_by=actor.user_id,
        email=email,
        link_id=link.id,
    )
    record_event(session, event)
    audit_invitation(session, "invitation_sent", invitation, actor=actor, ip=ip, now=now)
    return invitation_out(invitation, office_name=office.name)


def audit_invitation(
    session: Session,
    action: str,
    invitation: Invitation,
    *,
    actor: Actor | None,
    ip: str | None,
    now: datetime,
    office_id: UUID | None = None,
) -> None:
    audit.record(
        session,
        action=action,
        ip=ip,
        office_id=office_id or invitation.office_id,
        user_id=actor.user_id if actor else None,
        client_id=actor.client_id if actor else None,
        details={"invitation_id": str(invitation.id), "kind": invitation.kind},
        at=now,
    )


def list_invitations(session: Session, *, actor: Actor) -> list[InvitationOut]:
    """The invitations the office sent, newest first."""
    office = session.get(Office, actor.office_id)
    invitations = session.scalars(
        select(Invitation)
        .where(Invitation.office_id == actor.office_id)
        .order_by(Invitation.created_at.desc())
    )
    return [invitation_out(i, office_name=office.name if office else None) for i in invitations]


def revoke_invitation(
    session: Session, *, actor: Actor, invitation_id: UUID, ip: str | None
) -> None:
    """Withdraw a pending invitation (admin); its link stops working."""
    invitation = session.get(Invitation, invitation_id, with_for_update=True)
    if invitation is None or invitation.office_id != actor.office_id:
        raise NotFound("No such invitation.")
    require_admin(actor)
    if invitation.accepted_at is not None:
        raise Conflict("This invitation was already accepted.")
    if invitation.revoked_at is not None:
        return
    now = utcnow()
    invitation.revoked_at = now
    session.execute(
        update(Link)
        .where(Link.invitation_id == invitation.id, Link.superseded_at.is_(None))
        .values(superseded_at=now)
    )
    audit_invitation(session, "invitation_revoked", invitation, actor=actor, ip=ip, now=now)
