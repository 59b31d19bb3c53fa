"""Event envelopes, error wire format and log lines."""

from __future__ import annotations

import io
import json
import logging
import uuid

import pytest
from pydantic import ValidationError

from shared.contracts.events import EVENT_TYPES, DomainEvent, EventEnvelope
from shared.errors import Conflict, RemoteError
from shared.logging import ContextFilter, JsonFormatter, clean_request_id, request_id_var


class SampleHappened(DomainEvent):
    event_type = "sample_happened"
    version = 2

    thing_id: uuid.UUID


def test_an_event_registers_itself_and_round_trips_through_its_envelope() -> None:
    assert EVENT_TYPES["sample_happened"] is SampleHappened
    event = SampleHappened(thing_id=uuid.uuid4())
    envelope = EventEnvelope.wrap(event, producer="tests")
    wire = json.loads(json.dumps(envelope.model_dump(mode="json")))
    received = EventEnvelope.model_validate(wire)
    assert received.version == 2 and received.producer == "tests"
    assert received.payload(SampleHappened) == event


def test_a_payload_of_another_version_is_refused() -> None:
    envelope = EventEnvelope(
        event_type="sample_happened",
        version=1,
        producer="tests",
        data={"thing_id": str(uuid.uuid4())},
    )
    with pytest.raises(ValueError, match="v1 does not match"):
        envelope.payload(SampleHappened)


def test_an_envelope_with_unknown_fields_is_refused() -> None:
    with pytest.raises(ValidationError):
        EventEnvelope.model_validate(
            {"event_type": "x", "version": 1, "producer": "p", "data": {}, "surprise": True}
        )


def test_errors_travel_with_kind_message_and_details() -> None:
    wire = Conflict("the slot is taken", details={"slot": "s1"}).to_wire()
    rebuilt = RemoteError.from_wire({**wire, "exc_type": "SlotTaken"})
    assert (rebuilt.remote_kind, rebuilt.message, rebuilt.details, rebuilt.exc_type) == (
        "conflict",
        "the slot is taken",
        {"slot": "s1"},
        "SlotTaken",
    )


def test_log_lines_are_json_with_service_and_request_id() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter(service="referrals"))
    logger = logging.getLogger("tests.json")
    logger.addHandler(handler)
    logger.propagate = False
    token = request_id_var.set("req-12345678")
    try:
        logger.warning("referral %s sent", "R-7K3F9Q", extra={"duration_ms": 3})
    finally:
        request_id_var.reset(token)
        logger.removeHandler(handler)
    line = json.loads(stream.getvalue())
    assert line["message"] == "referral R-7K3F9Q sent"
    assert line["service"] == "referrals"
    assert line["request_id"] == "req-12345678"
    assert line["level"] == "WARNING"
    assert line["duration_ms"] == 3
    assert "ts" in line


def test_a_logged_exception_keeps_its_stack_and_type_but_not_its_message() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("tests.json.exc")
    logger.addHandler(handler)
    logger.propagate = False

    patient = "Chen^" + "Maya"  # data, as a parser would quote it (not in the source lines)

    def parse_tag() -> None:
        raise ValueError(f"PatientName {patient!r} is not valid")

    try:
        try:
            parse_tag()
        except ValueError as exc:
            raise RuntimeError(f"while reading {patient}") from exc
    except RuntimeError:
        logger.exception("could not make a preview")
    finally:
        logger.removeHandler(handler)
    line = json.loads(stream.getvalue())
    assert line["message"] == "could not make a preview"
    assert "Chen" not in stream.getvalue()
    trace = line["exc_info"]
    assert "in parse_tag" in trace and "builtins.ValueError (message not logged)" in trace
    assert trace.index("ValueError") < trace.index("builtins.RuntimeError")


@pytest.mark.parametrize(
    "value", ["abc", "x" * 200, "has space here", "new\nline-123456", None, ""]
)
def test_unsafe_or_missing_request_ids_are_replaced(value: str | None) -> None:
    cleaned = clean_request_id(value)
    assert cleaned != value and len(cleaned) == 32


def test_a_well_formed_request_id_is_kept() -> None:
    assert clean_request_id("clinic-42.req:0001") == "clinic-42.req:0001"
