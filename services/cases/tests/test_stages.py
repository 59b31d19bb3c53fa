"""The lab's stage moves: the legal table of the README, and nothing else (409)."""

from __future__ import annotations

from typing import Any

import pytest

from shared.contracts.cases import CaseStage

from .dates import today, window
from .support import Bridge

S = CaseStage
# The README's table, written out here on its own.
LEGAL: dict[str, set[str]] = {
    "missing_files": {"processing", "on_hold", "cancelled"},
    "processing": {"received", "missing_files", "on_hold", "cancelled"},
    "received": {"ready_to_plan", "manufacturing", "missing_files", "on_hold", "cancelled"},
    "ready_to_plan": {"manufacturing", "on_hold", "cancelled"},
    "planning_scheduled": {"manufacturing", "on_hold", "cancelled"},
    "planning_no_show": {"on_hold", "cancelled"},
    "manufacturing": {"finished", "on_hold", "cancelled"},
    "finished": {"shipped", "on_hold", "cancelled"},
    "shipped": set(),
    "cancelled": set(),
    "on_hold": {"received", "cancelled"},  # held in received
}
EXTRA: dict[str, dict[str, Any]] = {
    "on_hold": {"reason": "Waiting for the lab's scanner"},
    "cancelled": {"reason": "Patient moved away"},
    "shipped": {"carrier": "UPS", "tracking_number": "1Z999AA1"},
}


def _put(bridge: Bridge, case_id: str, stage: str) -> None:
    held = "received" if stage == "on_hold" else None
    bridge.sql(
        "UPDATE cases SET stage = %s, held_from_stage = %s WHERE id = %s", stage, held, case_id
    )


@pytest.mark.parametrize("current", [s.value for s in S])
def test_only_the_legal_moves_are_allowed_from(bridge: Bridge, current: str) -> None:
    client, lab = bridge.office(), bridge.lab()
    case_id = bridge.new_case(client, lab)["id"]
    _put(bridge, case_id, current)
    assert (
        set(bridge.get_case(caller=lab.caller, case_id=case_id)["allowed_stages"])
        == (LEGAL[current])
    )
    for target in S:
        payload = {"stage": target.value, **EXTRA.get(target.value, {})}
        if target.value in LEGAL[current]:
            moved = bridge.change_stage(caller=lab.caller, case_id=case_id, payload=payload)
            assert moved["stage"] == target.value
            assert moved["history"][-1]["previous_stage"] == current
            _put(bridge, case_id, current)
        else:
            error = bridge.error(
                "change_stage", caller=lab.caller, case_id=case_id, payload=payload
            )
            assert error.remote_kind == "conflict", (current, target)
            assert error.details == {"stage": current, "requested": target.value}
            assert current in str(error)
    # Nothing illegal left a trace.
    assert bridge.get_case(caller=lab.caller, case_id=case_id)["stage"] == current


def test_the_client_cannot_move_stages(bridge: Bridge) -> None:
    client, lab = bridge.office(), bridge.lab()
    case_id = bridge.new_case(client, lab)["id"]
    for stage in ("processing", "cancelled", "shipped"):
        error = bridge.error(
            "change_stage",
            caller=client.caller,
            case_id=case_id,
            payload={"stage": stage, "reason": "mine"},
        )
        assert error.remote_kind == "forbidden"
    assert bridge.get_case(caller=client.caller, case_id=case_id)["stage"] == "missing_files"


def test_what_a_move_needs_and_on_hold(bridge: Bridge) -> None:
    client, lab = bridge.office(), bridge.lab()
    case_id = bridge.new_case(client, lab)["id"]
    bridge.move(lab, case_id, "processing", "received")

    for stage in ("on_hold", "cancelled"):
        error = bridge.error(
            "change_stage", caller=lab.caller, case_id=case_id, payload={"stage": stage}
        )
        assert error.remote_kind == "invalid" and error.details[0]["field"] == "reason"

    held = bridge.move(lab, case_id, "on_hold", reason="Scanner broken")
    assert held["stage"] == "on_hold" and held["colour"] == "white"
    assert held["ship"] == {"earliest": None, "latest": None}  # a case on hold has no ship date
    assert held["history"][-1]["reason"] == "Scanner broken"
    assert held["allowed_stages"] == ["received", "cancelled"]
    back = bridge.move(lab, case_id, "received")
    assert back["ship"] == window(7, 12)

    bridge.move(lab, case_id, "manufacturing", "finished")
    for extra, fields in (
        ({}, ["carrier", "tracking_number"]),
        ({"carrier": "UPS"}, ["tracking_number"]),
        (
            {"carrier": "UPS", "tracking_number": "1Z", "tracking_url": "javascript:alert(1)"},
            ["tracking_url"],
        ),
        ({"carrier": "UPS", "tracking_number": "1Z", "tracking_url": "ftp://x.example"}, None),
    ):
        error = bridge.error(
            "change_stage",
            caller=lab.caller,
            case_id=case_id,
            payload={"stage": "shipped", **extra},
        )
        assert error.remote_kind == "invalid"
        assert [d["field"] for d in error.details] == (fields or ["tracking_url"])
    assert bridge.events("case_shipped", case_id=case_id) == []
    shipped = bridge.move(lab, case_id, "shipped", carrier="DHL", tracking_number="JD0001")
    assert shipped["shipment"]["tracking_url"] is None


def test_turnaround_rules_of_a_lab(bridge: Bridge) -> None:
    client, lab = bridge.office(), bridge.lab(time_zone="Europe/Berlin")
    rules = bridge.get_turnaround(caller=lab.caller)["rules"]
    assert {r["stage"]: (r["min_days"], r["max_days"]) for r in rules} == {
        "processing": (8, 14),
        "received": (7, 12),
        "ready_to_plan": (6, 10),
        "planning_scheduled": (3, 8),
        "manufacturing": (2, 7),
        "finished": (0, 1),
    }
    assert bridge.error("get_turnaround", caller=client.caller).remote_kind == "forbidden"
    payload = {"rules": [{"stage": "manufacturing", "min_days": 1, "max_days": 3}]}
    assert bridge.error("set_turnaround", caller=lab.staff, payload=payload).remote_kind == (
        "forbidden"
    )
    bad = bridge.error(
        "set_turnaround",
        caller=lab.caller,
        payload={
            "rules": [
                {"stage": "shipped", "min_days": 1, "max_days": 3},
                {"stage": "received", "min_days": 5, "max_days": 3},
            ]
        },
    )
    assert [d["field"] for d in bad.details] == ["rules.0.stage", "rules.1.max_days"]
    changed = bridge.set_turnaround(caller=lab.caller, payload=payload)["rules"]
    assert {"stage": "manufacturing", "min_days": 1, "max_days": 3} in changed
    assert {"stage": "received", "min_days": 7, "max_days": 12} in changed
    case_id = bridge.new_case(client, lab)["id"]
    made = bridge.move(lab, case_id, "processing", "received", "manufacturing")
    assert made["ship"] == window(1, 3, start=today("Europe/Berlin"))
