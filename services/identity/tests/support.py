"""Acting as the gateway and the mail towards an identity service running in-process.

Errors come back as ``shared.errors.RemoteError`` (with ``remote_kind`` and
``details``) rather than nameko's own, so tests check what the gateway sees.
Events are read from the service's outbox table, the way they leave it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.support.accounts import PASSWORD, unique_phone
from tests.support.infra import token
from tests.support.service_driver import ServiceDriver

IP = "198.51.100.7"


def new_email(prefix: str = "office") -> str:
    return f"{prefix}-{token()}@example.com"


@dataclass
class Account:
    """A signed-in person: the caller the gateway would pass, and their tokens."""

    email: str
    office_id: str
    user_id: str
    role: str
    tokens: dict[str, Any]

    @property
    def caller(self) -> dict[str, Any]:
        return {"office_id": self.office_id, "user_id": self.user_id, "role": self.role}


class Identity(ServiceDriver):
    """The running service, with what a test needs to act as the gateway and the mail."""

    def link(self, event_type: str, **match: Any) -> dict[str, Any]:
        """The link the latest matching event's e-mail would carry (as notifications asks)."""
        event = self.events(event_type, **match)[-1]
        return self.rpc.issue_link(link_id=event["link_id"])

    def link_token(self, event_type: str, **match: Any) -> str:
        return parse_qs(urlparse(self.link(event_type, **match)["url"]).query)["token"][0]

    def sign_up(self, email: str | None = None, phone: str | None = None) -> dict[str, Any]:
        email = email or new_email()
        payload = {"email": email, "phone": phone or unique_phone(), "password": PASSWORD}
        return {**payload, **self.rpc.sign_up(payload=payload, client_ip=IP)}

    def log_in(self, email: str, password: str = PASSWORD, ip: str = IP) -> Account:
        tokens = self.rpc.log_in(
            payload={"email": email, "password": password}, client_ip=ip, user_agent="pytest"
        )
        user = self.sql("SELECT office_id, id, role FROM users WHERE email = %s", email.lower())
        office_id, user_id, role = user[0]
        return Account(email.lower(), str(office_id), str(user_id), role, tokens)

    def office(
        self,
        *,
        name: str | None = None,
        kind: str = "general_practice",
        specialty: str | None = None,
        city: str = "Toronto",
        providers: tuple[str, ...] = ("Dr. Ada Lovelace",),
        setup: bool = True,
    ) -> Account:
        """A verified office (set up unless told not to) and its admin, signed in."""
        signed_up = self.sign_up()
        self.rpc.verify_email(
            token=self.link_token("office_registered", user_id=signed_up["user_id"])
        )
        admin = self.log_in(signed_up["email"])
        if setup:
            self.set_up(
                admin,
                name=name or f"Office {token()}",
                kind=kind,
                specialty=specialty,
                city=city,
                providers=providers,
            )
        return admin

    def set_up(
        self,
        admin: Account,
        *,
        name: str,
        kind: str,
        specialty: str | None,
        city: str,
        providers: tuple[str, ...],
    ) -> dict[str, Any]:
        """The one-time setup: office information, providers, terms."""
        self.rpc.update_office(
            caller=admin.caller,
            payload={
                "name": name,
                "kind": kind,
                "specialty": specialty,
                "address": {
                    "street": "120 King St W",
                    "city": city,
                    "region": "ON",
                    "postal_code": "M5H 1J9",
                    "country": "CA",
                },
            },
        )
        for display_name in providers:
            self.rpc.create_provider(caller=admin.caller, payload={"display_name": display_name})
        version = self.rpc.get_office(caller=admin.caller)["setup"]["terms_version"]
        return self.rpc.accept_terms(
            caller=admin.caller, payload={"version": version}, client_ip=IP
        )
