"""The planning-session entrypoints of the cases service (slots, bookings, calendar files).

A mixin of ``cases.service.CasesService``: nameko finds entrypoints on base
classes too. It uses the service's ``db``, ``settings`` (``public_url``) and
``directory`` (office profiles from identity).
"""

from __future__ import annotations

from typing import Any

from cases import calendar_feeds, planning, planning_views, views
from cases.access import caller_of
from cases.models import IdempotencyKey
from shared.contracts.cases import (
    BookingCancelIn,
    BookingIn,
    RescheduleIn,
    SlotIn,
    SlotOut,
    SlotQuery,
)
from shared.contracts.identity import OfficeKind
from shared.entrypoints import rpc
from shared.errors import PermissionDenied
from shared.idempotency import Idempotency
from shared.validation import dump, parse

Json = Any
_keys = Idempotency(IdempotencyKey)


class PlanningRpc:
    """Slots, bookings and calendar export (see the README's "Planning sessions")."""

    db: Any
    settings: Any
    directory: Any

    def _planning_detail(self, who: Any, case: Any) -> Json:
        return dump(views.detail(self.db, case, who=who, directory=self.directory))

    # ------------------------------------------------------------- slots (the lab)

    @rpc
    def publish_slots(
        self, caller: Json, payload: Json, idempotency_key: str | None = None
    ) -> Json:
        """The caller's lab offers a slot, or a weekly pattern of them."""
        who, cmd = caller_of(caller), parse(SlotIn, payload)
        office = self.directory.profile(who.office_id)
        if office is None or office.kind != OfficeKind.lab:
            raise PermissionDenied("Only a lab publishes planning slots.")
        common = {"office_id": who.office_id, "operation": "publish_slots", "key": idempotency_key}
        stored = _keys.claim(self.db, **common)
        if stored is not None:
            return stored
        answer = dump(planning.publish_slots(self.db, who=who, cmd=cmd))
        _keys.remember(self.db, **common, answer=answer)
        return answer

    @rpc
    def list_slots(self, caller: Json, query: Json) -> Json:
        """A lab's free slots in the window, in the viewer's zone (the lab sees booked ones too)."""
        who, parsed = caller_of(caller), parse(SlotQuery, query, field="query")
        zone = parsed.time_zone or self.directory.time_zone(who.office_id)
        slots: list[SlotOut] = planning.list_slots(self.db, who=who, query=parsed, zone=zone)
        return dump(slots)

    @rpc
    def delete_slot(self, caller: Json, slot_id: str) -> None:
        """Withdraw one of the caller's lab's free slots."""
        planning.delete_slot(self.db, who=caller_of(caller), slot_id=slot_id)

    # ------------------------------------------------------------- bookings

    @rpc
    def book_slot(self, caller: Json, case_id: str, payload: Json) -> Json:
        """The client books a planning session for the case."""
        who, cmd = caller_of(caller), parse(BookingIn, payload)
        booking = planning.book_slot(self.db, who=who, case_id=case_id, cmd=cmd)
        return self._booking(who, booking.case_id)

    @rpc
    def get_booking(self, caller: Json, case_id: str) -> Json:
        """The case's booked session."""
        who = caller_of(caller)
        url = self.settings.public_url
        return dump(planning_views.get_booking(self.db, who=who, case_id=case_id, public_url=url))

    @rpc
    def reschedule_booking(self, caller: Json, case_id: str, payload: Json) -> Json:
        """The lab moves the session to another of its free slots."""
        who, cmd = caller_of(caller), parse(RescheduleIn, payload)
        booking = planning.reschedule_booking(self.db, who=who, case_id=case_id, cmd=cmd)
        return self._booking(who, booking.case_id)

    @rpc
    def cancel_booking(self, caller: Json, case_id: str, payload: Json = None) -> Json:
        """The lab cancels the session: the case is Ready to Plan again."""
        who, cmd = caller_of(caller), parse(BookingCancelIn, payload)
        case = planning.cancel_booking(self.db, who=who, case_id=case_id, cmd=cmd)
        return self._planning_detail(who, case)

    @rpc
    def mark_no_show(self, caller: Json, case_id: str) -> Json:
        """The client missed the session: the case is Planning No Show."""
        who = caller_of(caller)
        case = planning.mark_no_show(self.db, who=who, case_id=case_id)
        return self._planning_detail(who, case)

    def _booking(self, who: Any, case_id: Any) -> Json:
        url = self.settings.public_url
        return dump(planning_views.get_booking(self.db, who=who, case_id=case_id, public_url=url))

    # ------------------------------------------------------------- calendar files

    @rpc
    def render_booking_ics(self, caller: Json, case_id: str) -> Json:
        """The booked session as an .ics file (no patient data)."""
        who, url = caller_of(caller), self.settings.public_url
        return planning_views.render_booking_ics(self.db, who=who, case_id=case_id, public_url=url)

    @rpc
    def create_calendar_feed(self, caller: Json) -> Json:
        """A private subscription URL for the office's sessions (shown once)."""
        who, url = caller_of(caller), self.settings.public_url
        return dump(calendar_feeds.create_feed(self.db, who=who, public_url=url))

    @rpc
    def get_calendar_feed(self, caller: Json) -> Json:
        """Whether the office has a subscription, and since when."""
        return dump(calendar_feeds.get_feed(self.db, who=caller_of(caller)))

    @rpc
    def revoke_calendar_feed(self, caller: Json) -> None:
        """The office's subscription URL stops working."""
        calendar_feeds.revoke_feed(self.db, who=caller_of(caller))

    @rpc
    def render_calendar_feed(self, token: str) -> Json:
        """The calendar behind a subscription URL (the token is the secret; no caller)."""
        url = self.settings.public_url
        return {"content": calendar_feeds.render_feed(self.db, token=token, public_url=url)}
