"""Notes between a case's client and lab, with each office's read state."""

from __future__ import annotations

from .support import Bridge


def test_notes_are_new_to_the_other_office_until_it_reads_them(bridge: Bridge) -> None:
    client, lab = bridge.office(), bridge.lab()
    case_id = bridge.new_case(client, lab)["id"]
    first = bridge.add_note(
        caller=client.caller, case_id=case_id, payload={"body": "Upper scan attached."}
    )
    assert first["author_name"] == f"Staff of {client.name}" and first["new"] is False
    retry = bridge.add_note(
        caller=lab.caller, case_id=case_id, payload={"body": "Thanks"}, idempotency_key="n"
    )
    again = bridge.add_note(
        caller=lab.caller, case_id=case_id, payload={"body": "Thanks"}, idempotency_key="n"
    )
    assert retry["id"] == again["id"]
    bridge.add_note(caller=client.caller, case_id=case_id, payload={"body": "Any news?"})

    seen_by_lab = bridge.list_notes(caller=lab.caller, case_id=case_id)
    assert [(n["body"], n["new"], n["office_id"]) for n in seen_by_lab] == [
        ("Upper scan attached.", True, client.id),
        ("Thanks", False, lab.id),
        ("Any news?", True, client.id),
    ]
    other = bridge.new_case(client, lab)["id"]  # no notes: counts nothing

    def new_in_list(office) -> dict[str, int]:
        page = bridge.list_cases(caller=office.caller)
        return {row["id"]: row["new_notes"] for row in page["items"]}

    assert new_in_list(lab) == {case_id: 2, other: 0}
    assert new_in_list(client) == {case_id: 1, other: 0}
    bridge.mark_notes_read(caller=lab.caller, case_id=case_id)
    assert new_in_list(lab) == {case_id: 0, other: 0}
    assert new_in_list(client) == {case_id: 1, other: 0}
    assert [n["new"] for n in bridge.list_notes(caller=lab.caller, case_id=case_id)] == [
        False,
        False,
        False,
    ]
    # The client has not read the lab's note yet.
    assert [n["new"] for n in bridge.list_notes(caller=client.caller, case_id=case_id)] == [
        False,
        True,
        False,
    ]

    events = bridge.events("case_note_added", case_id=case_id)
    assert len(events) == 3  # the retry published nothing more
    assert [(e["author_office_id"], e["recipient_office_id"]) for e in events] == [
        (client.id, lab.id),
        (lab.id, client.id),
        (client.id, lab.id),
    ]
    assert all("body" not in e and "patient_name" not in e for e in events)
    assert "Maya Chen" not in str(events) and "Any news?" not in str(events)


def test_a_third_office_gets_not_found_and_bad_notes_name_the_field(bridge: Bridge) -> None:
    client, lab, stranger = bridge.office(), bridge.lab(), bridge.office()
    case_id = bridge.new_case(client, lab)["id"]
    for method, extra in (
        ("list_notes", {}),
        ("add_note", {"payload": {"body": "Hello"}}),
        ("mark_notes_read", {}),
    ):
        error = bridge.error(method, caller=stranger.caller, case_id=case_id, **extra)
        assert error.remote_kind == "not_found", method
    assert bridge.list_notes(caller=client.caller, case_id=case_id) == []

    empty = bridge.error("add_note", caller=client.caller, case_id=case_id, payload={"body": " "})
    assert empty.remote_kind == "invalid" and "body" in str(empty.details)
    long = bridge.error(
        "add_note", caller=lab.caller, case_id=case_id, payload={"body": "x" * 10001}
    )
    assert long.remote_kind == "invalid" and "body" in str(long.details)
    assert bridge.events("case_note_added", case_id=case_id) == []


def test_notes_close_when_the_case_ships_or_is_cancelled(bridge: Bridge) -> None:
    client, lab = bridge.office(), bridge.lab()
    case_id = bridge.new_case(client, lab)["id"]
    bridge.add_note(caller=lab.caller, case_id=case_id, payload={"body": "On hold for now?"})
    for stage in ("shipped", "cancelled"):
        bridge.set_stage(case_id, stage)
        for who in (client, lab):
            refused = bridge.error(
                "add_note", caller=who.caller, case_id=case_id, payload={"body": "Late"}
            )
            assert refused.remote_kind == "conflict"
            assert refused.details == {"stage": stage, "requested": "add_note"}
    # Reading and marking read stay open.
    assert [n["new"] for n in bridge.list_notes(caller=client.caller, case_id=case_id)] == [True]
    bridge.mark_notes_read(caller=client.caller, case_id=case_id)
    assert [n["new"] for n in bridge.list_notes(caller=client.caller, case_id=case_id)] == [False]
