"""Each user's e-mail preferences: per category, on unless turned off; security always on."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from notifications.models import Preference
from shared.contracts.notifications import Category, Preferences, PreferencesIn
from shared.validation import field_error


def wanted(session: Session, user_ids: Iterable[UUID], category: Category) -> set[UUID]:
    """The users among ``user_ids`` who receive e-mails of ``category``."""
    ids = set(user_ids)
    if category is Category.security or not ids:
        return ids
    off = session.execute(
        select(Preference.user_id).where(
            Preference.user_id.in_(ids),
            Preference.category == category.value,
            Preference.email.is_(False),
        )
    ).scalars()
    return ids - set(off)


def get(session: Session, *, user_id: UUID) -> Preferences:
    rows = session.execute(select(Preference).where(Preference.user_id == user_id)).scalars()
    choices = {row.category: row.email for row in rows if row.category in Category.__members__}
    choices[Category.security.value] = True
    return Preferences(**choices)


def update(session: Session, *, user_id: UUID, changes: PreferencesIn) -> Preferences:
    """Apply the given choices; turning security e-mails off is a 422 naming the field."""
    if changes.security is False:
        raise field_error("security", "Security e-mails cannot be turned off.")
    for category, enabled in changes.model_dump(exclude_none=True).items():
        if category == Category.security.value:
            continue
        statement = pg_insert(Preference.__table__).values(
            user_id=user_id, category=category, email=enabled, updated_at=datetime.now(UTC)
        )
        session.execute(
            statement.on_conflict_do_update(
                index_elements=["user_id", "category"],
                set_={
                    "email": statement.excluded.email,
                    "updated_at": statement.excluded.updated_at,
                },
            )
        )
    return get(session, user_id=user_id)
