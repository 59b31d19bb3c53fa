"""Idempotency keys: a retried create call gets the first call's answer, not a second thing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from uuid import UUID

from pydantic import BaseModel
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from referrals.models import IdempotencyKey
from referrals.validation import field_error

M = TypeVar("M", bound=BaseModel)

MAX_KEY_LENGTH = 200


def claim(session: Session, *, office_id: UUID, operation: str, key: str | None) -> Any | None:
    """The stored answer for ``key``, or None after claiming the key for this call.

    The claim is a row inserted in this transaction: a concurrent retry with the
    same key waits on it, then finds the committed answer (or, if this call
    failed and rolled back, claims the key itself).
    """
    if key is None:
        return None
    if not key or len(key) > MAX_KEY_LENGTH:
        raise field_error("idempotency_key", f"Use 1 to {MAX_KEY_LENGTH} characters.")
    inserted = session.execute(
        insert(IdempotencyKey)
        .values(office_id=office_id, operation=operation, key=key)
        .on_conflict_do_nothing()
        .returning(IdempotencyKey.key)
    ).first()
    if inserted is not None:
        return None
    return session.scalar(
        select(IdempotencyKey.answer).where(
            IdempotencyKey.office_id == office_id,
            IdempotencyKey.operation == operation,
            IdempotencyKey.key == key,
        )
    )


def remember(
    session: Session, *, office_id: UUID, operation: str, key: str | None, answer: Any
) -> None:
    """Store the answer a retry with ``key`` will get."""
    if key is None:
        return
    session.execute(
        update(IdempotencyKey)
        .where(
            IdempotencyKey.office_id == office_id,
            IdempotencyKey.operation == operation,
            IdempotencyKey.key == key,
        )
        .values(answer=answer)
    )


def once(
    session: Session,
    *,
    office_id: UUID,
    operation: str,
    key: str | None,
    model: type[M],
    make: Callable[[], M],
    stored_as: Callable[[M], M] = lambda answer: answer,
) -> M:
    """``make()``'s answer, or the answer of the first call made with ``key``.

    ``stored_as`` shapes what a retry sees (an API client's secret is shown once).
    """
    stored = claim(session, office_id=office_id, operation=operation, key=key)
    if stored is not None:
        return model.model_validate(stored)
    answer = make()
    remember(
        session,
        office_id=office_id,
        operation=operation,
        key=key,
        answer=stored_as(answer).model_dump(mode="json"),
    )
    return answer
