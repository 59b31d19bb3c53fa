"""API clients: other clinics' systems acting for an office with OAuth2 client credentials."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session

from identity import audit, idempotency
from identity.access import Actor, require_admin
from identity.keys import SigningKey
from identity.models import ApiClient, Revocation
from identity.settings import Settings
from identity.tokens import client_access_token, hash_token, same_digest, utcnow
from shared.contracts.identity import (
    ApiClientCreated,
    ApiClientIn,
    ApiClientOut,
    ClientCredentials,
    ClientToken,
)
from shared.errors import NotFound, Unauthenticated

CLIENT_ID_PREFIX = "bwc_"
SECRET_PREFIX = "bws_"  # noqa: S105 - a prefix, not a secret
# The OAuth2 error code (RFC 6749, 5.2); the gateway puts it in the token endpoint's answer.
INVALID_CLIENT = "invalid_client"


def list_api_clients(session: Session, *, actor: Actor) -> list[ApiClientOut]:
    """The office's API clients, newest first (admin)."""
    require_admin(actor)
    clients = session.scalars(
        select(ApiClient)
        .where(ApiClient.office_id == actor.office_id)
        .order_by(ApiClient.created_at.desc())
    )
    return [ApiClientOut.model_validate(client) for client in clients]


def _own_client(session: Session, actor: Actor, api_client_id: UUID) -> ApiClient:
    client = session.get(ApiClient, api_client_id)
    if client is None or client.office_id != actor.office_id:
        raise NotFound("No such API client.")
    return client


def get_api_client(session: Session, *, actor: Actor, api_client_id: UUID) -> ApiClientOut:
    """One API client of the office (admin)."""
    client = _own_client(session, actor, api_client_id)
    require_admin(actor)
    return ApiClientOut.model_validate(client)


def create_api_client(
    session: Session,
    *,
    actor: Actor,
    cmd: ApiClientIn,
    ip: str | None,
    idempotency_key: str | None,
) -> ApiClientCreated:
    """A new client id and secret (admin); the secret is shown in this answer only."""
    require_admin(actor)

    def make() -> ApiClientCreated:
        secret, now = SECRET_PREFIX + secrets.token_urlsafe(32), utcnow()
        client = ApiClient(
            office_id=actor.office_id,
            client_id=CLIENT_ID_PREFIX + secrets.token_urlsafe(16),
            # 256 random bits: a fast hash suffices, nothing is left to guess.
            secret_hash=hash_token(secret),
            name=cmd.name,
            created_at=now,
            created_by=actor.user_id,
        )
        session.add(client)
        session.flush()
        _audit(session, "api_client_created", client, actor=actor, ip=ip)
        return ApiClientCreated.model_validate(
            {**ApiClientOut.model_validate(client).model_dump(), "client_secret": secret}
        )

    return idempotency.once(
        session,
        office_id=actor.office_id,
        operation="create_api_client",
        key=idempotency_key,
        model=ApiClientCreated,
        make=make,
        stored_as=lambda created: created.model_copy(update={"client_secret": None}),
    )


def _audit(
    session: Session, action: str, client: ApiClient, *, actor: Actor, ip: str | None
) -> None:
    audit.record(
        session,
        action=action,
        ip=ip,
        office_id=client.office_id,
        user_id=actor.user_id,
        client_id=actor.client_id,
        details={"api_client_id": str(client.id)},
    )


def update_api_client(
    session: Session, *, actor: Actor, api_client_id: UUID, cmd: ApiClientIn
) -> ApiClientOut:
    """Rename an API client (admin)."""
    client = _own_client(session, actor, api_client_id)
    require_admin(actor)
    client.name = cmd.name
    _audit(session, "api_client_updated", client, actor=actor, ip=None)
    return ApiClientOut.model_validate(client)


def revoke_api_client(
    session: Session, *, actor: Actor, api_client_id: UUID, ip: str | None
) -> None:
    """Revoke an API client (admin): no new tokens, and its current ones are void."""
    client = _own_client(session, actor, api_client_id)
    require_admin(actor)
    if client.revoked_at is not None:
        return
    now = utcnow()
    client.revoked_at = now
    # A revoked client gets no more tokens, so every token it has predates the next second.
    next_second = now.replace(microsecond=0) + timedelta(seconds=1)
    session.add(Revocation(client_id=client.id, revoked_before=next_second, created_at=now))
    _audit(session, "api_client_revoked", client, actor=actor, ip=ip)


def _authenticate(
    session: Session, *, cmd: ClientCredentials, ip: str | None, now: datetime
) -> ApiClient:
    """The active client with these credentials; else the same Unauthenticated for all."""
    client = session.scalar(select(ApiClient).where(ApiClient.client_id == cmd.client_id))
    digest = hash_token(cmd.client_secret)
    if client is not None and client.revoked_at is None and same_digest(client.secret_hash, digest):
        return client
    audit.record(
        session,
        action="client_token",
        outcome="failure",
        ip=ip,
        office_id=client.office_id if client else None,
        client_id=client.id if client else None,
        details={
            "reason": "revoked" if client and client.revoked_at else "bad_credentials",
            "client_id": cmd.client_id,  # the public half, never the secret
        },
        at=now,
    )
    audit.keep_and_raise(session, Unauthenticated(INVALID_CLIENT))


def issue_client_token(
    session: Session,
    *,
    cmd: ClientCredentials,
    ip: str | None,
    settings: Settings,
    key: SigningKey,
) -> ClientToken:
    """An access token for the client's office (OAuth2 client-credentials grant)."""
    now = utcnow()
    client = _authenticate(session, cmd=cmd, ip=ip, now=now)
    client.last_used_at = now
    token = client_access_token(
        key=key,
        client_id=client.id,
        office_id=client.office_id,
        now=now,
        ttl=settings.client_token_ttl,
    )
    audit.record(
        session,
        action="client_token",
        ip=ip,
        office_id=client.office_id,
        client_id=client.id,
        at=now,
    )
    return ClientToken(
        access_token=token, expires_in=int(settings.client_token_ttl.total_seconds())
    )
