"""Gateway settings: environment variables (the same names the services use), then defaults."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.config import DEFAULT_AMQP_URI, SERVICES


class GatewaySettings(BaseSettings):
    """Read from the environment (and an optional .env file) once per process."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    amqp_uri: str = Field(default=DEFAULT_AMQP_URI, validation_alias="AMQP_URI")
    rpc_timeout: float = Field(default=10.0, gt=0, validation_alias="RPC_TIMEOUT")
    ready_timeout: float = Field(default=2.0, gt=0, validation_alias="READY_TIMEOUT")
    services: tuple[str, ...] = SERVICES
    log_level: str = Field(default="INFO", validation_alias="LOG_LEVEL")
    # Session cookies carry Secure unless turned off; browsers accept Secure cookies on
    # http://localhost and http://127.0.0.1, so only other plain-HTTP hosts need false.
    cookie_secure: bool = Field(default=True, validation_alias="COOKIE_SECURE")
    # How often the gateway asks identity for revoked sessions: the bound on how long a
    # logged-out session still works through this gateway.
    revocation_poll_interval: float = Field(
        default=2.0, gt=0, validation_alias="REVOCATION_POLL_INTERVAL"
    )
    # How often the token-verifying public keys are fetched again (key rotation).
    key_refresh_interval: float = Field(
        default=300.0, gt=0, validation_alias="KEY_REFRESH_INTERVAL"
    )


@lru_cache
def get_settings() -> GatewaySettings:
    return GatewaySettings()
