"""Idempotency keys: a retried create call gets the first call's answer, not a second thing.

Each service keeps the keys in its own table (a model with ``office_id``,
``operation``, ``key`` as primary key and a JSON ``answer``)::

    once = Idempotency(IdempotencyKey).once
    answer = once(session, office_id=..., operation="create_referral", key=key,
                  model=ReferralDetail, make=lambda: ...)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from uuid import UUID

from pydantic import BaseModel
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from shared.validation import field_error

M = TypeVar("M", bound=BaseModel)

MAX_KEY_LENGTH = 200


class Idempotency:
    """Claims, remembers and replays answers in one service's idempotency-key table."""

    def __init__(self, table: Any) -> None:
        self.table = table

    def claim(
        self, session: Session, *, office_id: UUID, operation: str, key: str | None
    ) -> Any | None:
        """The stored answer for ``key``, or None after claiming the key for this call.

        The claim is a row inserted in this transaction: a concurrent retry with the
        same key waits on it, then finds the committed answer (or, if this call
        failed and rolled back, claims the key itself).
        """
        if key is None:
            return None
        if not key or len(key) > MAX_KEY_LENGTH:
            raise field_error("idempotency_key", f"Use 1 to {MAX_KEY_LENGTH} characters.")
        table = self.table
        inserted = session.execute(
            insert(table)
            .values(office_id=office_id, operation=operation, key=key)
            .on_conflict_do_nothing()
            .returning(table.key)
        ).first()
        if inserted is not None:
            return None
        return session.scalar(
            select(table.answer).where(
                table.office_id == office_id, table.operation == operation, table.key == key
            )
        )

    def remember(
        self, session: Session, *, office_id: UUID, operation: str, key: str | None, answer: Any
    ) -> None:
        """Store the answer a retry with ``key`` will get."""
        if key is None:
            return
        table = self.table
        session.execute(
            update(table)
            .where(table.office_id == office_id, table.operation == operation, table.key == key)
            .values(answer=answer)
        )

    def once(
        self,
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
        stored = self.claim(session, office_id=office_id, operation=operation, key=key)
        if stored is not None:
            return model.model_validate(stored)
        answer = make()
        self.remember(
            session,
            office_id=office_id,
            operation=operation,
            key=key,
            answer=stored_as(answer).model_dump(mode="json"),
        )
        return answer
