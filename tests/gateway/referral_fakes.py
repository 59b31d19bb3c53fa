"""A fake of the referrals service that checks every call against services/referrals/README.md
and shared/contracts/referrals.py, and answers with contract-valid data."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from gateway.rpc import wire_kwargs
from shared.contracts import referrals as contract
from tests.gateway.fakes import Call
from tests.support.readme_rpc import check_call, rpc_signatures

NOW = datetime(2026, 11, 2, 15, 30, tzinfo=UTC)
PDF = b"%PDF-1.7\n% a referral slip\n%%EOF\n"


SIGNATURES = rpc_signatures("referrals")


def office_profile(office_id: uuid.UUID, notation: str = "universal") -> dict[str, Any]:
    return {
        "id": str(office_id),
        "name": "Bright Smiles",
        "kind": "general_practice",
        "specialty": None,
        "email": "frontdesk@brightsmiles.example",
        "phone": "+14165550134",
        "address": None,
        "time_zone": "America/Toronto",
        "notation": notation,
        "accepts_referrals": True,
        "providers": [],
    }


def detail(office_id: uuid.UUID, stage: str = "sent") -> dict[str, Any]:
    receiver = uuid.uuid4()
    note = note_out(office_id)
    data = {
        "id": str(uuid.uuid4()),
        "reference": "R-7K3F9Q",
        "stage": stage,
        "urgency": "routine",
        "sender": {"office": office_profile(office_id)},
        "receiver": {"office": office_profile(receiver, "fdi")},
        "patient": {
            "first_name": "Maya",
            "last_name": "Chen",
            "date_of_birth": "1988-04-12",
            "sex": "female",
            "phones": [],
            "email": None,
            "address": None,
            "preferred_contact": None,
            "insurance_note": None,
        },
        "procedures": [{"id": str(uuid.uuid4()), "name": "Third molar extraction"}],
        "other_procedures": None,
        "teeth": [{"iso": "16", "label": "3"}],
        "notation": "universal",
        "case_notes": None,
        "created_at": NOW.isoformat(),
        "sent_at": NOW.isoformat(),
        "updated_at": NOW.isoformat(),
        "appointment_at": None,
        "timeline": [
            {
                "stage": "sent",
                "at": NOW.isoformat(),
                "by_user_id": None,
                "by_office_id": str(office_id),
            }
        ],
        "notes": [note],
        "allowed_stages": ["cancelled"],
    }
    return contract.ReferralDetail.model_validate(data).model_dump(mode="json")


def note_out(office_id: uuid.UUID) -> dict[str, Any]:
    return contract.NoteOut(
        id=uuid.uuid4(),
        body="See you Tuesday",
        author_user_id=uuid.uuid4(),
        author_name="Dr. Amara Okafor",
        office_id=office_id,
        at=NOW,
        new=False,
    ).model_dump(mode="json")


def page() -> dict[str, Any]:
    return contract.ReferralPage(items=[], total=0, page=1, page_size=25).model_dump(mode="json")


def box() -> dict[str, Any]:
    return {"by_stage": {"sent": 1}, "needs_attention": 1, "unread_notes": 0}


def procedure() -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "name": "Third molar extraction"}


def default_answers(office_id: uuid.UUID) -> dict[str, Callable[[], Any]]:
    """A contract-valid answer for every method the gateway calls."""
    return {
        "create_referral": lambda: detail(office_id),
        "update_draft": lambda: detail(office_id, "draft"),
        "send_draft": lambda: detail(office_id),
        "delete_draft": lambda: None,
        "get_referral": lambda: detail(office_id),
        "list_referrals": page,
        "get_dashboard": lambda: {"sent": box(), "received": box()},
        "change_stage": lambda: detail(office_id, "accepted"),
        "list_notes": lambda: [note_out(office_id)],
        "add_note": lambda: note_out(office_id),
        "mark_notes_read": lambda: None,
        "list_procedures": lambda: [procedure()],
        "add_procedure": procedure,
        "remove_procedure": lambda: None,
        "render_pdf": lambda: {
            "filename": "R-7K3F9Q.pdf",
            "content_base64": base64.b64encode(PDF).decode(),
        },
    }


class FakeReferrals:
    """Stands in for gateway.rpc.Services. Every call must use exactly the keyword arguments
    the referrals README gives the method, with payloads valid against the named contract."""

    def __init__(self, answers: dict[str, Callable[[], Any]]) -> None:
        self.answers = answers
        self.calls: list[Call] = []
        self.timeouts: list[float | None] = []
        self.errors: dict[str, Exception] = {}  # method -> error to raise instead
        self.names = ("referrals",)

    async def call(
        self, service: str, method: str, *, timeout: float | None = None, **kwargs: Any
    ) -> Any:
        kwargs = wire_kwargs(kwargs)
        assert service == "referrals", service
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
