"""Offices as the identity service knows them, asked over RPC.

``Directory`` is what the domain sees: the profiles of some offices, an
office's preferred notation (kept for a short while, since every answer with
teeth needs the reader's), and user names. The nameko dependency builds one
per worker around nameko's ``RpcProxy("identity")``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any
from uuid import UUID

from nameko.exceptions import RemoteError, UnknownService
from nameko.extensions import DependencyProvider

from shared.contracts.identity import OfficeProfile
from shared.errors import RemoteError as BridgeworkRemoteError
from shared.errors import Unavailable
from shared.teeth import Notation

DEFAULT_NOTATION_TTL = 30.0


class NotationCache:
    """Office id -> (notation, when it was read); entries older than ``ttl`` are read again."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._entries: dict[UUID, tuple[Notation, float]] = {}

    def get(self, office_id: UUID) -> Notation | None:
        entry = self._entries.get(office_id)
        if entry is None or time.monotonic() - entry[1] > self.ttl:
            return None
        return entry[0]

    def put(self, office_id: UUID, notation: Notation) -> None:
        self._entries[office_id] = (notation, time.monotonic())


class Directory:
    """The identity service's view of offices, for one worker."""

    def __init__(self, identity: Any, cache: NotationCache) -> None:
        self.identity = identity
        self.cache = cache

    def _call(self, method: str, **kwargs: Any) -> Any:
        try:
            return getattr(self.identity, method)(**kwargs)
        except (UnknownService, RemoteError, BridgeworkRemoteError) as exc:
            raise Unavailable(
                "The office directory is not answering; try again in a moment."
            ) from exc

    def profiles(self, office_ids: Iterable[UUID | None]) -> dict[UUID, OfficeProfile]:
        """The profiles of the offices that exist, by id."""
        ids = [str(i) for i in dict.fromkeys(office_ids) if i is not None]
        if not ids:
            return {}
        found = [
            OfficeProfile.model_validate(p)
            for p in self._call("get_office_profiles", office_ids=ids)
        ]
        for office in found:
            self.cache.put(office.id, office.notation)
        return {office.id: office for office in found}

    def notation(self, office_id: UUID) -> Notation:
        """The office's preferred tooth notation (Universal when it is unknown)."""
        cached = self.cache.get(office_id)
        if cached is not None:
            return cached
        office = self.profiles([office_id]).get(office_id)
        return office.notation if office is not None else Notation.UNIVERSAL

    def user_names(self, user_ids: Iterable[UUID | None]) -> dict[UUID, str | None]:
        """Users' display names (their name, else their e-mail address)."""
        ids = [str(i) for i in dict.fromkeys(user_ids) if i is not None]
        if not ids:
            return {}
        users = self._call("get_users", user_ids=ids)
        return {UUID(u["id"]): u.get("name") or u.get("email") for u in users}


class NotationCacheProvider(DependencyProvider):
    """One NotationCache per service container (``NOTATION_CACHE_SECONDS``)."""

    def setup(self) -> None:
        ttl = self.container.config.get("NOTATION_CACHE_SECONDS")
        self.cache = NotationCache(float(ttl) if ttl not in (None, "") else DEFAULT_NOTATION_TTL)

    def get_dependency(self, worker_ctx: Any) -> NotationCache:
        return self.cache
