"""The client's edits and the ship-date preview, idempotent creation, and foreign case ids."""

from __future__ import annotations

import uuid
from typing import Any

import eventlet
from nameko.standalone.rpc import ServiceRpcProxy

from tests.support.readme_rpc import rpc_signatures

from .dates import window
from .support import Bridge, case_in


def test_an_edit_resets_the_ship_date_as_the_preview_said(bridge: Bridge) -> None:
    client, lab = bridge.office(), bridge.lab(notation="fdi")
    case = bridge.new_case(client, lab)
    case_id = case["id"]
    bridge.move(lab, case_id, "processing", "received", "ready_to_plan")
    before = bridge.get_case(caller=client.caller, case_id=case_id)
    assert before["ship"] == window(6, 10) and before["editable"]

    preview = bridge.preview_edit(caller=client.caller, case_id=case_id)
    assert preview == window(8, 14)  # counted from Processing again, as a new case
    # Asking changes nothing.
    assert bridge.get_case(caller=client.caller, case_id=case_id) == before

    edited = bridge.edit_case(
        caller=client.caller,
        case_id=case_id,
        payload={"description": "Guide for 36 only", "teeth": ["36"], "notation": "fdi"},
    )
    assert edited["ship"] == preview
    assert edited["stage"] == "processing" and edited["colour"] == "yellow"
    assert edited["description"] == "Guide for 36 only"
    assert edited["teeth"] == [{"iso": "36", "label": "19"}]
    assert edited["due_date"] == case["due_date"]  # omitted: kept
    assert edited["last_modified_at"] > before["last_modified_at"]
    assert edited["history"][-1]["previous_stage"] == "ready_to_plan"
    assert edited["history"][-1]["by_office_id"] == client.id
    assert len(bridge.events("case_updated", case_id=case_id)) == 1
    assert bridge.events("case_stage_changed", case_id=case_id)[-1]["stage"] == "processing"
    assert bridge.sql("SELECT version FROM cases WHERE id = %s", case_id) == [(2,)]

    # The lab's later moves leave Last Modified alone.
    moved = bridge.move(lab, case_id, "received")
    assert moved["last_modified_at"] == edited["last_modified_at"]

    # Only the client edits; and not once manufacturing has started.
    for method, kwargs in (
        ("edit_case", {"payload": {"description": "x"}}),
        ("preview_edit", {}),
    ):
        error = bridge.error(method, caller=lab.caller, case_id=case_id, **kwargs)
        assert error.remote_kind == "forbidden"
    bridge.move(lab, case_id, "manufacturing")
    assert not bridge.get_case(caller=client.caller, case_id=case_id)["editable"]
    for method, kwargs in (
        ("edit_case", {"payload": {"description": "x"}}),
        ("preview_edit", {}),
    ):
        error = bridge.error(method, caller=client.caller, case_id=case_id, **kwargs)
        assert error.remote_kind == "conflict"
        assert error.details == {"stage": "manufacturing", "requested": "edit"}


def test_an_edit_before_the_files_arrive_keeps_waiting_for_them(bridge: Bridge) -> None:
    client, lab = bridge.office(), bridge.lab()
    case_id = bridge.new_case(client, lab)["id"]
    assert bridge.preview_edit(caller=client.caller, case_id=case_id) == {
        "earliest": None,
        "latest": None,
    }
    bad = bridge.error(
        "edit_case", caller=client.caller, case_id=case_id, payload={"teeth": ["19", "zz"]}
    )
    assert bad.remote_kind == "invalid" and [d["field"] for d in bad.details] == ["teeth.1"]
    edited = bridge.edit_case(caller=client.caller, case_id=case_id, payload={"teeth": ["3"]})
    assert edited["stage"] == "missing_files"
    assert edited["teeth"] == [{"iso": "16", "label": "3"}]
    assert edited["ship"] == {"earliest": None, "latest": None}


