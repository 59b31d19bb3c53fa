"""Declining, forwarding, cancelling, and the moves the stage machine refuses."""

from __future__ import annotations

from .support import Bridge, referral


def test_decline_needs_a_reason_and_shows_in_the_senders_attention(bridge: Bridge) -> None:
    sender, receiver = bridge.office(), bridge.office()
    rid = bridge.create_referral(caller=sender.caller, payload=referral(sender, receiver))["id"]
    missing = bridge.error(
        "change_stage", caller=receiver.caller, referral_id=rid, payload={"stage": "declined"}
    )
    assert missing.remote_kind == "invalid" and missing.details[0]["field"] == "reason"
    declined = bridge.change_stage(
        caller=receiver.caller,
        referral_id=rid,
        payload={"stage": "declined", "reason": "We do not treat children."},
    )
    assert declined["timeline"][-1]["reason"] == "We do not treat children."
    page = bridge.list_referrals(caller=sender.caller, query={"box": "sent"})
    assert page["items"][0]["needs_attention"] is True
    assert bridge.get_dashboard(caller=sender.caller)["sent"]["needs_attention"] == 1


def test_forward_makes_a_new_referral_from_the_same_sender(bridge: Bridge) -> None:
    sender, first, second = bridge.office(), bridge.office(), bridge.office(notation="fdi")
    rid = bridge.create_referral(caller=sender.caller, payload=referral(sender, first))["id"]
    to_self = bridge.error(
        "change_stage",
        caller=first.caller,
        referral_id=rid,
        payload={"stage": "forwarded", "forward_to_office_id": sender.id},
    )
    assert to_self.remote_kind == "invalid"
    assert to_self.details[0]["field"] == "forward_to_office_id"
    old = bridge.change_stage(
        caller=first.caller,
        referral_id=rid,
        payload={"stage": "forwarded", "forward_to_office_id": second.id},
    )
    assert old["stage"] == "forwarded"
    new_id = old["timeline"][-1]["forwarded_to"]
    new = bridge.get_referral(caller=second.caller, referral_id=new_id)
    assert new["stage"] == "sent" and new["forwarded_from_id"] == rid
    assert new["sender"]["office"]["id"] == sender.id
    assert new["receiver"]["office"]["id"] == second.id
    assert new["teeth"] == [{"iso": "16", "label": "16"}]
    assert new["reference"] != old["reference"]
    # The sender follows the new one; the new receiver cannot see the old one.
    sent = bridge.list_referrals(caller=sender.caller, query={"box": "sent"})
    assert {item["id"] for item in sent["items"]} == {rid, new_id}
    assert bridge.error("get_referral", caller=second.caller, referral_id=rid).remote_kind == (
        "not_found"
    )
    assert bridge.events("referral_sent", referral_id=new_id)[0]["forwarded_from_id"] == rid


def test_illegal_moves_are_409_naming_the_stage(bridge: Bridge) -> None:
    sender, receiver = bridge.office(), bridge.office()
    rid = bridge.create_referral(caller=sender.caller, payload=referral(sender, receiver))["id"]
    early = bridge.error(
        "change_stage", caller=receiver.caller, referral_id=rid, payload={"stage": "completed"}
    )
    assert early.remote_kind == "conflict" and "sent" in early.message
    assert early.details == {"stage": "sent", "requested": "moved to completed"}
    not_theirs = bridge.error(
        "change_stage", caller=sender.caller, referral_id=rid, payload={"stage": "accepted"}
    )
    assert not_theirs.remote_kind == "forbidden"
    no_time = bridge.error(
        "change_stage", caller=receiver.caller, referral_id=rid, payload={"stage": "booked"}
    )
    assert no_time.remote_kind == "conflict"
    cancelled = bridge.change_stage(
        caller=sender.caller,
        referral_id=rid,
        payload={"stage": "cancelled", "reason": "Patient moved away."},
    )
    assert cancelled["stage"] == "cancelled"
    after = bridge.error(
        "change_stage", caller=receiver.caller, referral_id=rid, payload={"stage": "accepted"}
    )
    assert after.remote_kind == "conflict" and "cancelled" in after.message
    note = bridge.error(
        "add_note", caller=receiver.caller, referral_id=rid, payload={"body": "Hello?"}
    )
    assert note.remote_kind == "conflict" and "cancelled" in note.message
    assert bridge.events("referral_cancelled", referral_id=rid)[0]["by_user_id"] == (sender.user_id)
    assert bridge.check_access(caller=receiver.caller, referral_id=rid) == {
        "may_view": True,
        "may_add": False,
        "office_ids": [sender.id, receiver.id],
    }
