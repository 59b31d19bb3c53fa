"""The walking skeleton, every process started as `make run` starts it, driven over HTTP."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from tests.support.infra import (
    SERVICES,
    Process,
    base_env,
    free_port,
    procfile_commands,
    token,
    wait_for,
)
from tests.support.stack import Stack


def test_every_service_answers_ping_through_the_gateway(stack: Stack) -> None:
    body = stack.get("/api/v1/status").json()
    assert body["ready"] is True
    assert [s["name"] for s in body["services"]] == list(SERVICES)
    for service in SERVICES:
        answer = stack.get(f"/api/v1/status/{service}")
        assert answer.status_code == 200
        assert answer.json() == {
            "name": service,
            "version": "0.1.0",
            "ready": True,
            "problem": None,
        }


def test_unknown_service_status_is_404_naming_it(stack: Stack) -> None:
    answer = stack.get("/api/v1/status/billing")
    assert answer.status_code == 404
    assert "billing" in answer.json()["detail"]


def test_health_and_metrics_of_every_process(stack: Stack) -> None:
    assert stack.get("/health/live").json() == {"status": "live", "service": "gateway"}
    ready = stack.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json()["checks"] == dict.fromkeys(SERVICES, "ok")
    assert "bridgework_gateway_http_requests_total" in stack.get("/metrics").text
    for service in SERVICES:
        live = httpx.get(stack.health_url(service, "/health/live"))
        assert live.status_code == 200 and live.json()["service"] == service
        ready = httpx.get(stack.health_url(service, "/health/ready"))
        assert ready.status_code == 200
        assert ready.json()["checks"] == {"database": "ok", "broker": "ok"}
        metrics = httpx.get(stack.health_url(service, "/metrics"))
        assert metrics.headers["content-type"].startswith("text/plain")
        assert "bridgework_outbox_pending 0.0" in metrics.text


def test_request_id_travels_from_the_gateway_into_every_service_log(stack: Stack) -> None:
    request_id = f"e2e-{token()}"
    answer = stack.get("/api/v1/status", headers={"X-Request-ID": request_id})
    assert answer.headers["x-request-id"] == request_id

    def logged_everywhere() -> bool:
        return all(request_id in stack.processes[s].log() for s in ("gateway", *SERVICES))

    wait_for(logged_everywhere, timeout=10, what="the request id in every log")
    for name in ("gateway", *SERVICES):
        lines = [json.loads(line) for line in stack.processes[name].log().splitlines()]
        mine = [line for line in lines if line.get("request_id") == request_id]
        assert mine, name
        assert all(line["service"] == name for line in mine)


def test_an_unsafe_request_id_is_replaced(stack: Stack) -> None:
    unsafe = 'id with spaces "quotes" and <angle>'
    answer = stack.get("/api/v1/status", headers={"X-Request-ID": unsafe})
    assert answer.headers["x-request-id"] != unsafe
    assert len(answer.headers["x-request-id"]) == 32


def test_teeth_convert_all_teeth_every_direction(stack: Stack) -> None:
    from shared.teeth import ALL_TEETH, Notation, from_fdi

    for fdi in ALL_TEETH:
        for source in Notation:
            for target in Notation:
                answer = stack.get(
                    "/api/v1/teeth/convert",
                    params={"tooth": from_fdi(fdi, source), "from": source, "to": target},
                )
                assert answer.status_code == 200, answer.text
                assert answer.json() == {
                    "tooth": from_fdi(fdi, target),
                    "fdi": fdi,
                    "notation": target.value,
                }


@pytest.mark.parametrize(
    ("params", "field", "named"),
    [
        ({"tooth": "33", "from": "universal", "to": "fdi"}, "query.tooth", "'33'"),
        ({"tooth": "U", "from": "universal", "to": "fdi"}, "query.tooth", "'U'"),
        ({"tooth": "19", "from": "fdi", "to": "universal"}, "query.tooth", "'19'"),
        ({"tooth": "86", "from": "fdi", "to": "universal"}, "query.tooth", "'86'"),
        ({"tooth": "9⏌", "from": "palmer", "to": "fdi"}, "query.tooth", "'9⏌'"),
        ({"tooth": "F⏌", "from": "palmer", "to": "fdi"}, "query.tooth", "'F⏌'"),
        ({"tooth": "8", "from": "palmer", "to": "fdi"}, "query.tooth", "'8'"),
        ({"tooth": "1", "from": "roman", "to": "fdi"}, "query.from", "'roman'"),
        ({"tooth": "11", "from": "fdi", "to": "klingon"}, "query.to", "'klingon'"),
    ],
)
def test_teeth_convert_names_the_bad_value(
    stack: Stack, params: dict[str, str], field: str, named: str
) -> None:
    answer = stack.get("/api/v1/teeth/convert", params=params)
    assert answer.status_code == 422
    body = answer.json()
    assert [e["field"] for e in body["errors"]] == [field]
    assert named in body["detail"]


def test_teeth_convert_names_every_missing_parameter(stack: Stack) -> None:
    answer = stack.get("/api/v1/teeth/convert")
    assert answer.status_code == 422
    fields = {error["field"] for error in answer.json()["errors"]}
    assert fields == {"query.tooth", "query.from", "query.to"}


def test_web_app_is_served_at_the_root(stack: Stack) -> None:
    page = stack.get("/")
    assert page.status_code == 200
    assert "<title>Bridgework</title>" in page.text
    assert stack.get("/status.js").headers["content-type"].startswith("text/javascript")


def test_a_stopped_service_turns_ready_to_503_and_calls_fail_fast(stack: Stack) -> None:
    cases = stack.processes["cases"]
    cases.stop()
    try:
        started = time.monotonic()

        def not_ready() -> dict[str, object] | None:
            answer = stack.get("/health/ready")
            return answer.json() if answer.status_code == 503 else None

        body = wait_for(not_ready, timeout=10, what="/health/ready to turn 503")
        assert time.monotonic() - started < 10
        assert body["failed"] == ["cases"]
        assert "cases" in body["checks"]["cases"]

        call_started = time.monotonic()
        answer = stack.get("/api/v1/status/cases")
        assert answer.status_code == 503
        assert answer.json()["detail"] == "the cases service is not running"
        assert time.monotonic() - call_started < 5  # RPC_TIMEOUT of this stack
        assert stack.get("/api/v1/status/identity").status_code == 200
    finally:
        cases.start()
        wait_for(stack.ready, timeout=30, what="the stack to be ready again")


def test_gateway_without_a_broker_is_not_ready_and_answers_503(tmp_path) -> None:
    port = free_port()
    dead_broker = f"amqp://guest:guest@127.0.0.1:{free_port()}/"
    env = base_env(AMQP_URI=dead_broker, GATEWAY_PORT=str(port))
    gateway = Process("gateway", procfile_commands()["gateway"], env=env, log_dir=tmp_path).start()
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for(lambda: httpx.get(f"{url}/health/live").status_code == 200, timeout=30)
        ready = httpx.get(f"{url}/health/ready")
        assert ready.status_code == 503
        assert ready.json()["failed"] == ["broker"]
        answer = httpx.get(f"{url}/api/v1/status/identity")
        assert answer.status_code == 503
        assert "broker" in answer.json()["detail"]
    finally:
        gateway.stop()


def test_the_api_reference_is_served_without_anything_from_the_internet(stack: Stack) -> None:
    import re

    page = stack.get("/docs")
    assert page.status_code == 200
    assert not re.findall(r"https?://", page.text)
    for asset in re.findall(r'(?:src|href)="([^"]+)"', page.text):
        assert stack.get(asset).status_code == 200, asset
    schema = stack.get("/openapi.json").json()
    assert "/api/v1/teeth/convert" in schema["paths"]
