"""Nameko dependencies of the cases service: its settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nameko.extensions import DependencyProvider


@dataclass(frozen=True)
class Settings:
    """The service's tunables, with defaults that run on one machine."""

    # Where the web app is: links in the RX script, calendar files and answers.
    public_url: str = "http://localhost:8000"
    # The RX script's paper: Letter or A4.
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
            public_url=str(get("PUBLIC_URL", default.public_url)).rstrip("/"),
            pdf_page_size=page_size,
        )


class CaseSettings(DependencyProvider):
    """The service's Settings, read from the container's config once."""

    def setup(self) -> None:
        self.settings = Settings.from_config(self.container.config)

    def get_dependency(self, worker_ctx: Any) -> Settings:
        return self.settings
