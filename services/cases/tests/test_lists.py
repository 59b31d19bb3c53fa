"""The case list: colours and the attention order, every sort key, search, pages, the archive."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from shared.contracts.cases import CasePage, CaseStage

from .support import Bridge, Office

COLOUR_RANK = {"red": 0, "yellow": 1, "green": 2, "white": 3}
PIPELINE = [s.value for s in CaseStage]


def _ids(page: dict[str, Any]) -> list[str]:
    return [item["id"] for item in page["items"]]


def _mixed(bridge: Bridge) -> tuple[Office, Office, Office, dict[str, str]]:
    """Six cases of one client at two labs, in every colour, created in this order."""
    client = bridge.office()
    zeta, alpha = bridge.lab(name="Zeta Lab"), bridge.lab(name="alpha lab")
    ids: dict[str, str] = {}
    made = [
        ("white", zeta, "Anna Zimmer", None),
        ("yellow", alpha, "bob young", "2099-03-01"),
        ("red", zeta, "Carl Xu", None),
        ("green", alpha, "dora Maya", "2099-01-01"),
        ("red2", alpha, "Maya Chen", "2099-02-01"),
        ("yellow2", zeta, "eve Walker", None),
    ]
    for name, lab, patient, due in made:
        ids[name] = bridge.new_case(client, lab, patient_name=patient, due_date=due)["id"]
    bridge.move(zeta, ids["white"], "processing", "received", "manufacturing")
    bridge.move(alpha, ids["yellow"], "processing")
    # Booked sessions are the planning tests' part: here the stage is put straight in.
    bridge.sql(
        "UPDATE cases SET stage = 'planning_scheduled', colour_rank = 2 WHERE id = %s",
        ids["green"],
    )
    bridge.move(alpha, ids["red2"], "processing", "received", "ready_to_plan")
    bridge.move(zeta, ids["yellow2"], "processing", "received")
    return client, zeta, alpha, ids


def test_colours_and_the_default_attention_order(bridge: Bridge) -> None:
    client, _zeta, alpha, ids = _mixed(bridge)
    page = bridge.list_cases(caller=client.caller)
    CasePage.model_validate(page)
    assert _ids(page) == [
        ids[name] for name in ("red", "red2", "yellow", "yellow2", "green", "white")
    ]
    assert [i["colour"] for i in page["items"]] == [
        "red",
        "red",
        "yellow",
        "yellow",
        "green",
        "white",
    ]
    assert [i["stage"] for i in page["items"]] == [
        "missing_files",
        "ready_to_plan",
        "processing",
        "received",
        "planning_scheduled",
        "manufacturing",
    ]
    assert page["total"] == 6 and all(i["side"] == "client" for i in page["items"])
    # Each lab sees its own cases, in the same order, from its side.
    as_alpha = bridge.list_cases(caller=alpha.caller)
    assert _ids(as_alpha) == [ids["red2"], ids["yellow"], ids["green"]]
    assert {i["side"] for i in as_alpha["items"]} == {"lab"}
    assert bridge.list_cases(caller=client.caller, query={"side": "lab"})["total"] == 0
    # Colour and stage filters.
    reds = bridge.list_cases(caller=client.caller, query={"colour": ["red"]})
    assert _ids(reds) == [ids["red"], ids["red2"]]
    made = bridge.list_cases(caller=client.caller, query={"stage": ["manufacturing"]})
    assert _ids(made) == [ids["white"]]
    # A third office sees none of them.
    assert bridge.list_cases(caller=bridge.office().caller)["total"] == 0


def _nulls_last(items: list[dict], key: Callable[[dict], Any], descending: bool) -> list[str]:
    present = [i for i in items if key(i) is not None]
    absent = [i for i in items if key(i) is None]
    present.sort(key=lambda i: (key(i), i["created_at"]), reverse=descending)
    absent.sort(key=lambda i: i["created_at"], reverse=descending)
    return [i["id"] for i in present + absent]


SORT_KEYS: dict[str, Callable[[dict], Any]] = {
    "attention": lambda i: COLOUR_RANK[i["colour"]],
    "reference": lambda i: i["reference"],
    "patient": lambda i: i["patient_name"].lower(),
    "stage": lambda i: PIPELINE.index(i["stage"]),
    "last_modified": lambda i: i["last_modified_at"],
    "ship_date": lambda i: i["ship_date"],
    "other_office": lambda i: i["lab_office_name"].lower(),
    "created_at": lambda i: i["created_at"],
    "due_date": lambda i: i["due_date"],
}


def test_every_sort_key_both_ways(bridge: Bridge) -> None:
    client, _zeta, _alpha, ids = _mixed(bridge)
    # The oldest case, edited last, is the most recently modified.
    bridge.sql("UPDATE cases SET last_modified_at = now() WHERE id = %s", ids["white"])
    items = bridge.list_cases(caller=client.caller, query={"page_size": 100})["items"]
    assert any(i["ship_date"] is None for i in items) and any(i["ship_date"] for i in items)
    for name, key in SORT_KEYS.items():
        for descending in (False, True):
            sort = f"-{name}" if descending else name
            page = bridge.list_cases(caller=client.caller, query={"sort": sort})
            assert _ids(page) == _nulls_last(items, key, descending), sort
    error = bridge.error("list_cases", caller=client.caller, query={"sort": "patient_name"})
    assert error.remote_kind == "invalid" and error.details[0]["field"] == "sort"


def test_sorting_by_the_other_office_from_the_labs_side(bridge: Bridge) -> None:
    lab = bridge.lab()
    offices = [bridge.office(name=n) for n in ("Maple Dental", "ash clinic", "Birch Dental")]
    for office in offices:
        bridge.new_case(office, lab)
    page = bridge.list_cases(caller=lab.caller, query={"sort": "other_office"})
    assert [i["client_office_name"] for i in page["items"]] == [
        "ash clinic",
        "Birch Dental",
        "Maple Dental",
    ]


def test_search_by_patient_or_case_id_and_pages(bridge: Bridge) -> None:
    client, _zeta, _alpha, ids = _mixed(bridge)
    found = bridge.list_cases(caller=client.caller, query={"q": "mAyA"})
    assert sorted(_ids(found)) == sorted([ids["green"], ids["red2"]])
    reference = bridge.get_case(caller=client.caller, case_id=ids["yellow"])["reference"]
    assert _ids(bridge.list_cases(caller=client.caller, query={"q": reference.lower()})) == [
        ids["yellow"]
    ]
    prefix = reference[:-1]  # the start of a case ID
    assert bridge.list_cases(caller=client.caller, query={"q": prefix})["total"] >= 1
    # A case ID is matched from its start only, and wildcards are plain text.
    assert bridge.list_cases(caller=client.caller, query={"q": reference[2:]})["total"] == 0
    assert bridge.list_cases(caller=client.caller, query={"q": "%"})["total"] == 0
    assert bridge.list_cases(caller=client.caller, query={"q": "_"})["total"] == 0

    full = _ids(bridge.list_cases(caller=client.caller))
    pages = [
        bridge.list_cases(caller=client.caller, query={"page": n, "page_size": 4})
        for n in (1, 2, 3)
    ]
    assert [p["total"] for p in pages] == [6, 6, 6]
    assert [len(p["items"]) for p in pages] == [4, 2, 0]
    assert _ids(pages[0]) + _ids(pages[1]) == full
    error = bridge.error("list_cases", caller=client.caller, query={"page_size": 101})
    assert error.details[0]["field"] == "page_size"


def test_archive_hides_from_the_clients_list_only(bridge: Bridge) -> None:
    client, zeta, _alpha, ids = _mixed(bridge)
    target = ids["yellow2"]
    before = bridge.get_case(caller=client.caller, case_id=target)
    archived = bridge.archive_case(caller=client.caller, case_id=target)
    assert archived["archived"] is True
    assert (archived["stage"], archived["last_modified_at"]) == (
        before["stage"],
        before["last_modified_at"],
    )
    assert target not in _ids(bridge.list_cases(caller=client.caller))
    assert bridge.list_cases(caller=client.caller)["total"] == 5
    only = bridge.list_cases(caller=client.caller, query={"archived": "only"})
    assert _ids(only) == [target] and only["items"][0]["archived"] is True
    assert bridge.list_cases(caller=client.caller, query={"archived": "include"})["total"] == 6

    # The lab's side does not change: listed, not archived, still worked on.
    lab_list = bridge.list_cases(caller=zeta.caller)
    assert target in _ids(lab_list)
    assert not any(i["archived"] for i in lab_list["items"])
    assert bridge.get_case(caller=zeta.caller, case_id=target)["archived"] is False
    assert bridge.move(zeta, target, "ready_to_plan")["stage"] == "ready_to_plan"
    for method in ("archive_case", "unarchive_case"):
        assert bridge.error(method, caller=zeta.caller, case_id=target).remote_kind == ("forbidden")

    restored = bridge.unarchive_case(caller=client.caller, case_id=target)
    assert restored["archived"] is False
    assert target in _ids(bridge.list_cases(caller=client.caller))
    assert bridge.list_cases(caller=client.caller, query={"archived": "only"})["total"] == 0


@pytest.mark.parametrize("archived", ["exclude", "only", "include"])
def test_the_labs_list_ignores_the_archive_filter_side(bridge: Bridge, archived: str) -> None:
    client, lab = bridge.office(), bridge.lab()
    case_id = bridge.new_case(client, lab)["id"]
    bridge.archive_case(caller=client.caller, case_id=case_id)
    page = bridge.list_cases(caller=lab.caller, query={"side": "lab", "archived": archived})
    # No case is archived on the lab's side: "only" finds none, the others list it.
    assert _ids(page) == ([] if archived == "only" else [case_id])
