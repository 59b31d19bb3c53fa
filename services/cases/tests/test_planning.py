"""Planning sessions on the real broker and database: slots, the booking race, a case's planning
life, who may change a booking, and not_found for other offices."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import eventlet
from eventlet.event import Event
from nameko.standalone.rpc import ServiceRpcProxy

from shared.contracts.cases import (
    BookingOut,
    CaseDetail,
    PlanningBooked,
    PlanningCancelled,
    SlotOut,
)
from shared.errors import RemoteError

from .planning_support import Planner, aware

RACERS = 20


def soon(days: int = 7) -> date:
    return datetime.now(UTC).date() + timedelta(days=days)


def test_twenty_simultaneous_bookings_of_one_slot_one_wins(planner: Planner) -> None:
    lab, client = planner.lab(), planner.office()
    slot = planner.slot(lab)
    cases = [planner.ready_case(client, lab, patient=f"Patient {n}") for n in range(RACERS)]
    go = Event()

    def book(case_id: str) -> Any:
        # One proxy (connection) per booker, all released at the same instant.
        with ServiceRpcProxy("cases", planner.config, timeout=60) as rpc:
            go.wait()
            try:
                return rpc.book_slot(
                    caller=client.caller, case_id=case_id, payload={"slot_id": slot["id"]}
                )
            except RemoteError as exc:
                return exc

    threads = [eventlet.spawn(book, case_id) for case_id in cases]
    eventlet.sleep(1.0)  # every proxy connected and waiting
    go.send(True)
    results = [thread.wait() for thread in threads]

    won = [r for r in results if isinstance(r, dict)]
    lost = [r for r in results if isinstance(r, RemoteError)]
    assert len(won) == 1 and len(lost) == RACERS - 1
    assert {e.remote_kind for e in lost} == {"conflict"}
    assert all("just booked" in e.message for e in lost)
    winner = BookingOut.model_validate(won[0])
    assert str(winner.slot_id) == slot["id"]
    rows = planner.sql("SELECT case_id::text, status FROM planning_bookings")
    assert rows == [(str(winner.case_id), "booked")]
    stages = dict(planner.sql("SELECT id::text, stage FROM cases"))
    assert stages.pop(str(winner.case_id)) == "planning_scheduled"
    assert set(stages.values()) == {"ready_to_plan"}
    assert len(planner.events("planning_booked")) == 1


def test_a_case_planning_life_with_a_no_show_and_a_rebooking(planner: Planner) -> None:
    lab, client = planner.lab(), planner.office()
    case_id = planner.ready_case(client, lab)
    first, second, third = (planner.slot(lab, day=soon(d)) for d in (3, 4, 5))
    assert planner.get_case(caller=client.caller, case_id=case_id)["colour"] == "red"

    booked = planner.book_slot(
        caller=client.caller, case_id=case_id, payload={"slot_id": first["id"]}
    )
    assert booked["slot_id"] == first["id"] and booked["time_zone"] == "America/Toronto"
    assert booked["ics_path"] == f"/api/v1/cases/{case_id}/booking.ics"
    detail = CaseDetail.model_validate(planner.get_case(caller=client.caller, case_id=case_id))
    assert detail.stage == "planning_scheduled" and detail.colour == "green"
    assert detail.booking is not None and str(detail.booking.id) == booked["id"]
    assert detail.ship.latest is not None and detail.ship.latest > soon(3)
    assert planner.get_booking(caller=lab.caller, case_id=case_id)["id"] == booked["id"]
    # Booked: no second booking for the case, and the slot is gone from the client's list.
    again = planner.error(
        "book_slot", caller=client.caller, case_id=case_id, payload={"slot_id": second["id"]}
    )
    assert again.remote_kind == "conflict"

    # The client cannot move or cancel it; nor mark its own no-show.
    for method, payload in (
        ("reschedule_booking", {"slot_id": second["id"]}),
        ("cancel_booking", {"reason": "cannot come"}),
    ):
        refused = planner.error(method, caller=client.caller, case_id=case_id, payload=payload)
        assert refused.remote_kind == "conflict" and "contact the lab" in refused.message
    assert planner.error("mark_no_show", caller=client.caller, case_id=case_id).remote_kind == (
        "forbidden"
    )
    assert planner.error("delete_slot", caller=lab.caller, slot_id=first["id"]).remote_kind == (
        "conflict"
    )

    # The client missed it: Planning No Show (red); the slot stays used.
    missed = CaseDetail.model_validate(planner.mark_no_show(caller=lab.caller, case_id=case_id))
    assert missed.stage == "planning_no_show" and missed.colour == "red"
    assert missed.booking is None and missed.ship.latest is None
    assert planner.error("get_booking", caller=client.caller, case_id=case_id).remote_kind == (
        "not_found"
    )
    assert first["id"] not in free_ids(planner, client, lab)
    assert booked_flags(planner, lab)[first["id"]] is True

    # The client books again; the lab moves it, then cancels it, then the client books once more.
    rebooked = planner.book_slot(
        caller=client.caller, case_id=case_id, payload={"slot_id": second["id"]}
    )
    moved = planner.reschedule_booking(
        caller=lab.caller, case_id=case_id, payload={"slot_id": third["id"]}
    )
    assert moved["id"] == rebooked["id"] and moved["slot_id"] == third["id"]
    assert second["id"] in free_ids(planner, client, lab)
    assert third["id"] not in free_ids(planner, client, lab)
    cancelled = planner.cancel_booking(
        caller=lab.caller, case_id=case_id, payload={"reason": "the planner is ill"}
    )
    assert cancelled["stage"] == "ready_to_plan" and cancelled["colour"] == "red"
    assert third["id"] in free_ids(planner, client, lab)
    planner.book_slot(caller=client.caller, case_id=case_id, payload={"slot_id": third["id"]})

    # The session was held: the lab moves the case on.
    made = planner.change_stage(
        caller=lab.caller, case_id=case_id, payload={"stage": "manufacturing"}
    )
    assert made["stage"] == "manufacturing"
    path = [(h["previous_stage"], h["stage"]) for h in made["history"]][-6:]
    assert path == [
        ("ready_to_plan", "planning_scheduled"),
        ("planning_scheduled", "planning_no_show"),
        ("planning_no_show", "planning_scheduled"),
        ("planning_scheduled", "ready_to_plan"),
        ("ready_to_plan", "planning_scheduled"),
        ("planning_scheduled", "manufacturing"),
    ]

    booked_events = planner.events("planning_booked", case_id=case_id)
    for data in booked_events:
        PlanningBooked.model_validate(data)
    for data in planner.events("planning_cancelled", case_id=case_id):
        PlanningCancelled.model_validate(data)
    assert [e["rescheduled"] for e in booked_events] == [False, False, True, False]
    cancelled_events = planner.events("planning_cancelled", case_id=case_id)
    assert [e["no_show"] for e in cancelled_events] == [True, False]
    outbox = str(planner.sql("SELECT payload FROM outbox_messages"))
    assert "Maya" not in outbox and "Surgical guide" not in outbox


def free_ids(planner: Planner, viewer: Any, lab: Any) -> list[str]:
    now = datetime.now(UTC)
    slots = planner.list_slots(
        caller=viewer.caller,
        query={
            "lab_office_id": lab.id,
            "start": now.isoformat(),
            "end": (now + timedelta(days=30)).isoformat(),
        },
    )
    return [s["id"] for s in slots]


def booked_flags(planner: Planner, lab: Any) -> dict[str, bool]:
    now = datetime.now(UTC)
    query = {
        "lab_office_id": lab.id,
        "start": now.isoformat(),
        "end": (now + timedelta(days=30)).isoformat(),
    }
    return {s["id"]: s["booked"] for s in planner.list_slots(caller=lab.caller, query=query)}


def test_a_weekly_pattern_keeps_its_local_time_across_daylight_saving(planner: Planner) -> None:
    lab = planner.lab(time_zone="America/Toronto")
    # Clocks go forward on 2027-03-14 and back on 2027-11-07 in Toronto.
    spring = planner.publish_slots(
        caller=lab.caller,
        payload={
            "start": "2027-03-08T10:00:00",
            "end": "2027-03-08T10:45:00",
            "time_zone": "America/Toronto",
            "join_url": "https://meet.example.com/weekly",
            "repeat_weeks": 2,
        },
    )
    autumn = planner.publish_slots(
        caller=lab.caller,
        payload={
            "start": "2027-10-31T10:00:00",
            "end": "2027-10-31T10:45:00",
            "time_zone": "America/Toronto",
            "mode": "remote_control",
            "join_details": "Session ID 123 456 789",
            "repeat_weeks": 1,
        },
    )
    for slot in spring + autumn:
        SlotOut.model_validate(slot)
        assert aware(slot["start"]).strftime("%H:%M") == "10:00"
        assert aware(slot["end"]).strftime("%H:%M") == "10:45"
    utc = [aware(s["start"]).astimezone(UTC).strftime("%Y-%m-%d %H:%M") for s in spring + autumn]
    assert utc == [
        "2027-03-08 15:00",
        "2027-03-15 14:00",
        "2027-03-22 14:00",
        "2027-10-31 14:00",
        "2027-11-07 15:00",
    ]
    stored = planner.sql(
        "SELECT to_char(starts_at AT TIME ZONE 'UTC', 'MM-DD HH24:MI') FROM planning_slots"
        " ORDER BY starts_at"
    )
    assert [r[0] for r in stored] == [
        "03-08 15:00",
        "03-15 14:00",
        "03-22 14:00",
        "10-31 14:00",
        "11-07 15:00",
    ]


def test_publishing_checks_times_zone_link_overlap_and_who(planner: Planner) -> None:
    lab, client = planner.lab(), planner.office()
    base = {
        "start": "2027-02-01T09:00:00",
        "end": "2027-02-01T10:00:00",
        "time_zone": "America/Toronto",
        "join_url": "https://meet.example.com/a",
    }

    def fields(**changes: Any) -> list[str]:
        error = planner.error("publish_slots", caller=lab.caller, payload={**base, **changes})
        assert error.remote_kind == "invalid"
        return [d["field"] for d in error.details]

    assert fields(end="2027-02-01T09:00:00") == ["end"]
    assert fields(time_zone="Mars/Olympus") == ["time_zone"]
    assert fields(join_url="javascript:alert(1)") == ["join_url"]
    assert fields(join_url=None) == ["join_url"]
    assert fields(start="2020-02-01T09:00:00", end="2020-02-01T10:00:00") == ["start"]
    # 02:30 does not exist in Toronto on 2027-03-14.
    assert fields(start="2027-03-14T02:30:00", end="2027-03-14T03:30:00") == ["start"]
    assert fields(repeat_weeks=53) == ["repeat_weeks"]

    planner.publish_slots(caller=lab.caller, payload=base)
    overlap = planner.error(
        "publish_slots",
        caller=lab.caller,
        payload={
            **base,
            "start": "2027-01-25T09:30:00",
            "end": "2027-01-25T10:30:00",
            "repeat_weeks": 3,
        },
    )
    assert overlap.remote_kind == "conflict" and "2027-02-01 09:30" in overlap.message
    assert planner.error("publish_slots", caller=client.caller, payload=base).remote_kind == (
        "forbidden"
    )
    # Another lab's slots never overlap ours; the same key replays the first answer.
    other = planner.lab()
    first = planner.publish_slots(caller=other.caller, payload=base, idempotency_key="k-1")
    again = planner.publish_slots(caller=other.caller, payload=base, idempotency_key="k-1")
    assert first == again
    assert planner.sql("SELECT count(*) FROM planning_slots")[0][0] == 2


def test_free_slots_in_the_viewers_zone_without_booked_ones(planner: Planner) -> None:
    lab = planner.lab(time_zone="America/Toronto")
    client = planner.office(time_zone="Europe/Berlin")
    day = soon(10)
    early, late = planner.slot(lab, day=day, at=time(9, 0)), planner.slot(lab, day=day, at=time(15))
    case_id = planner.ready_case(client, lab)
    window = {
        "lab_office_id": lab.id,
        "start": f"{day.isoformat()}T00:00:00",
        "end": f"{(day + timedelta(days=1)).isoformat()}T23:59:00",
    }
    seen = planner.list_slots(caller=client.caller, query=window)
    assert [s["id"] for s in seen] == [early["id"], late["id"]]
    first = aware(seen[0]["start"])
    assert seen[0]["time_zone"] == "Europe/Berlin" and seen[0]["lab_time_zone"] == "America/Toronto"
    assert first.utcoffset() in (timedelta(hours=1), timedelta(hours=2))
    assert first == aware(early["start"])  # the same instant, shown in Berlin
    assert first.astimezone(UTC) == aware(early["start"]).astimezone(UTC)
    tokyo = planner.list_slots(caller=client.caller, query={**window, "time_zone": "Asia/Tokyo"})
    assert aware(tokyo[0]["start"]).utcoffset() == timedelta(hours=9)

    planner.book_slot(caller=client.caller, case_id=case_id, payload={"slot_id": early["id"]})
    assert [s["id"] for s in planner.list_slots(caller=client.caller, query=window)] == [late["id"]]
    by_lab = planner.list_slots(caller=lab.caller, query=window)
    assert [(s["id"], s["booked"]) for s in by_lab] == [(early["id"], True), (late["id"], False)]

    # A window outside the slots shows none; bad windows name their field.
    assert (
        planner.list_slots(
            caller=client.caller, query={**window, "end": f"{day.isoformat()}T01:00:00"}
        )
        == []
    )
    too_long = planner.error(
        "list_slots",
        caller=client.caller,
        query={**window, "end": f"{(day + timedelta(days=93)).isoformat()}T00:00:00"},
    )
    assert too_long.remote_kind == "invalid" and too_long.details[0]["field"] == "end"
    bad_zone = planner.error(
        "list_slots", caller=client.caller, query={**window, "time_zone": "Nowhere/City"}
    )
    assert bad_zone.remote_kind == "invalid" and bad_zone.details[0]["field"] == "time_zone"


def test_booking_needs_the_right_stage_side_and_slot(planner: Planner) -> None:
    lab, client = planner.lab(), planner.office()
    slot = planner.slot(lab)
    created = planner.create_case(
        caller=client.caller,
        payload={"lab_office_id": lab.id, "patient_name": "Ann Lee", "description": "Guide"},
    )
    early = planner.error(
        "book_slot",
        caller=client.caller,
        case_id=created["case"]["id"],
        payload={"slot_id": slot["id"]},
    )
    assert early.remote_kind == "conflict" and "missing_files" in early.message
    case_id = planner.ready_case(client, lab)
    by_lab = planner.error(
        "book_slot", caller=lab.caller, case_id=case_id, payload={"slot_id": slot["id"]}
    )
    assert by_lab.remote_kind == "forbidden"
    planner.delete_slot(caller=lab.caller, slot_id=slot["id"])
    gone = planner.error(
        "book_slot", caller=client.caller, case_id=case_id, payload={"slot_id": slot["id"]}
    )
    assert gone.remote_kind == "not_found"
    bad = planner.error(
        "book_slot", caller=client.caller, case_id=case_id, payload={"slot_id": "x"}
    )
    assert bad.remote_kind == "invalid" and bad.details[0]["field"] == "slot_id"


def test_other_offices_get_not_found_for_every_case_and_slot(planner: Planner) -> None:
    lab, client, stranger = planner.lab(), planner.office(), planner.office()
    other_lab = planner.lab()
    slot, spare = planner.slot(lab, day=soon(3)), planner.slot(lab, day=soon(4))
    foreign_slot = planner.slot(other_lab)
    case_id = planner.ready_case(client, lab)
    planner.book_slot(caller=client.caller, case_id=case_id, payload={"slot_id": slot["id"]})

    calls: list[tuple[str, dict[str, Any]]] = [
        ("get_booking", {}),
        ("book_slot", {"payload": {"slot_id": spare["id"]}}),
        ("reschedule_booking", {"payload": {"slot_id": spare["id"]}}),
        ("cancel_booking", {"payload": {}}),
        ("mark_no_show", {}),
        ("render_booking_ics", {}),
    ]
    for outsider in (stranger, other_lab):
        for method, kwargs in calls:
            error = planner.error(method, caller=outsider.caller, case_id=case_id, **kwargs)
            assert error.remote_kind == "not_found", (method, error.remote_kind)
            assert error.message == "No such case."
    assert planner.error(
        "delete_slot", caller=other_lab.caller, slot_id=slot["id"]
    ).remote_kind == ("not_found")
    assert planner.error(
        "delete_slot", caller=stranger.caller, slot_id=spare["id"]
    ).remote_kind == ("not_found")
    # Another lab's slot cannot be booked for, or moved to by, this case.
    moved = planner.error(
        "reschedule_booking",
        caller=lab.caller,
        case_id=case_id,
        payload={"slot_id": foreign_slot["id"]},
    )
    assert moved.remote_kind == "not_found"
    assert planner.get_booking(caller=client.caller, case_id=case_id)["slot_id"] == slot["id"]


def test_a_missed_slot_stays_used_and_a_cancelled_case_frees_its_slot(planner: Planner) -> None:
    lab, client = planner.lab(), planner.office()
    missed_slot, booked_slot = planner.slot(lab, day=soon(3)), planner.slot(lab, day=soon(4))
    first, second, third = (planner.ready_case(client, lab) for _ in range(3))
    for case_id, slot in ((first, missed_slot), (second, booked_slot)):
        planner.book_slot(caller=client.caller, case_id=case_id, payload={"slot_id": slot["id"]})
    planner.mark_no_show(caller=lab.caller, case_id=first)
    used = planner.error(
        "book_slot", caller=client.caller, case_id=third, payload={"slot_id": missed_slot["id"]}
    )
    assert used.remote_kind == "conflict"

    cancelled = planner.change_stage(
        caller=lab.caller, case_id=second, payload={"stage": "cancelled", "reason": "no implant"}
    )
    assert cancelled["stage"] == "cancelled" and cancelled["booking"] is None
    assert planner.error("get_booking", caller=client.caller, case_id=second).remote_kind == (
        "not_found"
    )
    assert [e["no_show"] for e in planner.events("planning_cancelled", case_id=second)] == [False]
    assert free_ids(planner, client, lab) == [booked_slot["id"]]
    planner.book_slot(caller=client.caller, case_id=third, payload={"slot_id": booked_slot["id"]})
