"""The whole platform, started the way `make run` starts it, on throwaway resources."""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from tests.support.infra import (
    SERVICES,
    Process,
    base_env,
    free_port,
    procfile_commands,
    run_python,
    throwaway_databases,
    throwaway_vhost,
    wait_for,
)


class Stack:
    """The gateway and the five services, each a process from deploy/local/Procfile."""

    def __init__(
        self,
        *,
        amqp_uri: str,
        db_urls: dict[str, str],
        log_dir: Path,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.amqp_uri = amqp_uri
        self.db_urls = db_urls
        self.log_dir = log_dir
        self.gateway_port = free_port()
        self.health_ports = {service: free_port() for service in SERVICES}
        env = base_env(
            AMQP_URI=amqp_uri,
            GATEWAY_PORT=str(self.gateway_port),
            RPC_TIMEOUT="5",
            READY_TIMEOUT="2",
            **{
                # Its own token-signing key, not the checkout's var/secrets.
                "IDENTITY_JWT_KEY_FILE": str(log_dir / "identity-jwt.pem"),
                # The files service hands out transfer URLs on its own port.
                "FILES_PUBLIC_HTTP_URL": f"http://127.0.0.1:{self.health_ports['files']}",
                # E-mail as .eml files in the stack's own folder (not the checkout's var/mail).
                "SMTP_URL": "",
                "MAIL_DIR": str(log_dir / "mail"),
                **(extra_env or {}),
            },
        )
        for service in SERVICES:
            env[f"{service.upper()}_DB_URL"] = db_urls[service]
            env[f"{service.upper()}_HTTP_ADDRESS"] = f"127.0.0.1:{self.health_ports[service]}"
        self.env = env
        self.processes = {
            name: Process(name, command, env=env, log_dir=log_dir)
            for name, command in procfile_commands().items()
        }
        self.url = f"http://127.0.0.1:{self.gateway_port}"
        self.mail_dir = Path(env["MAIL_DIR"])
        self.http = httpx.Client(base_url=self.url, timeout=30)

    def migrate(self) -> None:
        run_python("-m", "shared.migrations", env=self.env)

    def start(self, timeout: float = 60) -> None:
        for process in self.processes.values():
            process.start()
        wait_for(self.ready, timeout=timeout, interval=0.25, what="every service ready")

    def ready(self) -> bool:
        try:
            return self.http.get("/health/ready").status_code == 200
        except httpx.HTTPError:
            return False

    def health_url(self, service: str, path: str) -> str:
        return f"http://127.0.0.1:{self.health_ports[service]}{path}"

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.get(path, **kwargs)

    def stop(self) -> None:
        """Every process at once: each takes seconds to stop gracefully, so one by one the
        teardown was the sum of them."""
        running = [process for process in self.processes.values() if process.running]
        for process in running:
            process.terminate()
        deadline = time.monotonic() + 15
        for process in running:
            process.stop(timeout=max(0.1, deadline - time.monotonic()))
        self.http.close()


@contextlib.contextmanager
def running_stack(**extra_env: str) -> Iterator[Stack]:
    """A migrated, started stack on its own vhost and databases; removed afterwards.

    ``extra_env`` adds environment variables for every process (config overrides).
    """
    with (
        throwaway_vhost() as amqp_uri,
        throwaway_databases(*SERVICES) as db_urls,
        tempfile.TemporaryDirectory(prefix="bw-stack-") as log_dir,
    ):
        stack = Stack(
            amqp_uri=amqp_uri, db_urls=db_urls, log_dir=Path(log_dir), extra_env=extra_env
        )
        try:
            stack.migrate()
            stack.start()
            yield stack
        finally:
            stack.stop()
