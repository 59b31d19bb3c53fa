"""deploy/compose runs the processes the way they really run."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from sqlalchemy.engine import make_url

from tests.support.manifests import (
    COMPOSE_FILE,
    DOCKERFILE,
    PROCESSES,
    REPO,
    SERVICE_EXTRA_ENV,
    SERVICES,
    Command,
    assert_http_address,
    assert_runs_like_procfile,
    http_port,
    image_cmd,
    required_env,
    service_config,
)

# --- docker compose --------------------------------------------------------------------


@cache
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def compose_service(name: str) -> dict[str, Any]:
    services = compose()["services"]
    assert name in services, f"{COMPOSE_FILE.name}: no service {name!r}"
    return services[name]


def compose_env(name: str) -> dict[str, str]:
    environment = compose_service(name).get("environment") or {}
    if isinstance(environment, list):
        environment = dict(item.partition("=")[::2] for item in environment)
    return {key: str(value) for key, value in environment.items()}


def compose_command(name: str) -> Command:
    command = compose_service(name).get("command")
    if command is None:
        return image_cmd()
    return Command(tuple(shlex.split(command) if isinstance(command, str) else command))


def test_compose_file_is_valid_per_the_compose_spec() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.compose-spec",
            str(COMPOSE_FILE),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if "No module named check_jsonschema" in result.stderr:
        pytest.fail("check-jsonschema is missing: pip install -e '.[dev]'")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("process", PROCESSES)
def test_compose_runs_each_process_like_the_procfile(process: str) -> None:
    assert_runs_like_procfile(process, compose_command(process), f"compose {process}")
    service = compose_service(process)
    build = service.get("build")
    assert build, f"compose {process}: builds no image"
    context = (COMPOSE_FILE.parent / build["context"]).resolve()
    assert context == REPO
    assert (context / build["dockerfile"]).resolve() == DOCKERFILE
    assert service.get("restart") in {"always", "unless-stopped", "on-failure"}


@pytest.mark.parametrize("process", PROCESSES)
def test_compose_sets_every_variable_the_process_reads(process: str) -> None:
    env = compose_env(process)
    missing = required_env(process) - set(env)
    assert not missing, f"compose {process}: not set: {sorted(missing)}"
    assert_http_address(process, env, f"compose {process}")
    for name, value in SERVICE_EXTRA_ENV.items():
        if process in SERVICES:
            assert env[name] == value


@pytest.mark.parametrize("service", SERVICES)
def test_compose_gives_a_service_only_its_own_database(service: str) -> None:
    others = {service_config(other).db_url_var for other in SERVICES if other != service}
    assert not others & set(compose_env(service))


@pytest.mark.parametrize("process", PROCESSES)
def test_compose_healthcheck_asks_readiness_on_the_process_port(process: str) -> None:
    test = compose_service(process)["healthcheck"]["test"]
    text = " ".join(test) if isinstance(test, list) else test
    urls = re.findall(r"https?://[^\s'\"]+", text)
    assert len(urls) == 1, f"compose {process}: healthcheck should ask one URL: {text}"
    url = urlsplit(urls[0])
    assert url.hostname in {"127.0.0.1", "localhost"}
    assert (url.port, url.path) == (http_port(process), "/health/ready")


def test_compose_runs_the_migrations_before_the_services() -> None:
    migrate = compose_service("migrate")
    command = compose_command("migrate")
    assert command.argv[:3] == ("python", "-m", "shared.migrations")
    assert set(command.argv[3:]) in (set(), set(SERVICES)), "migrate must upgrade every service"
    assert str(migrate.get("restart", "no")) == "no", "a one-shot step must not be restarted"
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    env = compose_env("migrate")
    for service in SERVICES:
        var = service_config(service).db_url_var
        assert env.get(var) == compose_env(service)[var], (
            f"migrate upgrades another database than {service} uses"
        )
        depends_on = compose_service(service)["depends_on"]
        assert depends_on["migrate"]["condition"] == "service_completed_successfully", service
        assert depends_on["rabbitmq"]["condition"] == "service_healthy", service
    gateway_depends_on = compose_service("gateway")["depends_on"]
    assert gateway_depends_on["rabbitmq"]["condition"] == "service_healthy"


@pytest.mark.parametrize("service", SERVICES)
def test_compose_services_can_be_scaled(service: str) -> None:
    """`docker compose up --scale <service>=3` needs no fixed names or host ports."""
    definition = compose_service(service)
    assert "container_name" not in definition
    assert "ports" not in definition


def test_compose_postgres_creates_each_service_database() -> None:
    postgres = compose_service("postgres")
    init_scripts = [
        COMPOSE_FILE.parent / volume.split(":")[0]
        for volume in postgres["volumes"]
        if isinstance(volume, str) and ":/docker-entrypoint-initdb.d/" in volume
    ]
    assert init_scripts, "postgres mounts no init script"
    sql = "\n".join(path.read_text() for path in init_scripts)
    created = set(re.findall(r"CREATE DATABASE (\w+) OWNER (\w+)", sql, re.IGNORECASE))
    roles = set(re.findall(r"CREATE ROLE (\w+) WITH LOGIN", sql, re.IGNORECASE))
    for service in SERVICES:
        url = make_url(compose_env(service)[service_config(service).db_url_var])
        assert url.drivername == "postgresql+psycopg2"
        assert url.host == "postgres"
        assert (url.database, url.username) in created, f"{service}: {url.database} not created"
        assert url.username in roles
