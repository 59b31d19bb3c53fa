"""Each user's in-app feed: newest first, an unread count, mark one or all read."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from notifications.models import Notification
from shared.contracts.notifications import FeedQuery, MarkedRead, NotificationOut, NotificationPage
from shared.errors import NotFound


def _out(row: Notification) -> NotificationOut:
    return NotificationOut(
        id=row.id,
        kind=row.kind,
        title=row.title,
        subject_type=row.subject_type,
        subject_id=row.subject_id,
        reference=row.reference,
        link=row.link,
        created_at=row.created_at,
        read=row.read_at is not None,
        read_at=row.read_at,
    )


def unread_count(session: Session, *, user_id: UUID) -> int:
    return int(
        session.execute(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        ).scalar_one()
    )


def page(session: Session, *, user_id: UUID, query: FeedQuery) -> NotificationPage:
    where = [Notification.user_id == user_id]
    if query.unread_only:
        where.append(Notification.read_at.is_(None))
    total = session.execute(select(func.count()).select_from(Notification).where(*where))
    rows = session.execute(
        select(Notification)
        .where(*where)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .offset((query.page - 1) * query.page_size)
        .limit(query.page_size)
    ).scalars()
    return NotificationPage(
        items=[_out(row) for row in rows],
        total=int(total.scalar_one()),
        page=query.page,
        page_size=query.page_size,
        unread_count=unread_count(session, user_id=user_id),
    )


def mark_read(session: Session, *, user_id: UUID, notification_id: UUID) -> NotificationOut:
    """Mark one of the user's notifications read; another user's is not_found."""
    row = session.execute(
        select(Notification)
        .where(Notification.id == notification_id, Notification.user_id == user_id)
        .with_for_update()
    ).scalar_one_or_none()
    if row is None:
        raise NotFound("No such notification.")
    if row.read_at is None:
        row.read_at = datetime.now(UTC)
    return _out(row)


def mark_all_read(session: Session, *, user_id: UUID) -> MarkedRead:
    result = session.execute(
        update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=datetime.now(UTC))
    )
    return MarkedRead(marked=result.rowcount or 0, unread_count=0)
