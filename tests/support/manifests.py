"""Reading deploy/: the Procfile, the services' configs, the compose file, the k8s objects.

Shared by tests/unit/test_deploy_*.py (static checks; no engine, cluster or broker).
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
PROCFILE = DEPLOY / "local" / "Procfile"
DOCKERFILE = DEPLOY / "Dockerfile"
COMPOSE_FILE = DEPLOY / "compose" / "docker-compose.yml"
K8S = DEPLOY / "k8s"
K8S_SECRET_TEMPLATE = K8S / "secret.template.yaml"
K8S_MIGRATE_JOB = K8S / "migrate-job.yaml"
# In deploy/k8s but deliberately not applied by kustomization.yaml (see their comments).
K8S_NOT_KUSTOMIZED = {"kustomization.yaml", K8S_SECRET_TEMPLATE.name, K8S_MIGRATE_JOB.name}
# The oldest Kubernetes the manifests support; also checked against the newest the validator knows.
K8S_OLDEST = "1.29.0"

ENV_REFERENCE = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::(?P<default>[^}]*))?\}")
MODULE_TARGET = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
# Set for the services although no config.yaml names it: nameko's CLI is noisy without it.
SERVICE_EXTRA_ENV = {"PYTHONWARNINGS": "ignore::Warning:nameko.cli.commands"}
# In a container 127.0.0.1 is unreachable from outside it, probes included.
ALL_INTERFACES = "0.0.0.0"  # noqa: S104 - what the containers must listen on


# --- the processes, as deploy/local/Procfile starts them --------------------------------


@dataclass(frozen=True)
class Command:
    argv: tuple[str, ...]

    @property
    def program(self) -> str:
        return Path(self.argv[0]).name

    @property
    def target(self) -> str | None:
        """The ``module:attribute`` the program runs."""
        return next((arg for arg in self.argv[1:] if MODULE_TARGET.match(arg)), None)

    def option(self, name: str) -> str | None:
        argv = list(self.argv)
        return argv[argv.index(name) + 1] if name in argv[:-1] else None


@cache
def procfile() -> dict[str, Command]:
    processes = {}
    for line in PROCFILE.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, command = line.partition(":")
        processes[name.strip()] = Command(tuple(shlex.split(command)))
    return processes


PROCESSES = sorted(procfile())
SERVICES = sorted(name for name, command in procfile().items() if command.program == "nameko")


@dataclass(frozen=True)
class ServiceConfig:
    """What a service's config.yaml reads from the environment."""

    env: dict[str, str | None]  # variable -> default
    db_url_var: str
    http_address_var: str
    http_port: int


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


def _reference(value: str) -> tuple[str, str | None]:
    match = ENV_REFERENCE.fullmatch(value)
    assert match, f"{value!r} is not a ${{VAR:default}} reference"
    return match["name"], match["default"]


class _ConfigLoader(yaml.SafeLoader):
    """Reads nameko's ``!env_var`` / ``!raw_env_var`` tags as their plain text."""


for _tag in ("!env_var", "!raw_env_var"):
    _ConfigLoader.add_constructor(_tag, lambda loader, node: loader.construct_scalar(node))


@cache
def service_config(service: str) -> ServiceConfig:
    path = REPO / "services" / service / "config.yaml"
    # Parsed without nameko's substitution: the values keep their ${VAR:default}
    # (and the comments, which also mention ${VAR:default}, are not values).
    config = yaml.load(path.read_text(), Loader=_ConfigLoader)  # noqa: S506 - a SafeLoader
    env = {
        match["name"]: match["default"]
        for value in _strings(config)
        for match in ENV_REFERENCE.finditer(value)
    }
    db_url_var, _ = _reference(config["DB_URL"])
    http_address_var, default_address = _reference(config["WEB_SERVER_ADDRESS"])
    assert default_address, f"{path}: WEB_SERVER_ADDRESS has no default address"
    return ServiceConfig(
        env=env,
        db_url_var=db_url_var,
        http_address_var=http_address_var,
        http_port=int(default_address.rpartition(":")[2]),
    )


@cache
def gateway_env() -> set[str]:
    """The variables the gateway's settings read (fields with an explicit alias)."""
    from gateway.settings import GatewaySettings

    return {
        field.validation_alias
        for field in GatewaySettings.model_fields.values()
        if isinstance(field.validation_alias, str)
    }


def required_env(process: str) -> set[str]:
    if process in SERVICES:
        return set(service_config(process).env) | set(SERVICE_EXTRA_ENV)
    return gateway_env()


def http_port(process: str) -> int:
    """The port each process serves health and metrics on (the gateway: everything)."""
    if process in SERVICES:
        return service_config(process).http_port
    port = procfile()[process].option("--port")
    assert port, f"{process}: no --port in the Procfile"
    # The Procfile is read by a shell: ${GATEWAY_PORT:-8000} is 8000 unless set.
    return int(re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", port))


def assert_runs_like_procfile(process: str, command: Command, where: str) -> None:
    local = procfile()[process]
    assert command.program == local.program, f"{where}: runs {command.program}, not {local.program}"
    assert command.target == local.target, f"{where}: runs {command.target}, not {local.target}"
    assert command.option("--config") == local.option("--config"), f"{where}: other --config"
    if "--factory" in local.argv:
        assert "--factory" in command.argv, f"{where}: {local.target} is an app factory"
    if process not in SERVICES:
        assert command.option("--host") == ALL_INTERFACES, f"{where}: must listen on all interfaces"
        assert command.option("--port") == str(http_port(process)), f"{where}: other --port"


def assert_http_address(process: str, env: dict[str, str], where: str) -> None:
    """A service in a container listens on all interfaces, on its usual port."""
    if process not in SERVICES:
        return
    name = service_config(process).http_address_var
    address = env.get(name)
    want = f"{ALL_INTERFACES}:{http_port(process)}"
    assert address == want, (
        f"{where}: {name}={address!r}; want {want} so probes from outside the container "
        "reach it, on the port the manifests use"
    )


# --- the image -------------------------------------------------------------------------


@cache
def dockerfile() -> dict[str, list[str]]:
    """Instruction -> arguments, in order (continuation lines joined, comments dropped)."""
    instructions: dict[str, list[str]] = {}
    text = "\n".join(
        line for line in DOCKERFILE.read_text().splitlines() if not line.lstrip().startswith("#")
    )
    for logical in text.replace("\\\n", " ").splitlines():
        if logical.strip():
            keyword, _, rest = logical.strip().partition(" ")
            instructions.setdefault(keyword.upper(), []).append(rest.strip())
    return instructions


def image_cmd() -> Command:
    return Command(tuple(json.loads(dockerfile()["CMD"][-1])))


def image_uid() -> int:
    user = dockerfile()["USER"][-1].partition(":")[0]
    assert user.isdigit(), f"USER {user}: Kubernetes runAsNonRoot can only verify a numeric user"
    return int(user)
