"""Notes with each office's read state; lists with filters, sorting and pages; the slip."""

from __future__ import annotations

import base64

from .support import Bridge, Office, referral


def unread(bridge: Bridge, office: Office, box: str) -> int:
    return bridge.list_referrals(caller=office.caller, query={"box": box})["items"][0]["new_notes"]


def test_notes_are_new_to_the_other_office_until_read(bridge: Bridge) -> None:
    sender, receiver = bridge.office(), bridge.office()
    rid = bridge.create_referral(caller=sender.caller, payload=referral(sender, receiver))["id"]
    first = bridge.add_note(
        caller=sender.caller, referral_id=rid, payload={"body": "X-ray attached."}
    )
    assert first["author_name"] == f"Staff of {sender.name}" and first["new"] is False
    retry = bridge.add_note(
        caller=receiver.caller, referral_id=rid, payload={"body": "Thanks"}, idempotency_key="n"
    )
    again = bridge.add_note(
        caller=receiver.caller, referral_id=rid, payload={"body": "Thanks"}, idempotency_key="n"
    )
    assert retry["id"] == again["id"]
    bridge.add_note(caller=sender.caller, referral_id=rid, payload={"body": "Any news?"})
    assert unread(bridge, receiver, "received") == 2
    assert unread(bridge, sender, "sent") == 1
    notes = bridge.list_notes(caller=receiver.caller, referral_id=rid)
    assert [(n["body"], n["new"]) for n in notes] == [
        ("X-ray attached.", True),
        ("Thanks", False),
        ("Any news?", True),
    ]
    dashboard = bridge.get_dashboard(caller=receiver.caller)["received"]
    assert dashboard == {"by_stage": {"sent": 1}, "needs_attention": 1, "unread_notes": 2}
    bridge.mark_notes_read(caller=receiver.caller, referral_id=rid)
    assert unread(bridge, receiver, "received") == 0
    assert unread(bridge, sender, "sent") == 1
    assert bridge.get_dashboard(caller=receiver.caller)["received"]["unread_notes"] == 0
    assert len(bridge.events("referral_note_added", referral_id=rid)) == 3


def test_lists_filter_sort_and_page_500_referrals(bridge: Bridge) -> None:
    sender, receiver = bridge.office(), bridge.office(procedures=("Implant", "Graft"))
    implant, graft = receiver.procedures
    template = bridge.create_referral(caller=sender.caller, payload=referral(sender, receiver))
    bridge.sql(
        """
        INSERT INTO referrals (id, reference, stage, urgency, sender_office_id,
            receiver_office_id, sender_office_name, receiver_office_name, sender_snapshot,
            receiver_snapshot, patient, patient_name, procedure_ids, procedure_names, teeth,
            created_at, sent_at, updated_at)
        SELECT gen_random_uuid(), 'R-T' || lpad(i::text, 5, '0'),
            (ARRAY['sent', 'accepted', 'closed', 'declined'])[1 + i %% 4],
            (ARRAY['routine', 'soon', 'urgent'])[1 + i %% 3],
            sender_office_id, receiver_office_id, sender_office_name, receiver_office_name,
            sender_snapshot, receiver_snapshot, '{}'::jsonb,
            'Patient ' || lpad(i::text, 3, '0') || CASE WHEN i %% 50 = 0 THEN ' Okafor' ELSE '' END,
            CASE WHEN i %% 2 = 0 THEN ARRAY[%s::uuid] ELSE ARRAY[%s::uuid] END,
            ARRAY['x'], '{}', now(), TIMESTAMPTZ '2026-01-01 12:00Z' + i * INTERVAL '12 hours',
            now()
        FROM referrals, generate_series(1, 499) AS i
        """,
        implant,
        graft,
    )
    query = {"box": "received", "page_size": 100}
    page = bridge.list_referrals(caller=receiver.caller, query=query)
    assert page["total"] == 500 and len(page["items"]) == 100
    assert page["items"][0]["id"] == template["id"]  # sent today: the newest
    assert page["items"][1]["reference"] == "R-T00499"
    last = bridge.list_referrals(caller=receiver.caller, query={**query, "page": 5})
    assert len(last["items"]) == 100 and last["items"][-1]["reference"] == "R-T00001"
    by_name = bridge.list_referrals(
        caller=receiver.caller, query={"box": "received", "sort": "patient_name", "page_size": 2}
    )
    assert [i["patient_name"] for i in by_name["items"]] == ["Maya Chen", "Patient 001"]
    found = bridge.list_referrals(caller=receiver.caller, query={"box": "received", "q": "okaf"})
    assert found["total"] == 9
    by_ref = bridge.list_referrals(
        caller=receiver.caller, query={"box": "received", "q": "r-t0049"}
    )
    assert by_ref["total"] == 10
    filtered = bridge.list_referrals(
        caller=receiver.caller,
        query={
            "box": "received",
            "stage": ["closed", "declined"],
            "procedure_id": graft,
            "other_office_id": sender.id,
            "sent_from": "2026-01-02",
            "sent_to": "2026-01-31",
            "sort": "-urgency",
        },
    )
    # Jan 2-31 is i = 1..60; graft is odd i, so of closed (i % 4 == 2) and declined only declined
    assert filtered["total"] == len([i for i in range(1, 61) if i % 2 and i % 4 == 3])
    assert all(i["stage"] == "declined" for i in filtered["items"])
    dashboard = bridge.get_dashboard(caller=receiver.caller)["received"]
    assert sum(dashboard["by_stage"].values()) == 500
    assert dashboard["needs_attention"] == dashboard["by_stage"]["sent"]
    assert bridge.list_referrals(caller=sender.caller, query={"box": "received"})["total"] == 0


def test_the_slip_prints_for_both_offices(bridge: Bridge) -> None:
    sender, receiver = bridge.office(), bridge.office(notation="fdi")
    rid = bridge.create_referral(caller=sender.caller, payload=referral(sender, receiver))["id"]
    slip = bridge.render_pdf(caller=receiver.caller, referral_id=rid)
    assert slip["filename"].startswith("R-") and slip["filename"].endswith(".pdf")
    assert base64.b64decode(slip["content_base64"]).startswith(b"%PDF")
