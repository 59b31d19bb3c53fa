"""Access-token verification, done locally: no RPC per request.

The algorithm is pinned (``EdDSA`` only), so ``alg: none`` and HMAC tokens
(including one "signed" with the public key as the secret) fail before any key
is used; issuer, audience, expiry and the required claims are checked by PyJWT;
then the revocation list has the last word.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

import jwt
from jwt.types import Options
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from gateway.auth.keys import KeyStore
from gateway.auth.revocations import RevocationList
from shared.contracts.common import Caller
from shared.contracts.identity import TOKEN_ALGORITHM, TOKEN_AUDIENCE, TOKEN_ISSUER
from shared.errors import Unauthenticated, Unavailable

#: Seconds of clock difference tolerated between identity and this gateway.
LEEWAY_SECONDS = 5.0
REQUIRED_CLAIMS = ["exp", "iat", "sub"]


class NotSignedIn(Unauthenticated):
    """401 for a request without credentials, with the RFC 6750 challenge."""

    challenge = "Bearer"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.headers = {"WWW-Authenticate": self.challenge}


class InvalidToken(NotSignedIn):
    """401 for a token that is not valid (now): clients should refresh or sign in again."""

    challenge = 'Bearer error="invalid_token"'


class AccessClaims(BaseModel):
    """The claims of an access token (see services/identity/README.md, "Access tokens")."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    sub: str
    office: UUID
    role: str
    uid: UUID | None = None
    cid: UUID | None = None
    sid: UUID | None = None
    csrf: str | None = None
    iat: float
    exp: float

    @model_validator(mode="after")
    def _one_subject(self) -> AccessClaims:
        # The subject must agree with uid/cid: a token may not act for someone else.
        if self.uid is not None and self.cid is None and self.sub == f"user:{self.uid}":
            return self
        if self.cid is not None and self.uid is None and self.sub == f"client:{self.cid}":
            return self
        raise ValueError("sub must name exactly the token's user or client")

    @property
    def subject(self) -> UUID:
        subject = self.uid or self.cid
        assert subject is not None  # guaranteed by _one_subject
        return subject

    def caller(self) -> Caller:
        return Caller(office_id=self.office, user_id=self.uid, client_id=self.cid, role=self.role)


class TokenVerifier:
    """Checks access tokens against the identity service's keys and revocations."""

    def __init__(self, keys: KeyStore, revocations: RevocationList) -> None:
        self.keys = keys
        self.revocations = revocations
        # Set by gateway.auth.sync.Auth: fetch keys and revocations now, if not yet done.
        self.catch_up: Callable[[], Awaitable[None]] | None = None

    @property
    def ready(self) -> bool:
        """Keys and a first revocation list are both needed to say yes or no."""
        return self.keys.ready and self.revocations.loaded

    async def verify(self, token: str) -> AccessClaims:
        """The token's claims; InvalidToken if it is not valid now, Unavailable before the
        keys (or the first revocation list) have arrived."""
        if not self.ready and self.catch_up is not None:
            await self.catch_up()
        if not self.ready:
            raise Unavailable("sign-in is not available yet: waiting for the identity service")
        claims = await self._decode(token, verify_exp=True)
        if self.revocations.is_revoked(
            session_id=claims.sid, subject=claims.subject, issued_at=claims.iat
        ):
            raise InvalidToken("the session has ended; sign in again")
        return claims

    async def session_of(self, token: str) -> UUID | None:
        """The session an authentic token names, even an expired one (for logout); None if the
        token is not authentic."""
        if not self.keys.ready:
            return None
        try:
            claims = await self._decode(token, verify_exp=False)
        except InvalidToken:
            return None
        return claims.sid

    async def _decode(self, token: str, *, verify_exp: bool) -> AccessClaims:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise InvalidToken("the access token is malformed") from None
        key = await self._key(header)
        options: Options = {"require": REQUIRED_CLAIMS, "verify_exp": verify_exp}
        try:
            payload = jwt.decode(
                token,
                key,
                algorithms=[TOKEN_ALGORITHM],
                audience=TOKEN_AUDIENCE,
                issuer=TOKEN_ISSUER,
                leeway=LEEWAY_SECONDS,
                options=options,
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken("the access token has expired; refresh it or sign in") from None
        except jwt.InvalidTokenError as exc:
            raise InvalidToken(f"the access token is not valid ({_reason(exc)})") from None
        try:
            return AccessClaims.model_validate(payload)
        except ValidationError:
            raise InvalidToken("the access token's claims are incomplete") from None

    async def _key(self, header: dict[str, Any]) -> Any:
        # The algorithm is checked again by jwt.decode; failing early skips the key lookup.
        if header.get("alg") != TOKEN_ALGORITHM:
            raise InvalidToken(f"the access token must be signed with {TOKEN_ALGORITHM}")
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise InvalidToken("the access token names no key (kid)")
        key = self.keys.get(kid) or await self.keys.refresh_for(kid)
        if key is None:
            raise InvalidToken("the access token was signed by an unknown key")
        return key


def _reason(exc: jwt.InvalidTokenError) -> str:
    """A short, token-free reason a client can act on."""
    reasons: list[tuple[type[Exception], str]] = [
        (jwt.InvalidAudienceError, "wrong audience"),
        (jwt.InvalidIssuerError, "wrong issuer"),
        (jwt.InvalidSignatureError, "bad signature"),
        (jwt.ImmatureSignatureError, "issued in the future"),
        (jwt.MissingRequiredClaimError, "a required claim is missing"),
        (jwt.InvalidAlgorithmError, "algorithm not allowed"),
    ]
    for kind, reason in reasons:
        if isinstance(exc, kind):
            return reason
    return "malformed"
