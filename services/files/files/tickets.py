"""Single-use transfer tickets: 256 random bits handed out once, only their SHA-256 stored."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from files.exceptions import TicketSpent, TicketUnknown
from files.models import TransferTicket
from shared.contracts import Caller


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue(
    session: Session,
    *,
    purpose: str,
    who: Caller,
    owner_type: str,
    owner_id: UUID,
    ttl: int,
    file_id: UUID | None = None,
    filename: str | None = None,
    disposition: str | None = None,
) -> tuple[str, datetime]:
    """A new ticket: the token (shown once) and when it expires."""
    token = secrets.token_urlsafe(32)
    expires_at = datetime.now(UTC) + timedelta(seconds=ttl)
    session.add(
        TransferTicket(
            hash=_hash(token),
            purpose=purpose,
            caller=who.model_dump(mode="json"),
            owner_type=owner_type,
            owner_id=owner_id,
            file_id=file_id,
            filename=filename,
            disposition=disposition,
            expires_at=expires_at,
        )
    )
    # Expired tickets are of no use to anyone: sweep a few on the way.
    session.execute(
        delete(TransferTicket).where(
            TransferTicket.expires_at < datetime.now(UTC) - timedelta(hours=1)
        )
    )
    return token, expires_at


def consume(session: Session, *, token: str, purposes: tuple[str, ...]) -> TransferTicket:
    """The ticket, now used (locked, so two requests with one ticket cannot both pass)."""
    found = session.execute(
        select(TransferTicket)
        .where(TransferTicket.hash == _hash(token), TransferTicket.purpose.in_(purposes))
        .with_for_update()
    ).scalar_one_or_none()
    if found is None:
        raise TicketUnknown()
    if found.used_at is not None or found.expires_at <= datetime.now(UTC):
        raise TicketSpent()
    found.used_at = datetime.now(UTC)
    return found


def caller_of_ticket(ticket: TransferTicket) -> Caller:
    data: dict[str, Any] = ticket.caller
    return Caller.model_validate(data)
