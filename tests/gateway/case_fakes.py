"""A fake of the cases service that checks every call against services/cases/README.md and
shared/contracts/cases.py, and answers with contract-valid data."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from gateway.rpc import wire_kwargs
from shared.contracts import cases as contract
from tests.gateway.fakes import Call
from tests.support.readme_rpc import check_call, rpc_signatures

NOW = datetime(2026, 11, 2, 15, 30, tzinfo=UTC)
PDF = b"%PDF-1.7\n% an RX script\n%%EOF\n"
ICS = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Bridgework//Cases//EN\r\n"
    "BEGIN:VEVENT\r\nUID:b@bridgework\r\nDTSTAMP:20261102T153000Z\r\n"
    "SUMMARY:Planning C-2026-00042\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)

SIGNATURES = rpc_signatures("cases")


def office_profile(office_id: uuid.UUID, kind: str = "general_practice") -> dict[str, Any]:
    return {
        "id": str(office_id),
        "name": "Acme Dental Lab" if kind == "lab" else "Bright Smiles",
        "kind": kind,
        "specialty": None,
        "email": "frontdesk@brightsmiles.example",
        "phone": "+14165550134",
        "address": None,
        "time_zone": "America/Toronto",
        "notation": "universal",
        "accepts_referrals": False,
        "providers": [],
    }


def booking(case_id: str | None = None) -> dict[str, Any]:
    case_id = case_id or str(uuid.uuid4())
    start = NOW + timedelta(days=3)
    return contract.BookingOut.model_validate(
        {
            "id": str(uuid.uuid4()),
            "case_id": case_id,
            "slot_id": str(uuid.uuid4()),
            "start": start.isoformat(),
            "end": (start + timedelta(minutes=45)).isoformat(),
            "time_zone": "America/Toronto",
            "mode": "video",
            "join_url": "https://meet.example.com/acme",
            "join_details": None,
            "booked_at": NOW.isoformat(),
            "booked_by_user_id": str(uuid.uuid4()),
            "google_calendar_url": "https://calendar.google.com/calendar/render?action=TEMPLATE",
            "ics_path": f"/api/v1/cases/{case_id}/booking.ics",
        }
    ).model_dump(mode="json")


def detail(office_id: uuid.UUID, stage: str = "missing_files") -> dict[str, Any]:
    case_id = str(uuid.uuid4())
    data = {
        "id": case_id,
        "reference": "C-2026-00042",
        "patient_name": "Maya Chen",
        "description": "Surgical guide for 19 and 30",
        "teeth": [{"iso": "36", "label": "19"}, {"iso": "46", "label": "30"}],
        "notation": "universal",
        "stage": stage,
        "stage_label": contract.STAGE_LABELS[contract.CaseStage(stage)],
        "colour": "red",
        "side": "client",
        "client": office_profile(office_id),
        "lab": office_profile(uuid.uuid4(), "lab"),
        "created_by_user_id": str(uuid.uuid4()),
        "created_at": NOW.isoformat(),
        "last_modified_at": NOW.isoformat(),
        "due_date": None,
        "ship": {"earliest": None, "latest": None},
        "shipment": None,
        "booking": booking(case_id) if stage == "planning_scheduled" else None,
        "archived": False,
        "history": [
            {
                "stage": "missing_files",
                "previous_stage": None,
                "at": NOW.isoformat(),
                "by_office_id": str(office_id),
                "by_user_id": None,
            }
        ],
        "file_ids": [],
        "allowed_stages": [],
        "editable": True,
        "url": f"https://bridgework.example/cases/{case_id}",
    }
    return contract.CaseDetail.model_validate(data).model_dump(mode="json")


def created(office_id: uuid.UUID) -> dict[str, Any]:
    case = detail(office_id)
    return contract.CaseCreated.model_validate(
        {
            "case": case,
            "confirmation": "Case C-2026-00042 was sent to Acme Dental Lab.",
            "rx_pdf_path": f"/api/v1/cases/{case['id']}/rx.pdf",
        }
    ).model_dump(mode="json")


def page() -> dict[str, Any]:
    return contract.CasePage(items=[], total=0, page=1, page_size=25).model_dump(mode="json")


def estimate() -> dict[str, Any]:
    return contract.ShipEstimate(earliest=date(2026, 11, 12), latest=date(2026, 11, 20)).model_dump(
        mode="json"
    )


def turnaround() -> dict[str, Any]:
    rules = [contract.TurnaroundIn(stage=contract.CaseStage.manufacturing, min_days=2, max_days=7)]
    return contract.TurnaroundRules(rules=rules).model_dump(mode="json")


def slot() -> dict[str, Any]:
    start = NOW + timedelta(days=3)
    return contract.SlotOut(
        id=uuid.uuid4(),
        lab_office_id=uuid.uuid4(),
        start=start,
        end=start + timedelta(minutes=45),
        time_zone="Europe/Berlin",
        lab_time_zone="America/Toronto",
        mode=contract.SessionMode.video,
    ).model_dump(mode="json")


def feed(url: str | None = None) -> dict[str, Any]:
    return contract.CalendarFeedOut(url=url, created_at=NOW, active=True).model_dump(mode="json")


def note(office_id: uuid.UUID, *, new: bool = False) -> dict[str, Any]:
    return contract.CaseNoteOut(
        id=uuid.uuid4(),
        body="Please send the upper scan again.",
        author_user_id=uuid.uuid4(),
        author_name="Dr. Ada Okafor",
        office_id=office_id,
        at=NOW,
        new=new,
    ).model_dump(mode="json")


def default_answers(office_id: uuid.UUID) -> dict[str, Callable[[], Any]]:
    """A contract-valid answer for every method the gateway calls."""
    return {
        "create_case": lambda: created(office_id),
        "get_case": lambda: detail(office_id),
        "list_cases": page,
        "edit_case": lambda: detail(office_id, "processing"),
        "preview_edit": estimate,
        "change_stage": lambda: detail(office_id, "received"),
        "archive_case": lambda: detail(office_id),
        "unarchive_case": lambda: detail(office_id),
        "render_rx": lambda: {
            "filename": "C-2026-00042-rx.pdf",
            "content_base64": base64.b64encode(PDF).decode(),
        },
        "get_turnaround": turnaround,
        "set_turnaround": turnaround,
        "publish_slots": lambda: [slot(), slot()],
        "list_slots": lambda: [slot()],
        "delete_slot": lambda: None,
        "book_slot": booking,
        "get_booking": booking,
        "reschedule_booking": booking,
        "cancel_booking": lambda: detail(office_id, "ready_to_plan"),
        "mark_no_show": lambda: detail(office_id, "planning_no_show"),
        "render_booking_ics": lambda: {"filename": "C-2026-00042-planning.ics", "content": ICS},
        "create_calendar_feed": lambda: feed("https://bridgework.example/api/v1/calendar/x.ics"),
        "get_calendar_feed": feed,
        "revoke_calendar_feed": lambda: None,
        "render_calendar_feed": lambda: {"content": ICS},
        "list_notes": lambda: [note(office_id), note(uuid.uuid4(), new=True)],
        "add_note": lambda: note(office_id),
        "mark_notes_read": lambda: None,
    }


class FakeCases:
    """Stands in for gateway.rpc.Services. Every call must use exactly the keyword arguments
    the cases README gives the method, with payloads valid against the named contract."""

    def __init__(self, answers: dict[str, Callable[[], Any]]) -> None:
        self.answers = answers
        self.calls: list[Call] = []
        self.timeouts: list[float | None] = []
        self.errors: dict[str, Exception] = {}  # method -> error to raise instead
        self.names = ("cases",)

    async def call(
        self, service: str, method: str, *, timeout: float | None = None, **kwargs: Any
    ) -> Any:
        kwargs = wire_kwargs(kwargs)
        if service == "files":  # the case file routes: checked against the files README
            from shared.contracts import files

            check_call(service, method, kwargs, files)
            self.calls.append(Call(service, method, kwargs))
            if method in self.errors:
                raise self.errors[method]
            return {"ours": [], "theirs": []}
        assert service == "cases", service
        check_call(service, method, kwargs, contract)
        self.calls.append(Call(service, method, kwargs))
        self.timeouts.append(timeout)
        if method in self.errors:
            raise self.errors[method]
        return self.answers[method]()

    def last(self, method: str | None = None) -> Call:
        calls = [c for c in self.calls if method is None or c.method == method]
        assert calls, f"no call to {method}"
        return calls[-1]

    def methods(self) -> list[str]:
        return [c.method for c in self.calls]
