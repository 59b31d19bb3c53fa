"""The public keys that verify access tokens, as published by ``identity.get_public_keys``."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from jwt import PyJWK
from jwt.exceptions import PyJWKError

from shared.contracts.identity import TOKEN_ALGORITHM
from shared.errors import BridgeworkError

log = logging.getLogger(__name__)

#: A token naming a kid we do not know makes us fetch the keys again, but no more often
#: than this: otherwise made-up kids would turn every request into an RPC.
UNKNOWN_KID_REFRESH_INTERVAL = 10.0

FetchKeys = Callable[[], Awaitable[Any]]


class KeyStore:
    """Ed25519 public keys by kid; replaced as a whole on every successful fetch."""

    def __init__(self, fetch: FetchKeys | None = None) -> None:
        self.fetch = fetch
        self._keys: dict[str, Ed25519PublicKey] = {}
        self._loaded = False
        self._lock = asyncio.Lock()
        self._last_forced = -UNKNOWN_KID_REFRESH_INTERVAL

    @property
    def ready(self) -> bool:
        """True once a set of keys has been loaded."""
        return self._loaded

    @property
    def kids(self) -> list[str]:
        return sorted(self._keys)

    def get(self, kid: str) -> Ed25519PublicKey | None:
        return self._keys.get(kid)

    def load(self, jwks: Mapping[str, Any]) -> None:
        """Replace the keys with the Ed25519 ones of a JWK set ``{"keys": [...]}``."""
        keys: dict[str, Ed25519PublicKey] = {}
        for jwk in jwks.get("keys") or []:
            kid, key = _public_key(jwk)
            if kid is not None and key is not None:
                keys[kid] = key
        if not keys:
            # An empty set would lock everyone out; keep what we have and say so.
            raise ValueError("the identity service published no usable Ed25519 key")
        self._keys = keys
        self._loaded = True

    async def refresh(self) -> None:
        """Fetch and load the keys; raises BridgeworkError/ValueError when that fails."""
        if self.fetch is None:
            raise RuntimeError("no way to fetch keys: call start() first")
        self.load(await self.fetch())

    async def refresh_for(self, kid: str) -> Ed25519PublicKey | None:
        """The key for a kid we did not know, fetching the keys again if not done lately."""
        async with self._lock:  # concurrent requests with the new kid share one fetch
            if kid in self._keys:
                return self._keys[kid]
            now = time.monotonic()
            if self.fetch is None or now - self._last_forced < UNKNOWN_KID_REFRESH_INTERVAL:
                return None
            self._last_forced = now
            try:
                await self.refresh()
            except (BridgeworkError, ValueError) as exc:
                log.warning("could not fetch the token keys", extra={"error": str(exc)})
            return self._keys.get(kid)


def _public_key(jwk: Any) -> tuple[str | None, Ed25519PublicKey | None]:
    """(kid, key) of an RFC 8037 Ed25519 public JWK; (None, None) for anything else."""
    if not isinstance(jwk, dict) or not isinstance(jwk.get("kid"), str):
        return None, None
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519" or "d" in jwk:
        log.warning("ignored a published key that is not an Ed25519 public key")
        return None, None
    try:
        key = PyJWK(jwk, algorithm=TOKEN_ALGORITHM).key
    except PyJWKError:
        log.warning("ignored a malformed published key", extra={"kid": jwk["kid"]})
        return None, None
    if not isinstance(key, Ed25519PublicKey):
        return None, None
    return jwk["kid"], key
