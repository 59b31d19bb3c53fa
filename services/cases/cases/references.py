"""Case IDs: ``C-<year>-<n>``, a per-year counter, at least five digits (``C-2026-00042``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from cases.models import CaseCounter


def new_reference(session: Session, *, at: datetime) -> str:
    """The next case ID of ``at``'s year (UTC).

    The upsert takes the year's counter row and keeps it locked until the
    transaction ends, so concurrent creations queue on it and never share a
    number; a rolled-back creation gives its number back.
    """
    year = at.year
    statement = (
        insert(CaseCounter)
        .values(year=year, last_number=1)
        .on_conflict_do_update(
            index_elements=[CaseCounter.year], set_={"last_number": CaseCounter.last_number + 1}
        )
        .returning(CaseCounter.last_number)
    )
    number = session.execute(statement).scalar_one()
    return f"C-{year}-{number:05d}"
