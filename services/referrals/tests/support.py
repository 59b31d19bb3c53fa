"""Acting as the gateway towards the referrals service, with identity running beside it.

Offices, providers and users are written straight into identity's database
(what sign-up and setup would leave there), which keeps each test fast; the
referrals service still reads them through identity's RPC, as in production.
Errors come back as ``shared.errors.RemoteError`` (``remote_kind``, ``details``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from tests.support.infra import sql_rows, token
from tests.support.service_driver import ServiceDriver


@dataclass
class Office:
    """An office with its providers and one user: ``caller`` is what the gateway passes."""

    id: str
    name: str
    notation: str
    providers: list[str]
    user_id: str
    procedures: list[str] = field(default_factory=list)

    @property
    def caller(self) -> dict[str, Any]:
        return {"office_id": self.id, "user_id": self.user_id, "role": "admin"}


class Bridge(ServiceDriver):
    """The referrals service (``rpc``) and identity's database (offices)."""

    def __init__(self, rpc: Any, config: dict[str, Any], identity_db: str) -> None:
        super().__init__(rpc, config)
        self.identity_db = identity_db

    def office(
        self,
        *,
        notation: str = "universal",
        accepts_referrals: bool = True,
        providers: tuple[str, ...] = ("Dr. Ada Lovelace",),
        procedures: tuple[str, ...] = (),
        name: str | None = None,
    ) -> Office:
        """A set-up office in identity's database, with its procedure list here."""
        office_id, user_id, name = str(uuid.uuid4()), str(uuid.uuid4()), name or f"Office {token()}"
        sql_rows(
            self.identity_db,
            "INSERT INTO offices (id, name, kind, email, phone, address, time_zone, notation,"
            " accepts_referrals) VALUES (%s, %s, 'specialist', %s, %s, %s, 'America/Toronto',"
            " %s, %s)",
            office_id,
            name,
            f"{token()}@example.com",
            f"+1416{uuid.uuid4().int % 10**7:07d}",
            '{"street": "1 King St", "city": "Toronto", "region": "ON",'
            ' "postal_code": "M5H 1J9", "country": "CA"}',
            notation,
            accepts_referrals,
        )
        provider_ids = []
        for display_name in providers:
            provider_ids.append(str(uuid.uuid4()))
            sql_rows(
                self.identity_db,
                "INSERT INTO providers (id, office_id, display_name) VALUES (%s, %s, %s)",
                provider_ids[-1],
                office_id,
                display_name,
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
        office = Office(office_id, name, notation, provider_ids, user_id)
        for procedure in procedures:
            added = self.rpc.add_procedure(caller=office.caller, payload={"name": procedure})
            office.procedures.append(added["id"])
        return office


def patient(**overrides: Any) -> dict[str, Any]:
    return {
        "first_name": "Maya",
        "last_name": "Chen",
        "date_of_birth": "1988-04-12",
        "sex": "female",
        "phones": ["+1 416 555 0199"],
        "email": "maya.chen@example.com",
        "preferred_contact": "text",
        **overrides,
    }


def referral(sender: Office, receiver: Office, **overrides: Any) -> dict[str, Any]:
    """A complete referral payload from ``sender`` to ``receiver``."""
    return {
        "receiver_office_id": receiver.id,
        "referring_provider_id": sender.providers[0],
        "requested_provider_id": receiver.providers[0] if receiver.providers else None,
        "patient": patient(),
        "procedure_ids": receiver.procedures[:1],
        "urgency": "soon",
        "teeth": ["3"],
        "case_notes": "Please assess.",
        **overrides,
    }
