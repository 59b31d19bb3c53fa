"""Who is calling: the caller the gateway passed, checked against this service's own data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy.orm import Session

from identity.models import ApiClient, User
from shared.contracts import Caller
from shared.contracts.identity import Role
from shared.errors import PermissionDenied, Unauthenticated
from shared.validation import parse

ENDED = "Your session has ended. Sign in again."


@dataclass(frozen=True)
class Actor:
    """A caller whose user or API client exists, is active and belongs to ``office_id``.

    ``role`` is read from the database, not from the token: a role changed a
    moment ago counts at once.
    """

    office_id: UUID
    role: Role
    user_id: UUID | None = None
    client_id: UUID | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == Role.admin


def resolve(session: Session, caller: Any) -> Actor:
    """The Actor for the ``caller`` dict; Unauthenticated when it no longer stands."""
    who = parse(Caller, caller, field="caller")
    if who.user_id is not None:
        user = session.get(User, who.user_id)
        if (
            user is None
            or user.office_id != who.office_id
            or user.removed_at is not None
            or user.verified_at is None
        ):
            raise Unauthenticated(ENDED)
        return Actor(office_id=user.office_id, role=Role(user.role), user_id=user.id)
    if who.client_id is not None:
        client = session.get(ApiClient, who.client_id)
        if client is None or client.office_id != who.office_id or client.revoked_at is not None:
            raise Unauthenticated(ENDED)
        return Actor(office_id=client.office_id, role=Role.client, client_id=client.id)
    raise Unauthenticated("Sign in first.")


def resolve_optional(session: Session, caller: Any) -> Actor | None:
    """Like ``resolve``, for methods that also serve callers who are not signed in."""
    return None if caller is None else resolve(session, caller)


def require_admin(actor: Actor) -> None:
    """PermissionDenied unless the actor is an admin of its office."""
    if not actor.is_admin:
        raise PermissionDenied("Only an administrator of the office can do this.")


def require_user(actor: Actor) -> UUID:
    """The actor's user id; PermissionDenied for API clients."""
    if actor.user_id is None:
        raise PermissionDenied("Only a person signed in to the office can do this.")
    return actor.user_id
