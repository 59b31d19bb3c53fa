"""A case from creation to Shipped: files arriving, the lab's stages, dates, colours and events."""

from __future__ import annotations

import re

from shared.contracts.cases import CaseCreated, CaseDetail
from tests.support.infra import wait_for

from .dates import today, window
from .support import Bridge, case_in


def test_the_life_of_a_case_from_creation_to_shipped(bridge: Bridge) -> None:
    client = bridge.office(notation="universal")
    lab = bridge.lab(notation="fdi", name="Acme Dental Lab")

    created = bridge.create_case(
        caller=client.caller, payload=case_in(lab, due_date="2099-01-15"), idempotency_key="k1"
    )
    CaseCreated.model_validate(created)
    case = created["case"]
    case_id = case["id"]
    assert re.fullmatch(rf"C-{today().year}-\d{{5,}}", case["reference"])
    assert created["confirmation"] == f"Case {case['reference']} was sent to Acme Dental Lab."
    assert created["rx_pdf_path"] == f"/api/v1/cases/{case_id}/rx.pdf"
    assert case["url"] == f"https://bridgework.test/cases/{case_id}"
    assert (case["stage"], case["stage_label"], case["colour"]) == (
        "missing_files",
        "Missing CBCT/Models",
        "red",
    )
    assert case["ship"] == {"earliest": None, "latest": None}
    assert case["teeth"] == [{"iso": "36", "label": "19"}, {"iso": "46", "label": "30"}]
    assert case["side"] == "client" and case["editable"] and case["allowed_stages"] == []
    assert case["client"]["name"] == client.name and case["lab"]["name"] == lab.name
    created_at, last_modified = case["created_at"], case["last_modified_at"]

    as_lab = bridge.get_case(caller=lab.caller, case_id=case_id)
    CaseDetail.model_validate(as_lab)
    assert as_lab["teeth"] == [{"iso": "36", "label": "36"}, {"iso": "46", "label": "46"}]
    assert as_lab["side"] == "lab" and not as_lab["editable"]
    assert as_lab["allowed_stages"] == ["processing", "cancelled", "on_hold"]

    # The CBCT arrives (the files service announces it twice): Processing, by the uploader.
    file_id = bridge.upload(case_id, client, deliveries=2)

    def processing() -> dict | None:
        seen = bridge.get_case(caller=client.caller, case_id=case_id)
        return seen if seen["stage"] == "processing" else None

    seen = wait_for(processing, timeout=10, what="the upload to move the case")
    assert seen["file_ids"] == [file_id]
    assert seen["colour"] == "yellow"
    assert seen["ship"] == window(8, 14)
    assert seen["history"][-1]["previous_stage"] == "missing_files"
    assert seen["history"][-1]["by_office_id"] == client.id
    assert seen["history"][-1]["by_user_id"] == client.user_id

    expected = {
        "received": ("yellow", window(7, 12)),
        "ready_to_plan": ("red", window(6, 10)),
        "manufacturing": ("white", window(2, 7)),
        "finished": ("white", window(0, 1)),
    }
    for stage, (colour, ship) in expected.items():
        moved = bridge.move(lab, case_id, stage)
        assert (moved["stage"], moved["colour"], moved["ship"]) == (stage, colour, ship)
        # Last Modified is the client's: the lab's moves never change it.
        assert moved["last_modified_at"] == last_modified

    shipped = bridge.move(
        lab,
        case_id,
        "shipped",
        carrier="UPS",
        tracking_number="1Z999AA1",
        tracking_url="https://ups.example.com/track/1Z999AA1",
    )
    assert shipped["stage"] == "shipped" and shipped["colour"] == "white"
    assert shipped["shipment"]["carrier"] == "UPS"
    assert shipped["shipment"]["tracking_number"] == "1Z999AA1"
    assert shipped["shipment"]["tracking_url"] == "https://ups.example.com/track/1Z999AA1"
    assert shipped["ship"] == {"earliest": today().isoformat(), "latest": today().isoformat()}
    assert shipped["allowed_stages"] == []
    final = bridge.get_case(caller=client.caller, case_id=case_id)
    assert final["last_modified_at"] == last_modified and final["created_at"] == created_at
    assert final["shipment"] == shipped["shipment"]
    assert [(h["previous_stage"], h["stage"], h["by_office_id"]) for h in final["history"]] == [
        (None, "missing_files", client.id),
        ("missing_files", "processing", client.id),
        ("processing", "received", lab.id),
        ("received", "ready_to_plan", lab.id),
        ("ready_to_plan", "manufacturing", lab.id),
        ("manufacturing", "finished", lab.id),
        ("finished", "shipped", lab.id),
    ]
    assert not final["editable"]
    access = bridge.check_access(caller=lab.caller, case_id=case_id)
    assert access == {"may_view": True, "may_add": False, "office_ids": [client.id, lab.id]}

    # Events: ids, the case ID, offices and stages; never the patient.
    assert len(bridge.events("case_created", case_id=case_id)) == 1
    changes = bridge.events("case_stage_changed", case_id=case_id)
    assert [(e["previous_stage"], e["stage"]) for e in changes] == [
        (h["previous_stage"], h["stage"]) for h in final["history"][1:]
    ]
    assert [e["client_must_act"] for e in changes] == [False, False, True, False, False, False]
    shipped_events = bridge.events("case_shipped", case_id=case_id)
    assert len(shipped_events) == 1 and shipped_events[0]["tracking_number"] == "1Z999AA1"
    assert "Maya" not in str(bridge.sql("SELECT payload FROM outbox_messages"))
    assert bridge.sql("SELECT count(*) FROM case_files") == [(1,)]


