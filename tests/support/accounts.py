"""Offices and people on a running stack, made the way a person makes them: over HTTP.

The e-mailed links are read from the messages the notifications service
wrote to the stack's mail folder, as a person would open them.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import phonenumbers

from shared.rpc_client import RpcClient
from tests.support.events import EventTap, event_tap
from tests.support.infra import token
from tests.support.smtp import eml_link_token
from tests.support.stack import Stack

PASSWORD = "Molar-Crown-2026"
# The path of the link each identity event's e-mail carries.
LINK_PATHS = {
    "office_registered": "/verify",
    "verification_resent": "/verify",
    "invitation_sent": "/invitation",
    "password_reset_requested": "/reset-password",
}


@dataclass
class Account:
    """A signed-in person of an office, calling the API with a bearer token."""

    stack: Stack
    email: str
    password: str
    office_id: str
    user_id: str
    tokens: dict[str, Any] = field(default_factory=dict)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens['access_token']}"}

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.stack.http.request(method, path, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", path, **kwargs)


class Platform:
    """The running stack, with what a test needs to act as the outside world."""

    def __init__(self, stack: Stack, rpc: RpcClient, tap: EventTap) -> None:
        self.stack = stack
        self.rpc = rpc
        self.events = tap
        self.http = stack.http
        self.key_file: Path | None = None

    def link_token(self, event_type: str, email: str) -> str:
        """The token of the link in the latest ``event_type`` e-mail to ``email``, read from
        the message the notifications service wrote to the stack's MAIL_DIR (asking
        identity for the link here would void the one that was e-mailed)."""

        def to_email(data: dict[str, Any]) -> bool:
            return bool(data.get("email") == email)

        if not self.events.all(event_type, to_email):
            self.events.wait(event_type, to_email)
        path = LINK_PATHS[event_type]
        sent = sum(
            len(self.events.all(other, to_email))
            for other, other_path in LINK_PATHS.items()
            if other_path == path
        )
        return eml_link_token(self.stack.mail_dir, email, path, after=sent - 1)

    def sign_up(self, email: str | None = None, phone: str | None = None) -> dict[str, Any]:
        email = email or f"office-{token()}@example.com"
        answer = self.http.post(
            "/api/v1/auth/signup",
            json={"email": email, "phone": phone or unique_phone(), "password": PASSWORD},
        )
        assert answer.status_code == 201, answer.text
        return {"email": email, **answer.json()}

    def verify(self, email: str, event_type: str = "office_registered") -> None:
        answer = self.http.post(
            "/api/v1/auth/verify", json={"token": self.link_token(event_type, email)}
        )
        assert answer.status_code == 200, answer.text

    def log_in(self, email: str, password: str = PASSWORD) -> Account:
        answer = self.http.post("/api/v1/auth/login", json={"email": email, "password": password})
        assert answer.status_code == 200, answer.text
        tokens = answer.json()
        account = Account(self.stack, email, password, "", "", tokens)
        me = account.get("/api/v1/me").json()
        account.office_id, account.user_id = me["office"]["id"], me["user"]["id"]
        return account

    def office(
        self,
        *,
        name: str | None = None,
        kind: str = "general_practice",
        specialty: str | None = None,
        city: str = "Toronto",
        providers: tuple[str, ...] = ("Dr. Ada Lovelace",),
        notation: str = "universal",
    ) -> Account:
        """A verified office with its setup done, and its admin signed in."""
        signed_up = self.sign_up()
        self.verify(signed_up["email"])
        admin = self.log_in(signed_up["email"])
        set_up_office(
            admin,
            name=name or f"Office {token()}",
            kind=kind,
            specialty=specialty,
            city=city,
            providers=providers,
            notation=notation,
        )
        return admin


def set_up_office(
    admin: Account,
    *,
    name: str,
    kind: str,
    specialty: str | None,
    city: str,
    providers: tuple[str, ...],
    notation: str,
) -> None:
    """The one-time setup: office information, providers, notation, terms."""
    office = {
        "name": name,
        "kind": kind,
        "specialty": specialty,
        "phone": unique_phone(),
        "address": {
            "street": "120 King St W",
            "city": city,
            "region": "ON",
            "postal_code": "M5H 1J9",
            "country": "CA",
        },
        "time_zone": "America/Toronto",
        "notation": notation,
    }
    answer = admin.patch("/api/v1/office", json=office)
    assert answer.status_code == 200, answer.text
    for display_name in providers:
        created = admin.post("/api/v1/office/providers", json={"display_name": display_name})
        assert created.status_code == 201, created.text
    version = answer.json()["setup"]["terms_version"]
    accepted = admin.post("/api/v1/office/terms", json={"version": version})
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["setup"]["complete"] is True


_used_phones: set[str] = set()


def unique_phone() -> str:
    """A valid Toronto number that no other test of this run uses."""
    while True:
        exchange, line = 200 + random.randrange(800), random.randrange(10000)
        number = f"+1 416 {exchange} {line:04d}"
        parsed = phonenumbers.parse(number)
        if phonenumbers.is_valid_number(parsed) and number not in _used_phones:
            _used_phones.add(number)
            return number


@contextlib.contextmanager
def platform(stack: Stack) -> Iterator[Platform]:
    """The stack plus an RPC client and a tap on identity's events."""
    rpc = RpcClient(stack.amqp_uri, name="bwtest", default_timeout=10)
    rpc.start()
    try:
        with event_tap(stack.amqp_uri, "identity") as tap:
            yield Platform(stack, rpc, tap)
    finally:
        rpc.stop()
