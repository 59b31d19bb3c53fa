"""Addressing a happening: e-mail to the right people and an entry in their feeds.

``Dispatch`` works inside one event consumer's transaction (``self.db``): the queued
mail and the feed rows commit with the event's claim, or not at all. Every message
and feed row has a key built from the event id and the recipient, so an event
handled twice (a crash between commit and ack) still sends once.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from nameko.exceptions import RemoteError as NamekoRemoteError
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from notifications import preferences
from notifications.mailer import Attachment, MailSettings, enqueue
from notifications.models import Notification
from notifications.rendering import Mail, render
from shared.contracts.identity import OfficeProfile, UserOut
from shared.contracts.notifications import Category
from shared.errors import RemoteError

log = logging.getLogger(__name__)


def remote_kind(exc: BaseException) -> str | None:
    """The error kind of another service's error reply (either client's form), else None."""
    if isinstance(exc, RemoteError):
        return exc.remote_kind
    if isinstance(exc, NamekoRemoteError):
        return {"NotFound": "not_found", "Conflict": "conflict", "Gone": "gone"}.get(
            str(exc.exc_type), "error"
        )
    return None


class Dispatch:
    """Sends one event's messages."""

    def __init__(
        self,
        session: Session,
        *,
        identity: Any,
        settings: MailSettings,
        event_id: UUID,
        occurred_at: datetime | None = None,
    ) -> None:
        self.session = session
        self.identity = identity
        self.settings = settings
        self.event_id = event_id
        self.occurred_at = occurred_at or datetime.now(UTC)
        self.sent: list[str] = []

    # ------------------------------------------------------------- directory

    def offices(self, *office_ids: UUID | None) -> dict[UUID, OfficeProfile]:
        ids = [str(i) for i in dict.fromkeys(office_ids) if i is not None]
        if not ids:
            return {}
        found = self.identity.get_office_profiles(office_ids=ids)
        profiles = [OfficeProfile.model_validate(p) for p in found]
        return {p.id: p for p in profiles}

    def members(self, office_id: UUID) -> list[UserOut]:
        return [
            UserOut.model_validate(u)
            for u in self.identity.list_office_members(office_id=str(office_id))
        ]

    def link(self, path: str) -> str:
        return f"{self.settings.public_url}{path}"

    # ------------------------------------------------------------- sending

    def to_address(
        self,
        address: str,
        mail: Mail,
        *,
        key: str,
        sender_name: str | None = None,
        reply_to: str | None = None,
        attachments: Sequence[Attachment] = (),
    ) -> bool:
        """One e-mail to an address (security mails, the office's account address)."""
        text, html = render(mail, sender_name=sender_name)
        queued = enqueue(
            self.session,
            dedupe_key=f"{self.event_id}:{key}",
            to=address,
            subject=mail.subject,
            text=text,
            html=html,
            sender_name=sender_name,
            reply_to=reply_to,
            attachments=attachments,
        )
        if queued:
            self.sent.append(key)
        return queued

    def to_office(
        self,
        office_id: UUID,
        mail: Mail,
        *,
        category: Category,
        kind: str,
        title: str,
        subject_type: str | None = None,
        subject_id: UUID | None = None,
        reference: str | None = None,
        sender_name: str | None = None,
        reply_to: str | None = None,
        attachments: Sequence[Attachment] = (),
        link: str | None = None,
    ) -> int:
        """A feed entry for every verified user of the office, and an e-mail to those who
        have not turned the category off; the number of e-mails queued."""
        members = self.members(office_id)
        wanted = preferences.wanted(self.session, [m.id for m in members], category)
        queued = 0
        for member in members:
            self.feed(
                member.id,
                office_id,
                kind=kind,
                title=title,
                subject_type=subject_type,
                subject_id=subject_id,
                reference=reference,
                link=link or mail.action_url,
            )
            if member.id not in wanted:
                continue
            queued += self.to_address(
                member.email,
                mail,
                key=f"user:{member.id}",
                sender_name=sender_name,
                reply_to=reply_to,
                attachments=attachments,
            )
        return queued

    def feed(
        self,
        user_id: UUID,
        office_id: UUID,
        *,
        kind: str,
        title: str,
        subject_type: str | None,
        subject_id: UUID | None,
        reference: str | None,
        link: str | None,
    ) -> None:
        self.session.execute(
            pg_insert(Notification.__table__)
            .values(
                id=uuid.uuid4(),
                dedupe_key=f"{self.event_id}:{user_id}",
                user_id=user_id,
                office_id=office_id,
                kind=kind,
                title=title[:300],
                subject_type=subject_type,
                subject_id=subject_id,
                reference=reference,
                link=link,
                created_at=self.occurred_at,
            )
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
        )


def office_name(profile: OfficeProfile | None, fallback: str = "Another office") -> str:
    return (profile.name if profile is not None else None) or fallback


def unique(values: Iterable[UUID | None]) -> list[UUID]:
    return [v for v in dict.fromkeys(values) if v is not None]
