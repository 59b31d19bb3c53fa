"""Acting as the gateway towards the cases service, with identity running beside it.

Offices and users are written straight into identity's database (what sign-up
and setup would leave there), which keeps each test fast; the cases service
still reads them through identity's RPC, as in production. Errors come back as
``shared.errors.RemoteError`` (``remote_kind``, ``details``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shared.contracts.events import EventEnvelope
from shared.contracts.files import FileKind, FileUploaded, OwnerType
from shared.outbox import EventPublisher
from tests.support.infra import sql_rows, token
from tests.support.service_driver import ServiceDriver


@dataclass
class Office:
    """An office with one user: ``caller`` is what the gateway passes."""

    id: str
    name: str
    kind: str
    notation: str
    user_id: str

    @property
    def caller(self) -> dict[str, Any]:
        return {"office_id": self.id, "user_id": self.user_id, "role": "admin"}

    @property
    def staff(self) -> dict[str, Any]:
        return {"office_id": self.id, "user_id": self.user_id, "role": "staff"}


class Bridge(ServiceDriver):
    """The cases service (``rpc``) and identity's database (offices)."""

    def __init__(self, rpc: Any, config: dict[str, Any], identity_db: str) -> None:
        super().__init__(rpc, config)
        self.identity_db = identity_db

    def office(
        self,
        *,
        kind: str = "general_practice",
        notation: str = "universal",
        time_zone: str = "America/Toronto",
        name: str | None = None,
    ) -> Office:
        """A set-up office in identity's database."""
        office_id, user_id = str(uuid.uuid4()), str(uuid.uuid4())
        name = name or f"{'Lab' if kind == 'lab' else 'Clinic'} {token()}"
        sql_rows(
            self.identity_db,
            "INSERT INTO offices (id, name, kind, email, phone, address, time_zone, notation,"
            " accepts_referrals) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, true)",
            office_id,
            name,
            kind,
            f"{token()}@example.com",
            f"+1416{uuid.uuid4().int % 10**7:07d}",
            '{"street": "1 King St", "city": "Toronto", "region": "ON",'
            ' "postal_code": "M5H 1J9", "country": "CA"}',
            time_zone,
            notation,
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
        return Office(office_id, name, kind, notation, user_id)

    def lab(self, **kwargs: Any) -> Office:
        return self.office(kind="lab", **kwargs)

    def new_case(self, client: Office, lab: Office, **overrides: Any) -> dict[str, Any]:
        """A case created by ``client`` for ``lab`` (its detail as the client sees it)."""
        created = self.rpc.create_case(caller=client.caller, payload=case_in(lab, **overrides))
        return created["case"]

    def move(self, lab: Office, case_id: str, *stages: str, **extra: Any) -> dict[str, Any]:
        """The lab moves the case through ``stages`` in turn; the last answer."""
        answer: dict[str, Any] = {}
        for stage in stages:
            answer = self.rpc.change_stage(
                caller=lab.caller, case_id=case_id, payload={"stage": stage, **extra}
            )
        return answer

    def set_stage(self, case_id: str, stage: str) -> None:
        """Put a case straight into ``stage`` in the database (to test from any stage)."""
        self.sql("UPDATE cases SET stage = %s WHERE id = %s", stage, case_id)

    def upload(self, case_id: str, by: Office, *, deliveries: int = 1) -> str:
        """The files service announces a file of the case (``deliveries`` times); its id."""
        file_id = uuid.uuid4()
        event = FileUploaded(
            file_id=file_id,
            owner_type=OwnerType.case,
            owner_id=uuid.UUID(case_id),
            kind=FileKind.dicom,
            uploaded_by_office_id=uuid.UUID(by.id),
            uploaded_by_user_id=uuid.UUID(by.user_id),
        )
        envelope = EventEnvelope.wrap(event, producer="files").model_dump(mode="json")
        publisher = EventPublisher(self.config["AMQP_URI"], "files")
        try:
            for _ in range(deliveries):
                assert publisher.publish(envelope, headers={})
        finally:
            publisher.close()
        return str(file_id)


def case_in(lab: Office, **overrides: Any) -> dict[str, Any]:
    """A complete new-case payload for ``lab``."""
    return {
        "lab_office_id": lab.id,
        "patient_name": "Maya Chen",
        "description": "Surgical guide for implants at 36 and 46, 4.1 x 10 mm",
        "teeth": ["19", "30"],
        **overrides,
    }


def utc(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC)
