"""The audit of security events, and keeping it when the request itself fails."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NoReturn
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session

from identity.access import Actor, require_admin
from identity.models import AuditEntry
from identity.tokens import utcnow
from shared.errors import BridgeworkError

MAX_PAGE = 200


def record(
    session: Session,
    *,
    action: str,
    outcome: str = "success",
    ip: str | None = None,
    office_id: UUID | None = None,
    user_id: UUID | None = None,
    client_id: UUID | None = None,
    details: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    """Add an audit row to the session's transaction (never a password, token or secret)."""
    session.add(
        AuditEntry(
            at=at or utcnow(),
            action=action,
            outcome=outcome,
            ip=ip,
            office_id=office_id,
            user_id=user_id,
            client_id=client_id,
            details=details,
        )
    )


def keep_and_raise(session: Session, error: BridgeworkError) -> NoReturn:
    """Commit what was recorded so far (audit rows, failure counts, events), then fail.

    An error reply rolls the unit of work back; a failed log-in must still count.
    """
    session.commit()
    raise error


def list_audit(
    session: Session, *, actor: Actor, limit: int, before_id: int | None
) -> list[AuditEntry]:
    """The office's audit entries, newest first, one page."""
    require_admin(actor)
    query = select(AuditEntry).where(AuditEntry.office_id == actor.office_id)
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    query = query.order_by(AuditEntry.id.desc()).limit(max(1, min(limit, MAX_PAGE)))
    return list(session.scalars(query))
