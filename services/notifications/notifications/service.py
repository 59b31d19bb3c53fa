"""The notifications service's entrypoints: each validates, calls the domain and serialises.

Event consumers (e-mail and feed entries for what happened elsewhere) are in
``notifications.consumers``; Patient Talk in ``notifications.patient_talk_service``;
the mail queue and its sender in ``notifications.mailer``.
"""

from __future__ import annotations

from typing import Any

from nameko.rpc import RpcProxy
from sqlalchemy import select

from notifications import __version__, feed, preferences
from notifications.consumers import EventConsumers
from notifications.mailer import MailSender, MailSettings
from notifications.models import OutgoingMail
from notifications.patient_talk_service import PatientTalkRpc
from shared.contracts.common import Caller
from shared.contracts.notifications import FeedQuery, MailOut, PreferencesIn
from shared.entrypoints import rpc
from shared.errors import PermissionDenied
from shared.service import ServiceBase
from shared.validation import dump, field_error, parse, parse_id

Json = Any

MAIL_STATUSES = ("queued", "sent", "failed")


def _user(caller: Json) -> tuple[Caller, Any]:
    """The caller and their user id (the feed and preferences belong to a person)."""
    who = parse(Caller, caller, field="caller")
    if who.user_id is None:
        raise PermissionDenied("Notifications belong to a user; API clients have none.")
    return who, who.user_id


class NotificationsService(EventConsumers, PatientTalkRpc, ServiceBase):
    """Outgoing e-mail and text messages, in-app feeds and preferences, and patient threads."""

    name = "notifications"
    version = __version__

    identity_rpc = RpcProxy("identity")
    referrals_rpc = RpcProxy("referrals")
    cases_rpc = RpcProxy("cases")
    mail_settings: MailSettings = MailSender()  # type: ignore[assignment]

    # ------------------------------------------------------------- the feed

    @rpc
    def list_notifications(self, caller: Json, query: Json = None) -> Json:
        """The caller's feed, newest first, with the unread count."""
        _who, user_id = _user(caller)
        return dump(feed.page(self.db, user_id=user_id, query=parse(FeedQuery, query)))

    @rpc
    def mark_read(self, caller: Json, notification_id: str) -> Json:
        """Mark one of the caller's notifications read (someone else's: not_found)."""
        _who, user_id = _user(caller)
        notification = parse_id(notification_id, field="notification_id")
        return dump(feed.mark_read(self.db, user_id=user_id, notification_id=notification))

    @rpc
    def mark_all_read(self, caller: Json) -> Json:
        """Mark every notification of the caller read."""
        _who, user_id = _user(caller)
        return dump(feed.mark_all_read(self.db, user_id=user_id))

    # ------------------------------------------------------------- preferences

    @rpc
    def get_preferences(self, caller: Json) -> Json:
        """Which e-mails the caller receives, per category."""
        _who, user_id = _user(caller)
        return dump(preferences.get(self.db, user_id=user_id))

    @rpc
    def update_preferences(self, caller: Json, payload: Json) -> Json:
        """Turn categories of e-mail on or off; ``security`` cannot be turned off (invalid)."""
        _who, user_id = _user(caller)
        changes = parse(PreferencesIn, payload)
        return dump(preferences.update(self.db, user_id=user_id, changes=changes))

    # ------------------------------------------------------------- operators

    @rpc
    def list_mail(self, status: str = "failed", limit: int = 100) -> Json:
        """Queued, sent or failed e-mails without their content, newest first (operators)."""
        if status not in MAIL_STATUSES:
            raise field_error("status", f"One of {', '.join(MAIL_STATUSES)}.")
        if not isinstance(limit, int) or not 1 <= limit <= 1000:
            raise field_error("limit", "A number from 1 to 1000.")
        rows = self.db.execute(
            select(OutgoingMail)
            .where(OutgoingMail.status == status)
            .order_by(OutgoingMail.created_at.desc())
            .limit(limit)
        ).scalars()
        return dump([MailOut.model_validate(row) for row in rows])
