"""The ids of a referral's files: the files service owns the files, and says when one arrives."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from referrals.models import Referral, ReferralFile


def attach(session: Session, *, referral_id: uuid.UUID, file_id: uuid.UUID, at: datetime) -> None:
    """Note that ``file_id`` belongs to the referral (once; an unknown referral is skipped)."""
    if session.get(Referral, referral_id) is None:
        return
    session.execute(
        insert(ReferralFile)
        .values(referral_id=referral_id, file_id=file_id, attached_at=at)
        .on_conflict_do_nothing()
    )


def file_ids(session: Session, *, referral_id: uuid.UUID) -> list[uuid.UUID]:
    """The referral's files, oldest first."""
    return list(
        session.scalars(
            select(ReferralFile.file_id)
            .where(ReferralFile.referral_id == referral_id)
            .order_by(ReferralFile.attached_at, ReferralFile.file_id)
        )
    )
