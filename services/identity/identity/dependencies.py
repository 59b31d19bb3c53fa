"""Nameko dependencies of the identity service: its settings and its token-signing key."""

from __future__ import annotations

from typing import Any

from nameko.extensions import DependencyProvider

from identity.keys import SigningKey, load_signing_key
from identity.settings import Settings


class IdentitySettings(DependencyProvider):
    """The service's Settings, read from the container's config once."""

    def setup(self) -> None:
        self.settings = Settings.from_config(self.container.config)

    def get_dependency(self, worker_ctx: Any) -> Settings:
        return self.settings


class TokenSigningKey(DependencyProvider):
    """The Ed25519 key, loaded (or made) when the container starts, not at import."""

    def setup(self) -> None:
        settings = Settings.from_config(self.container.config)
        self.key = load_signing_key(
            pem=settings.jwt_private_key, path=settings.jwt_private_key_file
        )

    def get_dependency(self, worker_ctx: Any) -> SigningKey:
        return self.key
