"""Offices as the identity service knows them, asked over RPC (for the referrals and cases
services; services only: it needs nameko).

``Directory`` is what the domain sees: the profiles of some offices (names,
kind, notation, time zone, letterheads), an office's preferred notation and
time zone (kept for a short while, since every answer with teeth needs the
reader's), and users' names. Each service builds one per worker around its
nameko ``RpcProxy("identity")`` and the container's ``ProfileCacheProvider``.
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


class ProfileCache:
    """Office id -> (profile, when it was read); entries older than ``ttl`` are read again."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._entries: dict[UUID, tuple[OfficeProfile, float]] = {}

    def get(self, office_id: UUID) -> OfficeProfile | None:
        entry = self._entries.get(office_id)
        if entry is None or time.monotonic() - entry[1] > self.ttl:
            return None
        return entry[0]

    def put(self, office: OfficeProfile) -> None:
        self._entries[office.id] = (office, time.monotonic())


class Directory:
    """The identity service's view of offices, for one worker."""

    def __init__(self, identity: Any, cache: ProfileCache, public_url: str = "") -> None:
        self.identity = identity
        self.cache = cache
        # Where the web app is (PUBLIC_URL): the base of the links answers carry.
        self.public_url = public_url

    def _call(self, method: str, **kwargs: Any) -> Any:
        try:
            return getattr(self.identity, method)(**kwargs)
        except (UnknownService, RemoteError, BridgeworkRemoteError) as exc:
            raise Unavailable(
                "The office directory is not answering; try again in a moment."
            ) from exc

    def profiles(self, office_ids: Iterable[UUID | None]) -> dict[UUID, OfficeProfile]:
        """The profiles of the offices that exist, by id (always asked afresh)."""
        ids = [str(i) for i in dict.fromkeys(office_ids) if i is not None]
        if not ids:
            return {}
        found = [
            OfficeProfile.model_validate(p)
            for p in self._call("get_office_profiles", office_ids=ids)
        ]
        for office in found:
            self.cache.put(office)
        return {office.id: office for office in found}

    def profile(self, office_id: UUID) -> OfficeProfile | None:
        """One office's profile, from the short-lived cache when it is there."""
        cached = self.cache.get(office_id)
        if cached is not None:
            return cached
        return self.profiles([office_id]).get(office_id)

    def notation(self, office_id: UUID) -> Notation:
        """The office's preferred tooth notation (Universal when it is unknown)."""
        office = self.profile(office_id)
        return office.notation if office is not None else Notation.UNIVERSAL

    def time_zone(self, office_id: UUID) -> str:
        """The office's IANA time zone (UTC when it is unknown)."""
        office = self.profile(office_id)
        return office.time_zone if office is not None else "UTC"

    def user_names(self, user_ids: Iterable[UUID | None]) -> dict[UUID, str | None]:
        """Users' display names (their name, else their e-mail address): a note's author."""
        ids = [str(i) for i in dict.fromkeys(user_ids) if i is not None]
        if not ids:
            return {}
        users = self._call("get_users", user_ids=ids)
        return {UUID(u["id"]): u.get("name") or u.get("email") for u in users}


class ProfileCacheProvider(DependencyProvider):
    """One ProfileCache per service container (``NOTATION_CACHE_SECONDS``)."""

    def setup(self) -> None:
        ttl = self.container.config.get("NOTATION_CACHE_SECONDS")
        self.cache = ProfileCache(float(ttl) if ttl not in (None, "") else DEFAULT_NOTATION_TTL)

    def get_dependency(self, worker_ctx: Any) -> ProfileCache:
        return self.cache
