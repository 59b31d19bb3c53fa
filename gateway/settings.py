"""Gateway settings: environment variables (the same names the services use), then defaults."""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit

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
    # Files: the largest upload the gateway forwards (the files service has its own
    # MAX_FILE_BYTES; keep them equal), and how the gateway reaches the files service's
    # transfer port (the same variables the files service reads).
    max_upload_bytes: int = Field(default=52_428_800, gt=0, validation_alias="MAX_UPLOAD_BYTES")
    files_http_address: str = Field(default="127.0.0.1:8103", validation_alias="FILES_HTTP_ADDRESS")
    files_public_http_url: str | None = Field(
        default=None, validation_alias="FILES_PUBLIC_HTTP_URL"
    )
    # Upstream transfers: seconds to connect, and at most between two chunks either way.
    transfer_connect_timeout: float = Field(
        default=5.0, gt=0, validation_alias="TRANSFER_CONNECT_TIMEOUT"
    )
    transfer_timeout: float = Field(default=60.0, gt=0, validation_alias="TRANSFER_TIMEOUT")

    @property
    def files_origin(self) -> str:
        """scheme://host:port of the files service's transfer URLs, as tickets carry them."""
        url = self.files_public_http_url or f"http://{self.files_http_address}"
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}".lower()


@lru_cache
def get_settings() -> GatewaySettings:
    return GatewaySettings()
