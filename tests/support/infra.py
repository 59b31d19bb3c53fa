"""Throwaway infrastructure for tests: vhosts, databases, processes, the whole stack.

Everything a test makes here it removes again: the machine's RabbitMQ and
PostgreSQL are left as they were found.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg2
from psycopg2 import sql

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = REPO / ".venv" / "bin"
PG_ADMIN_URL = os.environ.get(
    "BRIDGEWORK_TEST_PG_URL", "postgresql://bridgework:bridgework@127.0.0.1:5432/postgres"
)
AMQP_BASE = os.environ.get("BRIDGEWORK_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672")
SERVICES = ("identity", "referrals", "files", "cases", "notifications")


def token(n: int = 6) -> str:
    return secrets.token_hex(n)


def wait_for(
    predicate: Callable[[], Any], *, timeout: float, interval: float = 0.1, what: str = ""
) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except Exception as exc:  # noqa: BLE001 - remembered and reported on timeout
            last_error = exc
        else:
            if value:
                return value
        time.sleep(interval)
    raise TimeoutError(
        f"timed out after {timeout}s waiting for {what or predicate}: {last_error!r}"
    )


# -- RabbitMQ ---------------------------------------------------------------


def rabbitmqctl(*args: str, timeout: float = 120) -> str:
    result = subprocess.run(
        ["rabbitmqctl", *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"rabbitmqctl {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


@contextlib.contextmanager
def throwaway_vhost(prefix: str = "bwtest") -> Iterator[str]:
    """A fresh vhost for guest; yields its AMQP URI and deletes it afterwards."""
    vhost = f"{prefix}-{token()}"
    rabbitmqctl("add_vhost", vhost)
    try:
        rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
        yield f"{AMQP_BASE}/{vhost}"
    finally:
        rabbitmqctl("delete_vhost", vhost)


def ensure_rabbit_running() -> None:
    """Start the RabbitMQ application again if a test stopped it."""
    rabbitmqctl("start_app")
    rabbitmqctl("await_startup")


# -- PostgreSQL -------------------------------------------------------------


def _admin() -> Any:
    conn = psycopg2.connect(PG_ADMIN_URL)
    conn.autocommit = True
    return conn


def database_url(name: str) -> str:
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg2://", 1)
    return f"{base}/{name}"


@contextlib.contextmanager
def throwaway_databases(*names: str, prefix: str = "bwtest") -> Iterator[dict[str, str]]:
    """Fresh empty databases; yields {name: SQLAlchemy URL} and drops them afterwards."""
    run = token(4)
    real = {name: f"{prefix}_{run}_{name}" for name in names}
    conn = _admin()
    try:
        with conn.cursor() as cur:
            for db in real.values():
                cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db)))
        yield {name: database_url(db) for name, db in real.items()}
    finally:
        with conn.cursor() as cur:
            for db in real.values():
                cur.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db))
                )
        conn.close()


def sql_rows(url: str, query: str, *params: Any) -> list[tuple[Any, ...]]:
    """Run one query on a database (SQLAlchemy-style URL) and return its rows."""
    conn = psycopg2.connect(url.replace("postgresql+psycopg2://", "postgresql://", 1))
    try:
        with conn, conn.cursor() as cur:
            cur.execute(query, params)
            return cur.fetchall() if cur.description else []
    finally:
        conn.close()


# -- processes ----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Process:
    """One long-running command of ours, with its output in a log file."""

    def __init__(self, name: str, command: str, *, env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.command = command
        self.env = env
        self.log_path = log_dir / f"{name}.log"
        self.popen: subprocess.Popen[bytes] | None = None
        self.terminating = False

    def start(self, **extra_env: str) -> Process:
        env = {**self.env, **extra_env}
        self.terminating = False
        with self.log_path.open("ab") as log:
            self.popen = subprocess.Popen(
                ["bash", "-c", f"exec {self.command}"],
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def wait_exit(self, timeout: float) -> int:
        assert self.popen is not None
        return self.popen.wait(timeout)

    def terminate(self) -> None:
        """SIGTERM once: ask for a graceful stop without waiting for it (a second SIGTERM
        would interrupt nameko's graceful stop)."""
        if self.running and not self.terminating:
            assert self.popen is not None
            self.popen.send_signal(signal.SIGTERM)
            self.terminating = True

    def stop(self, timeout: float = 15) -> None:
        """SIGTERM (a graceful stop), then SIGKILL if it lingers."""
        if not self.running:
            return
        assert self.popen is not None
        self.terminate()
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        if self.running:
            assert self.popen is not None
            self.popen.kill()
            self.popen.wait(10)

    def pause(self) -> None:
        assert self.popen is not None
        self.popen.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.popen is not None
        self.popen.send_signal(signal.SIGCONT)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def procfile_commands(path: Path = REPO / "deploy" / "local" / "Procfile") -> dict[str, str]:
    """The Procfile's commands by process name, exactly as `make run` starts them."""
    commands: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, command = line.split(":", 1)
            commands[name.strip()] = command.strip()
    return commands


def base_env(**overrides: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.endswith(("_DB_URL", "_HTTP_ADDRESS")) and key not in ("AMQP_URI",)
    }
    env["PATH"] = f"{VENV_BIN}:{env.get('PATH', '')}"
    env["PYTHONWARNINGS"] = "ignore::Warning:nameko.cli.commands"
    env.update(overrides)
    return env


def run_python(*args: str, env: dict[str, str], timeout: float = 120) -> str:
    result = subprocess.run(
        [sys.executable, *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{shlex.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def metric_value(exposition: str, sample: str) -> float:
    """The value of one sample (name with its labels, as printed) in Prometheus text, or 0."""
    for line in exposition.splitlines():
        if line.startswith(sample + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0