def test_one_case_per_idempotency_key_even_concurrently(bridge: Bridge) -> None:
    client, lab = bridge.office(), bridge.lab()
    first = bridge.create_case(caller=client.caller, payload=case_in(lab), idempotency_key="once")
    again = bridge.create_case(caller=client.caller, payload=case_in(lab), idempotency_key="once")
    assert again == first

    def create(_: int) -> Any:
        with ServiceRpcProxy("cases", bridge.config, timeout=30) as proxy:
            return proxy.create_case(
                caller=client.caller, payload=case_in(lab), idempotency_key="together"
            )

    answers = list(eventlet.GreenPool(8).imap(create, range(8)))
    assert len({a["case"]["id"] for a in answers}) == 1
    assert len({a["case"]["reference"] for a in answers}) == 1
    assert bridge.sql("SELECT count(*) FROM cases") == [(2,)]
    assert len(bridge.events("case_created")) == 2
    # Different keys: different cases, with consecutive case IDs.
    other = bridge.create_case(caller=client.caller, payload=case_in(lab), idempotency_key="b")
    numbers = sorted(int(r[0].rsplit("-", 1)[1]) for r in bridge.sql("SELECT reference FROM cases"))
    assert numbers == [1, 2, 3] and other["case"]["id"] != first["case"]["id"]
    error = bridge.error(
        "create_case", caller=client.caller, payload=case_in(lab), idempotency_key=""
    )
    assert error.details[0]["field"] == "idempotency_key"


# A valid payload for each contract model a case-id method takes, so not_found is the answer.
PAYLOADS: dict[str, Any] = {
    "CaseEdit": {"description": "Changed"},
    "StageChangeIn": {"stage": "processing"},
    "BookingIn": {"slot_id": str(uuid.uuid4())},
    "RescheduleIn": {"slot_id": str(uuid.uuid4())},
    "BookingCancelIn": {"reason": "x"},
    "CaseNoteIn": {"body": "x"},
}


def test_a_third_office_gets_not_found_for_every_case_id(bridge: Bridge) -> None:
    client, lab, stranger = bridge.office(), bridge.lab(), bridge.office()
    stranger_lab = bridge.lab()
    case_id = bridge.new_case(client, lab)["id"]
    methods = {
        name: args
        for name, args in rpc_signatures("cases").items()
        if "case_id" in args and "caller" in args
    }
    assert {"get_case", "edit_case", "change_stage", "render_rx", "check_access"} <= set(methods)
    for method, args in methods.items():
        kwargs: dict[str, Any] = {"case_id": case_id}
        for name, annotation in args.items():
            if name not in ("caller", "case_id", "idempotency_key"):
                assert annotation in PAYLOADS, f"no payload for {method}({name}: {annotation})"
                kwargs[name] = PAYLOADS[annotation]
        for outsider in (stranger, stranger_lab):
            error = bridge.error(method, caller=outsider.caller, **kwargs)
            assert error.remote_kind == "not_found", (method, error)
        unknown = {**kwargs, "case_id": str(uuid.uuid4())}
        assert bridge.error(method, caller=client.caller, **unknown).remote_kind == "not_found"
        malformed = {**kwargs, "case_id": "not-an-id"}
        error = bridge.error(method, caller=client.caller, **malformed)
        assert error.remote_kind == "invalid" and error.details[0]["field"] == "case_id"
    # Nothing was changed by any of it.
    seen = bridge.get_case(caller=client.caller, case_id=case_id)
    assert seen["stage"] == "missing_files" and seen["description"] == case_in(lab)["description"]
    assert bridge.error("get_case_brief", case_id=str(uuid.uuid4())).remote_kind == "not_found"


def test_the_brief_is_the_case_as_its_client_sees_it(bridge: Bridge) -> None:
    client, lab = bridge.office(notation="palmer"), bridge.lab(notation="fdi")
    case_id = bridge.new_case(client, lab, teeth=["36"], notation="fdi")["id"]
    brief = bridge.get_case_brief(case_id=case_id)
    assert brief["side"] == "client" and brief["notation"] == "palmer"
    assert brief == bridge.get_case(caller=client.caller, case_id=case_id)
