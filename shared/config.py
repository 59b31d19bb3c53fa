"""Configuration: environment variables first, files second, defaults that run on one machine.

Services read their YAML file (``services/<name>/config.yaml``) the way
``nameko run --config`` does: ``${VAR:default}`` is replaced by the
environment variable ``VAR`` or the default. Tools that need a service's
settings outside nameko (migrations, tests) load the same file here, so
there is one source of truth per service. The gateway uses
pydantic-settings (``gateway.settings``) with the same variable names.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
SERVICES = ("identity", "referrals", "files", "cases", "notifications")

DEFAULT_AMQP_URI = "amqp://guest:guest@127.0.0.1:5672/"

_yaml_ready = False


def _enable_env_vars() -> None:
    global _yaml_ready
    if not _yaml_ready:
        from nameko.cli.main import setup_yaml_parser  # the parser `nameko run` uses

        setup_yaml_parser()
        _yaml_ready = True


def service_dir(service: str) -> Path:
    """The folder of a service: services/<service>."""
    if service not in SERVICES:
        raise ValueError(f"unknown service {service!r}; known: {', '.join(SERVICES)}")
    return REPO_ROOT / "services" / service


def load_service_config(service: str) -> dict[str, Any]:
    """A service's config.yaml with environment variables substituted."""
    _enable_env_vars()
    with (service_dir(service) / "config.yaml").open() as handle:
        config: dict[str, Any] = yaml.safe_load(handle)
    return config
