"""Test doubles for the gateway: signing keys, token minting, and a fake of the identity service
that checks every call against services/identity/README.md and the contracts."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm

from gateway.rpc import wire_kwargs
from shared.contracts import identity as contract
from shared.contracts.common import Caller
from tests.support.readme_rpc import check_call

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


# ----------------------------------------------------------------- keys and tokens


@dataclass
class SigningKey:
    kid: str
    private: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)

    def jwk(self) -> dict[str, Any]:
        jwk = OKPAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        return {**jwk, "kid": self.kid, "use": "sig", "alg": "EdDSA"}

    def sign(self, claims: dict[str, Any], **header: Any) -> str:
        return jwt.encode(
            claims, self.private, algorithm="EdDSA", headers={"kid": self.kid, **header}
        )


@dataclass
class Subject:
    """A user (or API client) that tokens are minted for."""

    office_id: uuid.UUID = field(default_factory=uuid.uuid4)
    user_id: uuid.UUID | None = field(default_factory=uuid.uuid4)
    client_id: uuid.UUID | None = None
    role: str = "admin"
    session_id: uuid.UUID | None = field(default_factory=uuid.uuid4)
    csrf_token: str = field(default_factory=lambda: uuid.uuid4().hex + uuid.uuid4().hex)

    @classmethod
    def api_client(cls) -> Subject:
        return cls(user_id=None, client_id=uuid.uuid4(), role="client", session_id=None)

    def caller(self) -> dict[str, Any]:
        return Caller(
            office_id=self.office_id, user_id=self.user_id, client_id=self.client_id, role=self.role
        ).model_dump(mode="json")

    def claims(self, *, lifetime: float = 900, issued: float | None = None, **extra: Any) -> dict:
        import hashlib

        iat = int(issued if issued is not None else time.time())
        claims: dict[str, Any] = {
            "iss": contract.TOKEN_ISSUER,
            "aud": contract.TOKEN_AUDIENCE,
            "office": str(self.office_id),
            "role": self.role,
            "iat": iat,
            "exp": iat + lifetime,
            "jti": uuid.uuid4().hex,
        }
        if self.user_id is not None:
            claims |= {
                "sub": f"user:{self.user_id}",
                "uid": str(self.user_id),
                "sid": str(self.session_id),
                "csrf": hashlib.sha256(self.csrf_token.encode()).hexdigest(),
            }
        else:
            claims |= {"sub": f"client:{self.client_id}", "cid": str(self.client_id)}
        return {**claims, **extra}


# ----------------------------------------------------------------- contract-valid answers


def office(office_id: uuid.UUID | None = None) -> dict[str, Any]:
    return contract.OfficeOut(
        id=office_id or uuid.uuid4(),
        name="Bright Smiles",
        kind=contract.OfficeKind.general_practice,
        email="frontdesk@brightsmiles.example",
        phone="+14165550134",
        time_zone="America/Toronto",
        notation="universal",
        accepts_referrals=False,
        created_at=NOW,
        setup=contract.SetupState(
            office_complete=True, terms_accepted=True, terms_version="2026-11", complete=True
        ),
    ).model_dump(mode="json")


def user(office_id: uuid.UUID | None = None) -> dict[str, Any]:
    return contract.UserOut(
        id=uuid.uuid4(),
        office_id=office_id or uuid.uuid4(),
        email="frontdesk@brightsmiles.example",
        role=contract.Role.admin,
        verified=True,
        created_at=NOW,
    ).model_dump(mode="json")


def token_pair(key: SigningKey, subject: Subject) -> dict[str, Any]:
    return contract.TokenPair(
        access_token=key.sign(subject.claims()),
        expires_in=900,
        refresh_token="rT9x2LqV0bN4mZ8cW1yE6uH3sK5aJ7dF" + uuid.uuid4().hex,
        refresh_expires_in=43200,
        csrf_token=subject.csrf_token,
        session_id=subject.session_id or uuid.uuid4(),
    ).model_dump(mode="json")


def provider() -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "display_name": "Dr. Amara Okafor", "specialty": None}


def invitation(kind: str = "colleague") -> dict[str, Any]:
    return contract.InvitationOut(
        id=uuid.uuid4(),
        kind=kind,
        email="info@northside-dental.example",
        from_office_id=uuid.uuid4(),
        from_office_name="Bright Smiles",
        status="pending",
        created_at=NOW,
        expires_at=NOW + timedelta(days=14),
    ).model_dump(mode="json")


def api_client(secret: str | None = None) -> dict[str, Any]:
    out = {
        "id": str(uuid.uuid4()),
        "client_id": "bwc_" + uuid.uuid4().hex,
        "name": "Practice management sync",
        "created_at": NOW.isoformat(),
        "created_by": str(uuid.uuid4()),
    }
    return contract.ApiClientCreated(**out, client_secret=secret).model_dump(mode="json")


def default_answers(key: SigningKey, subject: Subject) -> dict[str, Callable[[], Any]]:
    """A contract-valid answer for every method the gateway calls."""
    ids = {"office_id": str(subject.office_id), "user_id": str(uuid.uuid4())}
    profile = office(subject.office_id)
    return {
        "sign_up": lambda: {**ids, "email": "frontdesk@brightsmiles.example"},
        "verify_email": lambda: {**ids, "email": "frontdesk@brightsmiles.example"},
        "resend_verification": lambda: None,
        "log_in": lambda: token_pair(key, subject),
        "refresh_session": lambda: token_pair(key, subject),
        "log_out": lambda: None,
        "request_password_reset": lambda: None,
        "reset_password": lambda: None,
        "issue_client_token": lambda: {
            "access_token": key.sign(Subject.api_client().claims()),
            "token_type": "Bearer",
            "expires_in": 900,
        },
        "get_invitation": lambda: {
            "kind": "colleague",
            "email": "info@northside-dental.example",
            "from_office_name": "Bright Smiles",
            "account_exists": False,
            "expires_at": NOW.isoformat(),
        },
        "accept_invitation": lambda: {
            "invitation_id": str(uuid.uuid4()),
            "kind": "colleague",
            "office_id": str(uuid.uuid4()),
            "user_id": None,
            "created_account": False,
        },
        "get_public_keys": lambda: {"keys": [key.jwk()]},
        "list_revocations": lambda: {"cursor": 0, "entries": []},
        "get_me": lambda: {"user": user(subject.office_id), "role": "admin", "office": profile},
        "change_password": lambda: None,
        "get_office": lambda: profile,
        "update_office": lambda: profile,
        "accept_terms": lambda: profile,
        "list_providers": lambda: [provider()],
        "get_provider": provider,
        "create_provider": provider,
        "update_provider": provider,
        "delete_provider": lambda: None,
        "list_users": lambda: [user(subject.office_id)],
        "get_user": lambda: user(subject.office_id),
        "invite_staff": lambda: invitation("staff"),
        "change_role": lambda: user(subject.office_id),
        "remove_user": lambda: None,
        "create_invitation": invitation,
        "list_invitations": lambda: [invitation()],
        "revoke_invitation": lambda: None,
        "list_colleagues": lambda: [
            {"office": profile, "relation": "invited", "last_interaction_at": NOW.isoformat()}
        ],
        "search_directory": lambda: [{"office": profile, "colleague": True}],
        "list_api_clients": lambda: [api_client()],
        "get_api_client": api_client,
        "create_api_client": lambda: api_client("s3cr3t-" + uuid.uuid4().hex),
        "update_api_client": api_client,
        "revoke_api_client": lambda: None,
        "list_audit": lambda: [
            {
                "id": 7,
                "at": NOW.isoformat(),
                "office_id": str(subject.office_id),
                "user_id": None,
                "client_id": None,
                "action": "login",
                "outcome": "ok",
                "ip": "127.0.0.1",
            }
        ],
    }


# ----------------------------------------------------------------- the fake


@dataclass
class Call:
    service: str
    method: str
    kwargs: dict[str, Any]


class FakeServices:
    """Stands in for gateway.rpc.Services. Every call must use exactly the keyword arguments
    the identity README gives the method, with payloads valid against the named contract."""

    def __init__(self, answers: dict[str, Callable[[], Any]]) -> None:
        self.answers = answers
        self.calls: list[Call] = []
        self.errors: dict[str, Exception] = {}  # method -> error to raise instead
        self.names = ("identity",)

    async def call(
        self, service: str, method: str, *, timeout: float | None = None, **kwargs: Any
    ) -> Any:
        kwargs = wire_kwargs(kwargs)
        assert service == "identity"
        check_call(service, method, kwargs, contract)
        self.calls.append(Call(service, method, kwargs))
        if method in self.errors:
            raise self.errors[method]
        return self.answers[method]()

    def last(self, method: str | None = None) -> Call:
        calls = [c for c in self.calls if method is None or c.method == method]
        assert calls, f"no call to {method}"
        return calls[-1]

    def methods(self) -> list[str]:
        return [c.method for c in self.calls]
