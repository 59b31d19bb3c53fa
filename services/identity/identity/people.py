"""The people of an office: who they are, their roles, their removal."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from identity import audit
from identity.access import Actor, require_admin
from identity.models import Office, User
from identity.offices import get_office
from identity.sessions import end_user_sessions
from identity.settings import Settings
from identity.tokens import utcnow
from shared.contracts.identity import Me, Role, RoleChange, UserOut
from shared.errors import Conflict, NotFound
from shared.validation import field_error

LAST_ADMIN = "An office keeps at least one administrator: make someone else one first."


def user_out(user: User) -> UserOut:
    """The contract's view of a user."""
    return UserOut(
        id=user.id,
        office_id=user.office_id,
        email=user.email,
        name=user.name,
        role=Role(user.role),
        verified=user.verified_at is not None,
        created_at=user.created_at,
    )


def get_me(session: Session, *, actor: Actor, settings: Settings) -> Me:
    """The caller (a user or an API client) and their office."""
    user = session.get(User, actor.user_id) if actor.user_id else None
    return Me(
        user=user_out(user) if user else None,
        client_id=actor.client_id,
        role=actor.role,
        office=get_office(session, actor=actor, settings=settings),
    )


def _active(office_id: UUID) -> list[ColumnElement[bool]]:
    return [User.office_id == office_id, User.removed_at.is_(None)]


def list_users(session: Session, *, actor: Actor) -> list[UserOut]:
    """The office's people, oldest account first."""
    users = session.scalars(select(User).where(*_active(actor.office_id)).order_by(User.created_at))
    return [user_out(user) for user in users]


def _own_user(session: Session, actor: Actor, user_id: UUID) -> User:
    user = session.get(User, user_id)
    if user is None or user.office_id != actor.office_id or user.removed_at is not None:
        raise NotFound("No such user.")
    return user


def get_user(session: Session, *, actor: Actor, user_id: UUID) -> UserOut:
    """One person of the office."""
    return user_out(_own_user(session, actor, user_id))


def _admins_left(session: Session, office_id: UUID) -> int:
    # The office row is locked first, so two admins demoting each other take turns.
    session.get(Office, office_id, with_for_update=True)
    return (
        session.scalar(
            select(func.count()).where(*_active(office_id), User.role == Role.admin.value)
        )
        or 0
    )


def change_role(
    session: Session, *, actor: Actor, user_id: UUID, cmd: RoleChange, ip: str | None
) -> UserOut:
    """Make someone an admin or staff (admin); their sessions end so the new role counts."""
    user = _own_user(session, actor, user_id)
    require_admin(actor)
    if cmd.role not in (Role.admin, Role.staff):
        raise field_error("role", "Choose admin or staff.")
    if user.role == cmd.role:
        return user_out(user)
    if user.role == Role.admin and _admins_left(session, actor.office_id) <= 1:
        raise Conflict(LAST_ADMIN)
    now, previous = utcnow(), user.role
    user.role = cmd.role.value
    end_user_sessions(session, user_id=user.id, now=now)
    audit.record(
        session,
        action="role_changed",
        ip=ip,
        office_id=actor.office_id,
        user_id=actor.user_id,
        details={"target_user_id": str(user.id), "from": previous, "to": user.role},
        at=now,
    )
    return user_out(user)


def remove_user(session: Session, *, actor: Actor, user_id: UUID, ip: str | None) -> None:
    """Take someone out of the office (admin); never oneself, never the last admin."""
    user = _own_user(session, actor, user_id)
    require_admin(actor)
    if user.id == actor.user_id:
        raise Conflict("You cannot remove yourself; another administrator can.")
    if user.role == Role.admin and _admins_left(session, actor.office_id) <= 1:
        raise Conflict(LAST_ADMIN)
    now = utcnow()
    user.removed_at = now
    end_user_sessions(session, user_id=user.id, now=now)
    audit.record(
        session,
        action="user_removed",
        ip=ip,
        office_id=actor.office_id,
        user_id=actor.user_id,
        details={"target_user_id": str(user.id)},
        at=now,
    )


def get_users(session: Session, *, user_ids: Iterable[UUID]) -> list[UserOut]:
    """Users by id, removed ones included (records keep naming them), in the order asked."""
    ids = list(dict.fromkeys(user_ids))
    found = {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids)))}
    return [user_out(found[i]) for i in ids if i in found]


def list_office_members(session: Session, *, office_id: UUID) -> list[UserOut]:
    """The verified, active users of an office (whom to notify)."""
    users = session.scalars(
        select(User)
        .where(*_active(office_id), User.verified_at.is_not(None))
        .order_by(User.created_at)
    )
    return [user_out(user) for user in users]
