"""E-mailed single-use links: events carry a link's id, ``issue_link`` makes its token."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from identity.models import Invitation, Link, User
from identity.settings import Settings
from identity.tokens import hash_token, new_token, utcnow
from shared.contracts.identity import IssuedLink, LinkPurpose
from shared.errors import Conflict, Gone, InvalidInput, NotFound
from shared.validation import field_error

_PATHS = {
    LinkPurpose.verify_email: "/verify",
    LinkPurpose.reset_password: "/reset-password",
    LinkPurpose.invitation: "/invitation",
}


def ttl(purpose: LinkPurpose, settings: Settings) -> timedelta:
    """How long a link of ``purpose`` works after it is issued."""
    return {
        LinkPurpose.verify_email: settings.verify_link_ttl,
        LinkPurpose.reset_password: settings.reset_link_ttl,
        LinkPurpose.invitation: settings.invitation_ttl,
    }[purpose]


def create_link(
    session: Session,
    *,
    purpose: LinkPurpose,
    settings: Settings,
    now: datetime,
    user_id: UUID | None = None,
    invitation_id: UUID | None = None,
) -> Link:
    """A new link without a token yet (the notifications service asks for one)."""
    link = Link(
        purpose=purpose.value,
        user_id=user_id,
        invitation_id=invitation_id,
        created_at=now,
        expires_at=now + ttl(purpose, settings),
    )
    session.add(link)
    session.flush()
    return link


def supersede_links(
    session: Session, *, purpose: LinkPurpose, user_id: UUID, now: datetime
) -> None:
    """Earlier unused links of the user for ``purpose`` stop working (not one just used)."""
    session.flush()
    session.execute(
        update(Link)
        .where(
            Link.purpose == purpose.value,
            Link.user_id == user_id,
            Link.used_at.is_(None),
            Link.superseded_at.is_(None),
        )
        .values(superseded_at=now)
    )


def issue_link(session: Session, *, link_id: UUID, settings: Settings) -> IssuedLink:
    """A fresh token for the link (replacing any earlier one) and the URL that carries it."""
    link = session.get(Link, link_id, with_for_update=True)
    if link is None:
        raise NotFound("No such link.")
    if link.used_at is not None or link.superseded_at is not None:
        raise Conflict("This link was already used or replaced by a newer one.")
    purpose = LinkPurpose(link.purpose)
    email = _recipient(session, link)
    token, now = new_token(), utcnow()
    link.token_hash = hash_token(token)
    link.issued_at = now
    link.expires_at = now + ttl(purpose, settings)
    if link.invitation_id is not None:
        invitation = session.get(Invitation, link.invitation_id)
        assert invitation is not None
        invitation.expires_at = link.expires_at
    url = f"{settings.public_url}{_PATHS[purpose]}?token={token}"
    return IssuedLink(purpose=purpose, url=url, email=email, expires_at=link.expires_at)


def _recipient(session: Session, link: Link) -> str:
    if link.invitation_id is not None:
        invitation = session.get(Invitation, link.invitation_id)
        assert invitation is not None
        return invitation.email
    user = session.get(User, link.user_id)
    if user is None or user.removed_at is not None:
        raise Conflict("The account this link was for no longer exists.")
    return user.email


def find_link(
    session: Session, *, token: str, purpose: LinkPurpose, lock: bool = False
) -> Link | None:
    """The link whose token this is, whatever its state."""
    query = select(Link).where(Link.token_hash == hash_token(token), Link.purpose == purpose.value)
    if lock:
        query = query.with_for_update()
    return session.scalar(query)


def not_valid() -> InvalidInput:
    """The answer for a token that is unknown, used or replaced: all look alike."""
    return field_error("token", "This link is not valid (it may have been used already).")


_EXPIRED = {
    LinkPurpose.verify_email: "This verification link has expired. Ask for a new one.",
    LinkPurpose.reset_password: "This password reset link has expired. Ask for a new one.",
    LinkPurpose.invitation: "This invitation has expired. Ask the office to invite you again.",
}


def expired(purpose: LinkPurpose) -> Gone:
    """The answer for a link that worked once and has run out of time."""
    return Gone(_EXPIRED[purpose], details={"expired": True})


def usable_link(session: Session, *, token: str, purpose: LinkPurpose, now: datetime) -> Link:
    """The link, locked, if it may be used now; else not_valid() or expired()."""
    link = find_link(session, token=token, purpose=purpose, lock=True)
    if link is None or link.used_at is not None or link.superseded_at is not None:
        raise not_valid()
    if link.expires_at <= now:
        raise expired(purpose)
    return link
