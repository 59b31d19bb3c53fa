"""The identity service's settings, read once from its nameko config (config.yaml)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

DEFAULT_KEY_FILE = "var/secrets/identity-jwt-ed25519.pem"


@dataclass(frozen=True)
class Settings:
    """Every tunable of the service, with the defaults that run on one machine."""

    public_url: str = "http://127.0.0.1:8000"
    default_phone_region: str = "US"
    default_time_zone: str = "America/Toronto"
    terms_version: str = "2026-11"
    verify_link_ttl: timedelta = timedelta(seconds=60)
    reset_link_ttl: timedelta = timedelta(seconds=1800)
    invitation_ttl: timedelta = timedelta(days=14)
    access_token_ttl: timedelta = timedelta(seconds=300)
    client_token_ttl: timedelta = timedelta(seconds=900)
    session_max_age: timedelta = timedelta(hours=12)
    session_idle_timeout: timedelta = timedelta(seconds=1800)
    lockout_threshold: int = 10
    lockout_duration: timedelta = timedelta(minutes=15)
    login_rate_limit: int = 30
    login_rate_window: timedelta = timedelta(seconds=300)
    jwt_private_key: str | None = None
    jwt_private_key_file: str = DEFAULT_KEY_FILE

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Settings:
        """Settings from the container's config; a missing or empty key keeps its default."""
        default = cls()

        def get(key: str, fallback: Any) -> Any:
            value = config.get(key)
            return fallback if value is None or value == "" else value

        def seconds(key: str, fallback: timedelta) -> timedelta:
            return timedelta(seconds=float(get(key, fallback.total_seconds())))

        return cls(
            public_url=str(get("PUBLIC_URL", default.public_url)).rstrip("/"),
            default_phone_region=str(get("DEFAULT_PHONE_REGION", default.default_phone_region)),
            default_time_zone=str(get("DEFAULT_TIME_ZONE", default.default_time_zone)),
            terms_version=str(get("TERMS_VERSION", default.terms_version)),
            verify_link_ttl=seconds("VERIFY_LINK_TTL", default.verify_link_ttl),
            reset_link_ttl=seconds("RESET_LINK_TTL", default.reset_link_ttl),
            invitation_ttl=seconds("INVITATION_TTL", default.invitation_ttl),
            access_token_ttl=seconds("ACCESS_TOKEN_TTL", default.access_token_ttl),
            client_token_ttl=seconds("CLIENT_TOKEN_TTL", default.client_token_ttl),
            session_max_age=seconds("SESSION_MAX_AGE", default.session_max_age),
            session_idle_timeout=seconds("SESSION_IDLE_TIMEOUT", default.session_idle_timeout),
            lockout_threshold=int(get("LOCKOUT_THRESHOLD", default.lockout_threshold)),
            lockout_duration=timedelta(
                minutes=float(get("LOCKOUT_MINUTES", default.lockout_duration.seconds / 60))
            ),
            login_rate_limit=int(get("LOGIN_RATE_LIMIT", default.login_rate_limit)),
            login_rate_window=seconds("LOGIN_RATE_WINDOW", default.login_rate_window),
            jwt_private_key=get("JWT_PRIVATE_KEY", None),
            jwt_private_key_file=str(get("JWT_PRIVATE_KEY_FILE", default.jwt_private_key_file)),
        )
