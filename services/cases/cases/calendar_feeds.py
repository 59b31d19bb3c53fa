"""Each office's private calendar subscription: a secret URL listing its booked sessions.

The token is 256 random bits, shown once in the URL; only its SHA-256 is
stored, so the database cannot give a feed away. Creating a feed replaces the
office's earlier one; revoking ends it; an unknown or revoked token is
``not_found``.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases import calendar
from cases.models import now
from cases.planning import lock
from cases.planning_models import CalendarFeed
from cases.planning_views import booked_sessions
from shared.contracts import Caller
from shared.contracts.cases import CalendarFeedOut
from shared.errors import NotFound

TOKEN_BYTES = 32


class FeedNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("No such calendar subscription.")


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


def feed_url(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/api/v1/calendar/{token}.ics"


def _active(session: Session, office_id: Any) -> CalendarFeed | None:
    return session.scalar(
        select(CalendarFeed).where(
            CalendarFeed.office_id == office_id, CalendarFeed.revoked_at.is_(None)
        )
    )


def create_feed(session: Session, *, who: Caller, public_url: str) -> CalendarFeedOut:
    """A new subscription URL for the caller's office (any earlier one stops working)."""
    lock(session, f"calendar_feed:{who.office_id}")
    at = now()
    earlier = _active(session, who.office_id)
    if earlier is not None:
        earlier.revoked_at = at
        session.flush()
    token = secrets.token_urlsafe(TOKEN_BYTES)
    feed = CalendarFeed(
        office_id=who.office_id,
        token_sha256=_digest(token),
        created_at=at,
        created_by_user_id=who.user_id,
    )
    session.add(feed)
    session.flush()
    return CalendarFeedOut(url=feed_url(public_url, token), created_at=at, active=True)


def get_feed(session: Session, *, who: Caller) -> CalendarFeedOut:
    """The office's subscription (its URL is not shown again), else not_found."""
    feed = _active(session, who.office_id)
    if feed is None:
        raise FeedNotFound()
    return CalendarFeedOut(url=None, created_at=feed.created_at, active=True)


def revoke_feed(session: Session, *, who: Caller) -> None:
    """The office's subscription URL stops working (nothing to do when there is none)."""
    lock(session, f"calendar_feed:{who.office_id}")
    feed = _active(session, who.office_id)
    if feed is not None:
        feed.revoked_at = now()


def render_feed(session: Session, *, token: Any, public_url: str) -> str:
    """The calendar behind a subscription token: every booked session of its office."""
    if not isinstance(token, str) or not 20 <= len(token) <= 100:
        raise FeedNotFound()
    feed = session.scalar(
        select(CalendarFeed).where(
            CalendarFeed.token_sha256 == _digest(token), CalendarFeed.revoked_at.is_(None)
        )
    )
    if feed is None:
        raise FeedNotFound()
    sessions = booked_sessions(session, office_id=feed.office_id, public_url=public_url)
    return calendar.calendar(sessions, name="Bridgework planning sessions")
