"""The in-app feed and the e-mail preferences over RPC, as the gateway calls them."""

from __future__ import annotations

import uuid

from shared.contracts.referrals import ReferralSent, Urgency
from tests.support.infra import wait_for

from .conftest import Notifier


def send_referrals(notifier: Notifier, count: int) -> tuple[object, object]:
    world = notifier.world
    sender = world.office("Bright Smiles", "gp@brightsmiles.example")
    receiver = world.office("Peak Surgery", "ana@peak.example", "ben@peak.example")
    envelopes = [
        notifier.publish(
            "referrals",
            ReferralSent(
                referral_id=uuid.uuid4(),
                reference=f"R-FEED{n:02d}",
                sender_office_id=sender.id,
                receiver_office_id=receiver.id,
                sent_by=None,
                urgency=Urgency.routine,
            ),
        )
        for n in range(count)
    ]
    for envelope in envelopes:
        notifier.handled(envelope)
    return sender, receiver


def test_feed_pages_counts_and_marks_read(notifier: Notifier) -> None:
    _sender, receiver = send_referrals(notifier, 3)
    ana, ben = receiver.user_ids  # type: ignore[attr-defined]
    caller = {"office_id": str(receiver.id), "user_id": str(ana)}  # type: ignore[attr-defined]
    other = {"office_id": str(receiver.id), "user_id": str(ben)}  # type: ignore[attr-defined]

    page = notifier.rpc.list_notifications(caller=caller, query={"page_size": 2})
    assert (page["total"], page["unread_count"], len(page["items"])) == (3, 3, 2)
    assert [i["reference"] for i in page["items"]] == ["R-FEED02", "R-FEED01"]  # newest first
    second = notifier.rpc.list_notifications(caller=caller, query={"page": 2, "page_size": 2})
    assert [i["reference"] for i in second["items"]] == ["R-FEED00"]

    first = page["items"][0]
    marked = notifier.rpc.mark_read(caller=caller, notification_id=first["id"])
    assert marked["read"] is True and marked["read_at"] is not None
    unread = notifier.rpc.list_notifications(caller=caller, query={"unread_only": True})
    assert unread["unread_count"] == 2
    assert first["id"] not in [i["id"] for i in unread["items"]]

    # Ben's feed is his own: Ana's notification is not his to mark.
    error = notifier.error("mark_read", caller=other, notification_id=first["id"])
    assert error.remote_kind == "not_found"
    assert notifier.rpc.list_notifications(caller=other)["unread_count"] == 3

    assert notifier.rpc.mark_all_read(caller=caller) == {"marked": 2, "unread_count": 0}
    assert notifier.rpc.list_notifications(caller=caller)["unread_count"] == 0
    assert notifier.rpc.list_notifications(caller=other)["unread_count"] == 3


def test_feed_input_errors_name_the_field(notifier: Notifier) -> None:
    caller = {"office_id": str(uuid.uuid4()), "user_id": str(uuid.uuid4())}
    error = notifier.error("list_notifications", caller=caller, query={"page": 0})
    assert (error.remote_kind, [d["field"] for d in error.details]) == ("invalid", ["page"])
    error = notifier.error("mark_read", caller=caller, notification_id="nope")
    assert (error.remote_kind, error.details[0]["field"]) == ("invalid", "notification_id")
    error = notifier.error("mark_read", caller=caller, notification_id=str(uuid.uuid4()))
    assert error.remote_kind == "not_found"
    client = {"office_id": str(uuid.uuid4()), "client_id": str(uuid.uuid4())}
    assert notifier.error("list_notifications", caller=client).remote_kind == "forbidden"


def test_preferences_default_on_change_per_user_and_refuse_security_off(
    notifier: Notifier,
) -> None:
    office = str(uuid.uuid4())
    me = {"office_id": office, "user_id": str(uuid.uuid4())}
    colleague = {"office_id": office, "user_id": str(uuid.uuid4())}
    everything = {
        "security": True,
        "referrals": True,
        "notes": True,
        "files": True,
        "cases": True,
        "patient_messages": True,
    }
    assert notifier.rpc.get_preferences(caller=me) == everything

    changed = notifier.rpc.update_preferences(caller=me, payload={"files": False, "notes": False})
    assert changed == {**everything, "files": False, "notes": False}
    again = notifier.rpc.update_preferences(caller=me, payload={"notes": True, "security": True})
    assert again == {**everything, "files": False}
    assert notifier.rpc.get_preferences(caller=me) == again
    assert notifier.rpc.get_preferences(caller=colleague) == everything

    error = notifier.error("update_preferences", caller=me, payload={"security": False})
    assert (error.remote_kind, [d["field"] for d in error.details]) == ("invalid", ["security"])
    error = notifier.error("update_preferences", caller=me, payload={"sms": False})
    assert (error.remote_kind, [d["field"] for d in error.details]) == ("invalid", ["sms"])
    assert notifier.rpc.get_preferences(caller=me) == again


def test_operators_list_mail_by_status(notifier: Notifier) -> None:
    send_referrals(notifier, 1)
    notifier.smtp.wait_for(2)  # type: ignore[union-attr]
    sent = wait_for(lambda: notifier.rpc.list_mail(status="sent"), timeout=10, what="sent mail")
    assert len(sent) == 2
    assert set(sent[0]) == {
        "id",
        "dedupe_key",
        "status",
        "attempts",
        "last_error",
        "created_at",
        "next_attempt_at",
        "sent_at",
        "failed_at",
    }
    error = notifier.error("list_mail", status="lost")
    assert (error.remote_kind, error.details[0]["field"]) == ("invalid", "status")
