"""Nameko dependencies of the referrals service: its settings and the office directory."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nameko.extensions import DependencyProvider

DEFAULT_NOTATION_TTL = 30.0


@dataclass(frozen=True)
class Settings:
    """The service's tunables, with defaults that run on one machine."""

    # Phone numbers written without a country code are read as this region's.
    default_phone_region: str = "US"
    # Seconds an office's preferred notation is kept before identity is asked again.
    notation_cache_seconds: float = DEFAULT_NOTATION_TTL
    # The printed slip's paper: Letter or A4.
    pdf_page_size: str = "Letter"

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Settings:
        """Settings from the container's config; a missing or empty key keeps its default."""
        default = cls()

        def get(key: str, fallback: Any) -> Any:
            value = config.get(key)
            return fallback if value is None or value == "" else value

        page_size = str(get("PDF_PAGE_SIZE", default.pdf_page_size))
        if page_size not in ("Letter", "A4"):
            raise ValueError(f"PDF_PAGE_SIZE must be Letter or A4, not {page_size!r}")
        return cls(
            default_phone_region=str(get("DEFAULT_PHONE_REGION", default.default_phone_region)),
            notation_cache_seconds=float(
                get("NOTATION_CACHE_SECONDS", default.notation_cache_seconds)
            ),
            pdf_page_size=page_size,
        )


class ReferralSettings(DependencyProvider):
    """The service's Settings, read from the container's config once."""

    def setup(self) -> None:
        self.settings = Settings.from_config(self.container.config)

    def get_dependency(self, worker_ctx: Any) -> Settings:
        return self.settings
