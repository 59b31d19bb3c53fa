"""Secrets handed out (link tokens, refresh tokens, client secrets) and signed access tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import jwt

from identity.keys import SigningKey
from shared.contracts.identity import TOKEN_ALGORITHM, TOKEN_AUDIENCE, TOKEN_ISSUER


def utcnow() -> datetime:
    """Now, in UTC."""
    return datetime.now(UTC)


def new_token() -> str:
    """A random URL-safe token of 256 bits."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The SHA-256 hex digest stored instead of a token.

    The tokens are random with >= 128 bits, so a fast hash is enough: there is
    nothing to guess, only a stolen table to make useless.
    """
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def same_digest(a: str, b: str) -> bool:
    """Constant-time comparison of two digests."""
    return hmac.compare_digest(a.encode(), b.encode())


def _encode(claims: dict[str, Any], key: SigningKey) -> str:
    return jwt.encode(claims, key.private_key, algorithm=TOKEN_ALGORITHM, headers={"kid": key.kid})


def _base_claims(
    *, subject: str, office_id: UUID, role: str, now: datetime, expires_at: datetime
) -> dict[str, Any]:
    return {
        "iss": TOKEN_ISSUER,
        "aud": TOKEN_AUDIENCE,
        "sub": subject,
        "office": str(office_id),
        "role": role,
        # Whole seconds: revocations compare against them (see sessions.py).
        "iat": int(now.timestamp()),
        "exp": int(expires_at.timestamp()),
        "jti": uuid.uuid4().hex,
    }


def user_access_token(
    *,
    key: SigningKey,
    user_id: UUID,
    office_id: UUID,
    role: str,
    session_id: UUID,
    csrf_token: str,
    now: datetime,
    expires_at: datetime,
) -> str:
    """A signed access token for a user's session."""
    claims = _base_claims(
        subject=f"user:{user_id}", office_id=office_id, role=role, now=now, expires_at=expires_at
    )
    claims.update(uid=str(user_id), sid=str(session_id), csrf=hash_token(csrf_token))
    return _encode(claims, key)


def client_access_token(
    *, key: SigningKey, client_id: UUID, office_id: UUID, now: datetime, ttl: timedelta
) -> str:
    """A signed access token for an API client of an office."""
    claims = _base_claims(
        subject=f"client:{client_id}",
        office_id=office_id,
        role="client",
        now=now,
        expires_at=now + ttl,
    )
    claims["cid"] = str(client_id)
    return _encode(claims, key)
