"""Patient Talk's texts: the pluggable sender (``SMS_URL``) and the queue's retries, on the
real database: a provider that keeps failing is retried with backoff, then given up on
(marked failed, the link cleared), and the office's e-mail still goes out."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from notifications import sms
from notifications.patient_models import PatientText
from tests.support.infra import wait_for

from .test_patient_talk import GRANTS, Talk, talk_service

FAILURES: list[str] = []


class Broken:
    """A provider that is down."""

    def send(self, *, to: str, body: str) -> str:
        FAILURES.append(to)
        raise sms.SmsError("provider answered 503")


@sms.register("broken")
def _broken(url: SplitResult) -> sms.SmsSender:
    return Broken()


def test_the_file_sink_writes_one_file_per_text(tmp_path: Path) -> None:
    sender = sms.sender_from_url(f"file:{tmp_path / 'texts'}")
    assert isinstance(sender, sms.FileSink)
    sender.send(to="+14165550199", body="Lakeside: a new message. https://x.example/p/abc")
    sender.send(to="+14165550100", body="second")
    files = sorted((tmp_path / "texts").glob("*.txt"))
    assert len(files) == 2
    assert {f.read_text().splitlines()[0] for f in files} == {
        "To: +14165550199",
        "To: +14165550100",
    }
    assert not list((tmp_path / "texts").glob("*.part"))


def test_sms_url_chooses_the_sender() -> None:
    assert sms.sender_from_url("") is None
    assert isinstance(sms.sender_from_url("broken:"), Broken)
    with pytest.raises(ValueError, match="SMS_URL: unknown scheme 'carrier-pigeon'"):
        sms.sender_from_url("carrier-pigeon://coop")


def test_backoff_doubles_up_to_a_quarter_hour() -> None:
    waits = [sms.text_backoff(n).total_seconds() for n in (1, 2, 3, 8, 20)]
    assert waits == [5, 10, 20, 640, 900]


@pytest.fixture
def broken_talk(
    run_service: Any,
    container_factory: Any,
    amqp_uri: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Talk]:
    yield from talk_service(
        run_service, container_factory, amqp_uri, tmp_path, monkeypatch, SMS_URL="broken:"
    )


def test_a_failing_provider_is_retried_then_given_up(broken_talk: Talk) -> None:
    talk = broken_talk
    office = talk.office()
    case_id = str(uuid.uuid4())
    GRANTS[case_id] = {office["office_id"]}
    thread = talk.thread(
        office, case_id, owner_type="case", mobile_phone="+14165550177", preferred_channel="text"
    )
    sent = talk.send(office, thread["id"], "Your retainer is ready.")
    assert sent["texted"] and sent["emailed"]
    talk.mail(sent["message"]["id"])  # the e-mail is queued whatever the texts do

    # The service's own timer makes the first attempt and schedules the next one later.
    def attempted() -> Any:
        rows = talk.sql("SELECT attempts, next_attempt_at - now() FROM patient_texts")
        return rows if rows and rows[0][0] >= 1 else None

    [(attempts, wait)] = wait_for(attempted, timeout=15, what="a first attempt")
    assert attempts == 1 and timedelta(seconds=2) < wait <= timedelta(seconds=5)

    engine = create_engine(talk.config["DB_URL"])
    try:
        with Session(engine) as session:
            text = session.query(PatientText).one()
            for _ in range(sms.MAX_TEXT_ATTEMPTS - 1):
                # Each try at the moment it is due: the real timer never sees it due.
                assert sms.deliver_due_texts(session, sender=Broken(), at=text.next_attempt_at) == 0
                session.commit()
            session.refresh(text)
            assert text.attempts == sms.MAX_TEXT_ATTEMPTS
            assert text.failed_at is not None and text.sent_at is None
            assert text.body is None and text.last_error == "provider answered 503"
            later = text.next_attempt_at + timedelta(days=1)
            assert sms.deliver_due_texts(session, sender=Broken(), at=later) == 0
            session.refresh(text)
            assert text.attempts == sms.MAX_TEXT_ATTEMPTS  # given up: not tried again
    finally:
        engine.dispose()