def test_a_second_file_or_a_redelivery_does_not_move_the_case_again(bridge: Bridge) -> None:
    client, lab = bridge.office(), bridge.lab()
    case_id = bridge.new_case(client, lab)["id"]
    first = bridge.upload(case_id, lab, deliveries=3)
    wait_for(
        lambda: bridge.get_case(caller=client.caller, case_id=case_id)["stage"] == "processing",
        timeout=10,
    )
    bridge.move(lab, case_id, "received")
    second = bridge.upload(case_id, client)

    def both() -> dict | None:
        seen = bridge.get_case(caller=client.caller, case_id=case_id)
        return seen if len(seen["file_ids"]) == 2 else None

    seen = wait_for(both, timeout=10)
    assert sorted(seen["file_ids"]) == sorted([first, second])
    assert seen["stage"] == "received"
    assert [h["stage"] for h in seen["history"]] == ["missing_files", "processing", "received"]
    assert seen["history"][1]["by_office_id"] == lab.id  # the uploader moved it
    assert len(bridge.events("case_stage_changed", case_id=case_id, stage="processing")) == 1


def test_who_may_create_a_case_and_for_whom(bridge: Bridge) -> None:
    client, lab, other_clinic = bridge.office(), bridge.lab(), bridge.office()
    not_a_lab = bridge.error("create_case", caller=client.caller, payload=case_in(other_clinic))
    assert not_a_lab.remote_kind == "invalid"
    assert [d["field"] for d in not_a_lab.details] == ["lab_office_id"]
    # A lab does not send cases (not even to itself).
    assert bridge.error("create_case", caller=lab.caller, payload=case_in(lab)).remote_kind == (
        "forbidden"
    )
    bad = bridge.error(
        "create_case",
        caller=client.caller,
        payload=case_in(lab, teeth=["19", "99"], patient_name="", due_date="2001-01-01"),
    )
    assert bad.remote_kind == "invalid"
    assert sorted(d["field"] for d in bad.details) == ["patient_name"]
    bad = bridge.error(
        "create_case",
        caller=client.caller,
        payload=case_in(lab, teeth=["19", "99"], due_date="2001-01-01"),
    )
    assert sorted(d["field"] for d in bad.details) == ["due_date", "teeth.1"]
    # Teeth written in another notation than the office's, stored as ISO codes.
    fdi = bridge.new_case(client, lab, teeth=["36", "11"], notation="fdi")
    assert [t["iso"] for t in fdi["teeth"]] == ["36", "11"]
    assert [t["label"] for t in fdi["teeth"]] == ["19", "8"]
    assert bridge.sql("SELECT count(*) FROM cases") == [(1,)]
