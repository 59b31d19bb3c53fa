"""`make run` as the README shows it: everything up and green, and Ctrl-C stops it all."""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile

import httpx

from tests.support.infra import (
    REPO,
    SERVICES,
    base_env,
    free_port,
    throwaway_databases,
    throwaway_vhost,
    wait_for,
)


def test_make_run_brings_everything_up_and_ctrl_c_stops_it_all() -> None:
    with (
        throwaway_vhost() as amqp_uri,
        throwaway_databases(*SERVICES) as db_urls,
        tempfile.TemporaryFile() as output,
    ):
        gateway_port = free_port()
        health_ports = {service: free_port() for service in SERVICES}
        env = base_env(AMQP_URI=amqp_uri, GATEWAY_PORT=str(gateway_port))
        for service in SERVICES:
            env[f"{service.upper()}_DB_URL"] = db_urls[service]
            env[f"{service.upper()}_HTTP_ADDRESS"] = f"127.0.0.1:{health_ports[service]}"
        run = subprocess.Popen(
            ["make", "--no-print-directory", "run"],
            cwd=REPO,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, as a terminal would give it
        )
        url = f"http://127.0.0.1:{gateway_port}"
        try:

            def ready() -> bool:
                try:
                    return httpx.get(f"{url}/health/ready", timeout=5).status_code == 200
                except httpx.HTTPError:
                    return False

            wait_for(ready, timeout=90, interval=0.5, what="make run to be ready")
            for service, port in health_ports.items():
                answer = httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=5)
                assert answer.status_code == 200, service
            assert httpx.get(f"{url}/api/v1/status", timeout=10).json()["ready"] is True
        finally:
            os.killpg(run.pid, signal.SIGINT)  # what Ctrl-C sends to the foreground group
            code = run.wait(60)
        output.seek(0)
        printed = output.read().decode(errors="replace")
        assert f"Bridgework: http://127.0.0.1:{gateway_port}" in printed
        assert code in (0, 130, -signal.SIGINT), printed[-2000:]  # make ends with the signal
        for port in [gateway_port, *health_ports.values()]:
            with httpx.Client() as client:
                try:
                    client.get(f"http://127.0.0.1:{port}/health/live", timeout=2)
                except httpx.ConnectError:
                    continue
                raise AssertionError(f"something still listens on {port} after Ctrl-C")
