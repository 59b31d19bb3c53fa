"""Sending a referral and following it to the end, across offices with different notations."""

from __future__ import annotations

from typing import Any

from shared.contracts.referrals import ReferralDetail
from tests.support.infra import sql_rows, wait_for

from .support import Bridge, referral

APPOINTMENT = "2026-12-03T09:30:00-05:00"


def move(bridge: Bridge, who: Any, rid: str, stage: str, **extra: Any) -> dict[str, Any]:
    return bridge.change_stage(
        caller=who.caller, referral_id=rid, payload={"stage": stage, **extra}
    )


def test_send_to_the_end_across_notations(bridge: Bridge) -> None:
    sender = bridge.office(notation="universal")
    fdi = bridge.office(notation="fdi", procedures=("Implant consult",))
    palmer = bridge.office(notation="palmer")

    sent = bridge.create_referral(
        caller=sender.caller, payload=referral(sender, fdi), idempotency_key="k1"
    )
    ReferralDetail.model_validate(sent)
    assert sent["stage"] == "sent"
    assert sent["reference"].startswith("R-") and len(sent["reference"]) == 8
    assert sent["teeth"] == [{"iso": "16", "label": "3"}]
    assert sent["sender"]["office"]["name"] == sender.name
    assert sent["receiver"]["provider_id"] == fdi.providers[0]
    assert sent["procedures"][0]["name"] == "Implant consult"
    assert sent["patient"]["phones"] == ["+14165550199"]
    rid = sent["id"]

    seen = bridge.get_referral(caller=fdi.caller, referral_id=rid)
    assert seen["teeth"] == [{"iso": "16", "label": "16"}] and seen["notation"] == "fdi"
    assert seen["allowed_stages"] == ["accepted", "declined", "forwarded"]
    assert bridge.get_referral(caller=sender.caller, referral_id=rid)["allowed_stages"] == [
        "cancelled"
    ]
    move(bridge, fdi, rid, "accepted")
    move(bridge, fdi, rid, "contacted")
    booked = move(bridge, fdi, rid, "booked", appointment_at=APPOINTMENT)
    assert booked["appointment_at"] == "2026-12-03T14:30:00Z"
    # Once booked, the sender can no longer cancel.
    assert (
        bridge.error(
            "change_stage",
            caller=sender.caller,
            referral_id=rid,
            payload={"stage": "cancelled", "reason": "no"},
        ).remote_kind
        == "conflict"
    )
    move(bridge, fdi, rid, "completed")
    closed = move(bridge, fdi, rid, "closed")
    assert closed["stage"] == "closed" and closed["allowed_stages"] == []
    as_sender = bridge.get_referral(caller=sender.caller, referral_id=rid)
    stages = [(e["stage"], e["by_office_id"]) for e in as_sender["timeline"]]
    assert stages == [
        ("sent", sender.id),
        ("accepted", fdi.id),
        ("contacted", fdi.id),
        ("booked", fdi.id),
        ("completed", fdi.id),
        ("closed", fdi.id),
    ]
    assert all(e["by_user_id"] for e in as_sender["timeline"])
    assert as_sender["timeline"][3]["appointment_at"] == "2026-12-03T14:30:00Z"

    # The same tooth, sent to a Palmer office.
    to_palmer = bridge.create_referral(
        caller=sender.caller, payload=referral(sender, palmer, procedure_ids=[])
    )
    palmer_view = bridge.get_referral(caller=palmer.caller, referral_id=to_palmer["id"])
    assert palmer_view["teeth"] == [{"iso": "16", "label": "6\u23cc"}]

    sent_events = bridge.events("referral_sent", referral_id=rid)
    assert len(sent_events) == 1 and sent_events[0]["receiver_office_id"] == fdi.id
    changes = [e["stage"] for e in bridge.events("referral_stage_changed", referral_id=rid)]
    assert changes == ["accepted", "contacted", "booked", "completed", "closed"]
    assert "Maya" not in str(bridge.events("referral_sent"))

    # Identity heard referral_sent (outbox -> broker -> its handler): now colleagues.
    def colleagues() -> set[tuple[str, str]]:
        rows = sql_rows(
            bridge.identity_db,
            "SELECT colleague_office_id::text, relation FROM colleagues WHERE office_id = %s",
            sender.id,
        )
        return set(rows) if len(rows) == 2 else set()

    assert wait_for(colleagues, timeout=10) == {(fdi.id, "sent_work"), (palmer.id, "sent_work")}
