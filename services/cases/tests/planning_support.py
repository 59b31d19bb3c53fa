"""Acting as the gateway towards the cases service for planning tests, identity beside it.

Offices and users are written straight into identity's database (what sign-up
and setup would leave there); the cases service reads them through identity's
RPC, as in production. Cases are made and moved to Ready to Plan through the
cases service's own RPC methods, the way a client and a lab do it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tests.support.infra import sql_rows, token
from tests.support.service_driver import ServiceDriver

# The PUBLIC_URL the ``planner`` fixture (conftest.py) gives the service.
PUBLIC_URL = "https://bridgework.test"


@dataclass
class Office:
    """An office with one user: ``caller`` is what the gateway passes."""

    id: str
    name: str
    kind: str
    time_zone: str
    user_id: str

    @property
    def caller(self) -> dict[str, Any]:
        return {"office_id": self.id, "user_id": self.user_id, "role": "admin"}


class Planner(ServiceDriver):
    """The cases service (``rpc``) and identity's database (offices)."""

    def __init__(self, rpc: Any, config: dict[str, Any], identity_db: str) -> None:
        super().__init__(rpc, config)
        self.identity_db = identity_db

    def office(
        self, *, kind: str = "general_practice", time_zone: str = "America/Toronto", name: str = ""
    ) -> Office:
        """A set-up office in identity's database."""
        office_id, user_id = str(uuid.uuid4()), str(uuid.uuid4())
        name = name or f"{'Lab' if kind == 'lab' else 'Clinic'} {token()}"
        sql_rows(
            self.identity_db,
            "INSERT INTO offices (id, name, kind, email, phone, address, time_zone, notation,"
            " accepts_referrals) VALUES (%s, %s, %s, %s, %s, %s, %s, 'universal', true)",
            office_id,
            name,
            kind,
            f"{token()}@example.com",
            f"+1416{uuid.uuid4().int % 10**7:07d}",
            '{"street": "1 King St", "city": "Toronto", "region": "ON",'
            ' "postal_code": "M5H 1J9", "country": "CA"}',
            time_zone,
        )
        sql_rows(
            self.identity_db,
            "INSERT INTO users (id, office_id, email, name, role, password_hash, verified_at)"
            " VALUES (%s, %s, %s, %s, 'admin', 'x', now())",
            user_id,
            office_id,
            f"{token()}@example.com",
            f"Staff of {name}",
        )
        return Office(office_id, name, kind, time_zone, user_id)

    def lab(self, **kwargs: Any) -> Office:
        return self.office(kind="lab", **kwargs)

    def ready_case(self, client: Office, lab: Office, *, patient: str = "Maya Chen") -> str:
        """A new case moved by the lab to Ready to Plan; its id."""
        created = self.rpc.create_case(
            caller=client.caller,
            payload={
                "lab_office_id": lab.id,
                "patient_name": patient,
                "description": "Surgical guide for implants at 36 and 46",
                "teeth": ["19", "30"],
            },
        )
        case_id = created["case"]["id"]
        for stage in ("processing", "received", "ready_to_plan"):
            self.rpc.change_stage(caller=lab.caller, case_id=case_id, payload={"stage": stage})
        return case_id

    def slot(
        self,
        lab: Office,
        *,
        day: date | None = None,
        at: time = time(10, 0),
        minutes: int = 60,
        **extra: Any,
    ) -> dict[str, Any]:
        """One published slot of ``lab`` at ``at`` (lab's wall time) on ``day`` (default: in a
        week); extra fields go into the SlotIn payload."""
        day = day or (datetime.now(ZoneInfo(lab.time_zone)).date() + timedelta(days=7))
        start = datetime.combine(day, at)
        payload = {
            "start": start.isoformat(),
            "end": (start + timedelta(minutes=minutes)).isoformat(),
            "time_zone": lab.time_zone,
            "mode": "video",
            "join_url": "https://meet.example.com/plan-42",
            **extra,
        }
        return self.rpc.publish_slots(caller=lab.caller, payload=payload)[0]


def aware(value: str) -> datetime:
    """An ISO timestamp from an answer, as an aware datetime."""
    return datetime.fromisoformat(value)
