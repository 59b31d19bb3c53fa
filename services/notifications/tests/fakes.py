"""Tiny stand-ins for the services the notifications service asks (identity, referrals,
cases), running as real nameko services on the test broker, answering from ``World``.

Their answers are built from the contracts (``OfficeProfile``, ``UserOut``,
``IssuedLink``), so a consumer that reads a field the contract lacks fails here too.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from icalendar import Calendar, Event

from shared.contracts.common import Caller
from shared.contracts.identity import IssuedLink, LinkPurpose, OfficeProfile, UserOut
from shared.entrypoints import rpc
from shared.errors import Conflict, NotFound
from shared.teeth import Notation

PATIENT_NAME = "Maya Chen"  # only ever in the case brief: must never reach a subject line


@dataclass
class Office:
    id: uuid.UUID
    name: str
    email: str
    time_zone: str = "America/Toronto"
    users: list[dict[str, Any]] = field(default_factory=list)

    def profile(self) -> dict[str, Any]:
        return OfficeProfile(
            id=self.id,
            name=self.name,
            kind="specialist",
            email=self.email,
            phone="+14165550100",
            time_zone=self.time_zone,
            notation=Notation.UNIVERSAL,
            accepts_referrals=True,
        ).model_dump(mode="json")

    def add_user(self, email: str) -> uuid.UUID:
        user = UserOut(
            id=uuid.uuid4(),
            office_id=self.id,
            email=email,
            name=email.split("@")[0],
            role="staff",
            verified=True,
            created_at=datetime.now(UTC),
        )
        self.users.append(user.model_dump(mode="json"))
        return user.id

    @property
    def user_ids(self) -> list[uuid.UUID]:
        return [uuid.UUID(u["id"]) for u in self.users]

    @property
    def addresses(self) -> list[str]:
        return [u["email"] for u in self.users]


@dataclass
class World:
    """What the fakes know; a test fills it in before publishing events."""

    offices: dict[uuid.UUID, Office] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)  # link_id -> url
    dead_links: set[str] = field(default_factory=set)  # used or replaced
    owners: dict[str, list[uuid.UUID]] = field(default_factory=dict)  # referral/case -> offices
    drafts: set[str] = field(default_factory=set)  # referrals only their sender sees
    cases: dict[str, dict[str, Any]] = field(default_factory=dict)  # case_id -> brief
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def office(self, name: str, *users: str) -> Office:
        slug = name.lower().replace(" ", "")
        office = Office(uuid.uuid4(), name, f"desk@{slug}.example")
        for user in users:
            office.add_user(user)
        self.offices[office.id] = office
        return office

    def link(self, url: str) -> uuid.UUID:
        link_id = uuid.uuid4()
        self.links[str(link_id)] = url
        return link_id

    def case(self, client: Office, lab: Office, reference: str) -> uuid.UUID:
        case_id = uuid.uuid4()
        self.owners[str(case_id)] = [client.id, lab.id]
        self.cases[str(case_id)] = {
            "id": str(case_id),
            "reference": reference,
            "patient_name": PATIENT_NAME,
            "description": f"Implant guide for {PATIENT_NAME}",
            "teeth": [{"iso": "36", "label": "19"}, {"iso": "46", "label": "30"}],
            "stage": "processing",
            "stage_label": "Processing",
            "due_date": "2026-12-15",
            "ship": {"earliest": "2026-12-08", "latest": "2026-12-10"},
            "client": client.profile(),
            "lab": lab.profile(),
            "url": f"https://bw.example/cases/{case_id}",
        }
        return case_id


WORLD = World()


def _ics(case_id: str, reference: str) -> str:
    calendar = Calendar()
    calendar.add("prodid", "-//Bridgework//Planning//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"{case_id}@bridgework")
    event.add("dtstamp", datetime.now(UTC))
    start = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
    event.add("dtstart", start)
    event.add("dtend", start + timedelta(minutes=45))
    event.add("summary", f"Planning session: case {reference}")
    calendar.add_component(event)
    return str(calendar.to_ical().decode("utf-8"))


def _seen(method: str, **kwargs: Any) -> None:
    WORLD.calls.append((method, kwargs))


class FakeIdentity:
    name = "identity"

    @rpc
    def issue_link(self, link_id: str) -> dict[str, Any]:
        _seen("issue_link", link_id=link_id)
        if link_id in WORLD.dead_links:
            raise Conflict("This link was already used or replaced by a newer one.")
        if link_id not in WORLD.links:
            raise NotFound("No such link.")
        return IssuedLink(
            purpose=LinkPurpose.verify_email,
            url=WORLD.links[link_id],
            email="someone@example.com",
            expires_at=datetime.now(UTC) + timedelta(hours=1),
        ).model_dump(mode="json")

    @rpc
    def get_office_profiles(self, office_ids: list[str]) -> list[dict[str, Any]]:
        _seen("get_office_profiles", office_ids=office_ids)
        found = [WORLD.offices.get(uuid.UUID(i)) for i in office_ids]
        return [office.profile() for office in found if office is not None]

    @rpc
    def list_office_members(self, office_id: str) -> list[dict[str, Any]]:
        _seen("list_office_members", office_id=office_id)
        office = WORLD.offices.get(uuid.UUID(office_id))
        return list(office.users) if office is not None else []


def _access(caller: dict[str, Any], owner_id: str) -> dict[str, Any]:
    who = Caller.model_validate(caller)
    offices = WORLD.owners.get(owner_id, [])
    hidden = owner_id in WORLD.drafts and offices and who.office_id != offices[0]
    if who.office_id not in offices or hidden:
        raise NotFound("No such referral or case.")
    return {"may_view": True, "may_add": True, "office_ids": [str(o) for o in offices]}


class FakeReferrals:
    name = "referrals"

    @rpc
    def check_access(self, caller: dict[str, Any], referral_id: str) -> dict[str, Any]:
        _seen("referrals.check_access", caller=caller, referral_id=referral_id)
        return _access(caller, referral_id)


class FakeCases:
    name = "cases"

    @rpc
    def check_access(self, caller: dict[str, Any], case_id: str) -> dict[str, Any]:
        _seen("cases.check_access", caller=caller, case_id=case_id)
        return _access(caller, case_id)

    @rpc
    def get_case_brief(self, case_id: str) -> dict[str, Any]:
        _seen("get_case_brief", case_id=case_id)
        if case_id not in WORLD.cases:
            raise NotFound("No such case.")
        return WORLD.cases[case_id]

    @rpc
    def render_booking_ics(self, caller: dict[str, Any], case_id: str) -> dict[str, Any]:
        _seen("render_booking_ics", caller=caller, case_id=case_id)
        _access(caller, case_id)
        reference = WORLD.cases[case_id]["reference"]
        return {"filename": f"{reference}-planning.ics", "content": _ics(case_id, reference)}
