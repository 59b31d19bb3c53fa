"""API clients: created with a secret shown once, tokens scoped to their office, revocable."""

from __future__ import annotations

import hashlib
import json

import jwt

from shared.contracts.identity import (
    TOKEN_AUDIENCE,
    ApiClientCreated,
    ApiClientOut,
    ClientToken,
    Revocations,
)

from .support import IP, Identity


def test_an_api_client_acts_for_its_office_only_until_revoked(identity: Identity) -> None:
    ours, theirs = identity.office(), identity.office()
    created = ApiClientCreated.model_validate(
        identity.create_api_client(caller=ours.caller, payload={"name": "PMS sync"}, client_ip=IP)
    )
    assert created.client_id.startswith("bwc_") and created.client_secret.startswith("bws_")
    assert len(created.client_secret) >= 4 + 43 and created.created_by is not None
    stored = identity.sql("SELECT secret_hash FROM api_clients")[0][0]
    assert stored == hashlib.sha256(created.client_secret.encode()).hexdigest()
    listed = identity.list_api_clients(caller=ours.caller)
    assert "client_secret" not in json.dumps(listed)
    assert ApiClientOut.model_validate(listed[0]).last_used_at is None

    credentials = {"client_id": created.client_id, "client_secret": created.client_secret}
    granted = ClientToken.model_validate(
        identity.issue_client_token(payload=credentials, client_ip=IP)
    )
    assert granted.token_type == "Bearer" and granted.expires_in == 900
    jwk = identity.get_public_keys()["keys"][0]
    claims = jwt.decode(
        granted.access_token, jwt.PyJWK(jwk).key, algorithms=["EdDSA"], audience=TOKEN_AUDIENCE
    )
    assert claims["sub"] == f"client:{created.id}" and claims["cid"] == str(created.id)
    assert claims["office"] == ours.office_id and claims["role"] == "client"
    assert "sid" not in claims and "csrf" not in claims and "uid" not in claims
    assert identity.get_api_client(caller=ours.caller, api_client_id=str(created.id))[
        "last_used_at"
    ]

    # The gateway's caller for that token: the office's data, like a staff member.
    api = {"office_id": ours.office_id, "client_id": str(created.id), "role": "client"}
    me = identity.get_me(caller=api)
    assert me["client_id"] == str(created.id) and me["user"] is None and me["role"] == "client"
    assert identity.get_office(caller=api)["id"] == ours.office_id
    assert identity.list_providers(caller=api) == identity.list_providers(caller=ours.caller)
    their_provider = identity.list_providers(caller=theirs.caller)[0]["id"]
    assert identity.error("get_provider", caller=api, provider_id=their_provider).remote_kind == (
        "not_found"
    )
    assert identity.error("list_api_clients", caller=api).remote_kind == "forbidden"
    assert (
        identity.error(
            "change_password",
            caller=api,
            payload={"current_password": "x", "new_password": "Molar-Crown-2026"},
        ).remote_kind
        == "forbidden"
    )
    elsewhere = {**api, "office_id": theirs.office_id}
    assert identity.error("get_office", caller=elsewhere).remote_kind == "unauthenticated"

    wrong = identity.error(
        "issue_client_token",
        payload={"client_id": created.client_id, "client_secret": "bws_" + "x" * 43},
    )
    assert wrong.remote_kind == "unauthenticated" and wrong.message == "invalid_client"
    unknown = identity.error(
        "issue_client_token", payload={"client_id": "bwc_nobody", "client_secret": "x"}
    )
    assert (unknown.remote_kind, unknown.message) == (wrong.remote_kind, wrong.message)

    renamed = identity.update_api_client(
        caller=ours.caller, api_client_id=str(created.id), payload={"name": "PMS v2"}
    )
    assert renamed["name"] == "PMS v2"
    identity.revoke_api_client(caller=ours.caller, api_client_id=str(created.id), client_ip=IP)
    entries = Revocations.model_validate(identity.list_revocations(since=0)).entries
    assert [e.client_id for e in entries] == [created.id]
    assert entries[0].revoked_before.timestamp() > claims["iat"]
    revoked = identity.error("issue_client_token", payload=credentials)
    assert revoked.message == "invalid_client"
    assert identity.error("get_office", caller=api).remote_kind == "unauthenticated"

    outcomes = identity.sql(
        "SELECT outcome, count(*) FROM audit_log WHERE action = 'client_token' GROUP BY outcome"
    )
    assert dict(outcomes) == {"success": 1, "failure": 3}
    actions = {row[0] for row in identity.sql("SELECT action FROM audit_log")}
    assert {"api_client_created", "api_client_updated", "api_client_revoked"} <= actions
    audit = json.dumps(identity.sql("SELECT details FROM audit_log"))
    assert created.client_secret not in audit
