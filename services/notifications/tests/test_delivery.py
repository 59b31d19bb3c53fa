"""Delivery guarantees: once per event and recipient however often the event comes, waiting
out an SMTP outage, giving up after MAIL_MAX_ATTEMPTS, the .eml folder, SMTP settings."""

from __future__ import annotations

import logging
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from notifications.mailer import MAIL_FAILED, MailSettings, SmtpTarget, parse_smtp_url
from shared.contracts.cases import (
    CaseCreatedEvent,
    CaseShipped,
    CaseStage,
    CaseStageChanged,
    Colour,
    PlanningBooked,
)
from shared.contracts.files import FileKind, FileUploaded, OwnerType
from shared.contracts.identity import (
    AccountLocked,
    InvitationKind,
    InvitationSent,
    OfficeRegistered,
    PasswordResetRequested,
    VerificationResent,
)
from shared.contracts.referrals import (
    ReferralNoteAdded,
    ReferralSent,
    ReferralStageChanged,
    Stage,
    Urgency,
)
from tests.support.infra import wait_for
from tests.support.smtp import (
    SmtpServer,
    free_port,
    parse_message,
    self_signed_certificate,
    text_part,
)

from .conftest import PUBLIC_URL, Notifier


def some_events(notifier: Notifier) -> list[tuple[str, object]]:
    """Four events that send five e-mails in all."""
    world = notifier.world
    sender = world.office("Bright Smiles", "gp@brightsmiles.example")
    receiver = world.office("Peak Surgery", "ana@peak.example", "ben@peak.example")
    lab = world.office("Acme Lab", "tech@acme.example")
    return [
        (
            "identity",
            OfficeRegistered(
                office_id=uuid.uuid4(),
                user_id=uuid.uuid4(),
                email="new@x.example",
                link_id=world.link(f"{PUBLIC_URL}/verify?token=v"),
            ),
        ),
        (
            "referrals",
            ReferralSent(
                referral_id=uuid.uuid4(),
                reference="R-7K3F9Q",
                sender_office_id=sender.id,
                receiver_office_id=receiver.id,
                sent_by=None,
                urgency=Urgency.routine,
            ),
        ),
        (
            "referrals",
            ReferralNoteAdded(
                referral_id=uuid.uuid4(),
                reference="R-7K3F9Q",
                note_id=uuid.uuid4(),
                author_office_id=receiver.id,
                recipient_office_id=sender.id,
            ),
        ),
        (
            "cases",
            CaseShipped(
                case_id=uuid.uuid4(),
                reference="C-2026-00042",
                client_office_id=sender.id,
                lab_office_id=lab.id,
                carrier="UPS",
                tracking_number="1Z1",
                tracking_url=None,
            ),
        ),
    ]


def test_every_event_delivered_three_times_sends_each_message_once(notifier: Notifier) -> None:
    envelopes = [
        notifier.publish(producer, event, times=3)  # type: ignore[arg-type]
        for producer, event in some_events(notifier)
    ]
    for envelope in envelopes:
        notifier.handled(envelope)
    mails = notifier.smtp.wait_for(5)  # type: ignore[union-attr]
    time.sleep(1.5)  # room for a duplicate to show up

    mails = notifier.smtp.messages()  # type: ignore[union-attr]
    assert sorted((m["To"], m["Subject"]) for m in mails) == sorted(
        [
            ("new@x.example", "Verify your e-mail address for Bridgework"),
            ("ana@peak.example", "New referral R-7K3F9Q from Bright Smiles"),
            ("ben@peak.example", "New referral R-7K3F9Q from Bright Smiles"),
            ("gp@brightsmiles.example", "New note on referral R-7K3F9Q from Peak Surgery"),
            ("gp@brightsmiles.example", "Case C-2026-00042 has shipped"),
        ]
    )
    # Each event was handled once: one link issued, one feed entry per user and event.
    assert len([c for c in notifier.world.calls if c[0] == "issue_link"]) == 1
    assert notifier.sql("SELECT count(*) FROM notifications")[0][0] == 4
    assert notifier.sql(
        "SELECT count(*) FROM outgoing_mail WHERE status = 'sent' AND attempts = 1"
    ) == [(5,)]
    # Delivered messages keep no content (links, office and case details): only the record.
    assert notifier.sql(
        "SELECT count(*) FROM outgoing_mail WHERE text_body <> '' OR html_body IS NOT NULL"
        " OR attachments <> '[]'::jsonb"
    ) == [(0,)]


def every_event(notifier: Notifier) -> list[tuple[str, object]]:
    """One event of every kind the service consumes (14 e-mails in all)."""
    world = notifier.world
    gp = world.office("Bright Smiles", "gp@brightsmiles.example")
    surgeon = world.office("Peak Surgery", "ana@peak.example")
    lab = world.office("Acme Lab", "tech@acme.example")
    referral, case = uuid.uuid4(), world.case(gp, lab, "C-2026-00042")
    world.owners[str(referral)] = [gp.id, surgeon.id]
    person = {"office_id": uuid.uuid4(), "user_id": uuid.uuid4()}
    now = datetime.now(UTC)
    on_referral = {
        "referral_id": referral,
        "reference": "R-7K3F9Q",
        "sender_office_id": gp.id,
        "receiver_office_id": surgeon.id,
    }
    on_case = {
        "case_id": case,
        "reference": "C-2026-00042",
        "client_office_id": gp.id,
        "lab_office_id": lab.id,
    }
    return [
        ("identity", OfficeRegistered(**person, email="a@x.example", link_id=world.link("u1"))),
        ("identity", VerificationResent(**person, email="b@x.example", link_id=world.link("u2"))),
        (
            "identity",
            InvitationSent(
                invitation_id=uuid.uuid4(),
                kind=InvitationKind.staff,
                from_office_id=gp.id,
                from_office_name="Bright Smiles",
                invited_by=None,
                email="c@x.example",
                link_id=world.link("u3"),
            ),
        ),
        (
            "identity",
            PasswordResetRequested(**person, email="d@x.example", link_id=world.link("u4")),
        ),
        ("identity", AccountLocked(**person, email="e@x.example", locked_until=now)),
        ("referrals", ReferralSent(**on_referral, sent_by=None, urgency=Urgency.routine)),
        (
            "referrals",
            ReferralStageChanged(
                **on_referral,
                stage=Stage.accepted,
                previous_stage=Stage.sent,
                by_office_id=surgeon.id,
                by_user_id=None,
                at=now,
            ),
        ),
        (
            "referrals",
            ReferralNoteAdded(
                referral_id=referral,
                reference="R-7K3F9Q",
                note_id=uuid.uuid4(),
                author_office_id=surgeon.id,
                recipient_office_id=gp.id,
            ),
        ),
        (
            "files",
            FileUploaded(
                file_id=uuid.uuid4(),
                owner_type=OwnerType.referral,
                owner_id=referral,
                kind=FileKind.pdf,
                uploaded_by_office_id=gp.id,
                uploaded_by_user_id=None,
            ),
        ),
        ("cases", CaseCreatedEvent(**on_case, created_by_user_id=None)),
        (
            "cases",
            CaseStageChanged(
                **on_case,
                stage=CaseStage.ready_to_plan,
                previous_stage=CaseStage.received,
                colour=Colour.red,
                client_must_act=True,
                by_office_id=lab.id,
                by_user_id=None,
                at=now,
            ),
        ),
        (
            "cases",
            PlanningBooked(
                **on_case,
                booking_id=uuid.uuid4(),
                start=now + timedelta(days=2),
                end=now + timedelta(days=2, hours=1),
                time_zone="America/Toronto",
            ),
        ),
        (
            "cases",
            CaseShipped(**on_case, carrier="UPS", tracking_number="1Z1", tracking_url=None),
        ),
    ]


def test_every_kind_of_event_delivered_three_times_is_mailed_once(notifier: Notifier) -> None:
    envelopes = [
        notifier.publish(producer, event, times=3)  # type: ignore[arg-type]
        for producer, event in every_event(notifier)
    ]
    for envelope in envelopes:
        notifier.handled(envelope)
    notifier.smtp.wait_for(14)  # type: ignore[union-attr]
    time.sleep(1.5)  # room for a duplicate to show up

    mails = notifier.smtp.messages()  # type: ignore[union-attr]
    received = sorted((str(m["To"]), str(m["Subject"])) for m in mails)
    assert len(received) == 14
    assert len(set(received)) == 14, received
    planning = [m for m in mails if m["Subject"].startswith("Planning session")]
    assert sorted(m["To"] for m in planning) == ["gp@brightsmiles.example", "tech@acme.example"]
    # One RPC round per event, not per delivery.
    assert len([c for c in notifier.world.calls if c[0] == "issue_link"]) == 4
    assert len([c for c in notifier.world.calls if c[0] == "render_booking_ics"]) == 1


def test_an_event_waits_for_a_service_that_is_down(start_notifier, smtp_server) -> None:
    """identity is not running when the event comes: the handler fails, the broker keeps
    the event, and once identity answers the mail goes out once."""
    notifier = start_notifier(smtp_server, fakes=False)
    envelope = notifier.publish(
        "identity",
        OfficeRegistered(
            office_id=uuid.uuid4(),
            user_id=uuid.uuid4(),
            email="patient.wait@x.example",
            link_id=notifier.world.link(f"{PUBLIC_URL}/verify?token=late"),
        ),
    )
    time.sleep(2)
    assert smtp_server.messages() == []
    assert (
        notifier.sql("SELECT 1 FROM processed_events WHERE event_id = %s", str(envelope.event_id))
        == []
    )
    notifier.start_fakes()
    [mail] = smtp_server.wait_for(1, timeout=30)
    assert mail["To"] == "patient.wait@x.example"
    time.sleep(1.5)
    assert len(smtp_server.messages()) == 1


def test_smtp_down_then_up_every_message_arrives_once(start_notifier, tmp_path: Path) -> None:
    smtp = SmtpServer(tmp_path / "smtp", free_port())  # not started: the server is down
    notifier = start_notifier(smtp)
    try:
        for producer, event in some_events(notifier):
            notifier.publish(producer, event)  # type: ignore[arg-type]
        # Every message is queued and has failed at least twice, waiting with backoff.
        wait_for(
            lambda: (
                len(notifier.mail_rows()) == 5
                and all(
                    status == "queued" and attempts >= 2
                    for _k, status, attempts in notifier.mail_rows()
                )
            ),
            timeout=30,
            what="five messages failing and waiting",
        )
        smtp.start()
        mails = smtp.wait_for(5, timeout=30)
        time.sleep(1.5)
        assert len(smtp.messages()) == 5
        assert len({m["Message-ID"] for m in mails}) == 5
        assert {status for _k, status, _a in notifier.mail_rows()} == {"sent"}
    finally:
        smtp.stop()


def test_a_message_is_marked_failed_after_max_attempts(
    start_notifier, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    smtp = SmtpServer(tmp_path / "smtp", free_port())  # never started
    notifier = start_notifier(smtp, MAIL_MAX_ATTEMPTS=3)
    failed_before = MAIL_FAILED._value.get()
    caplog.set_level(logging.INFO, logger="notifications.mailer")
    notifier.publish(
        "identity",
        PasswordResetRequested(
            office_id=uuid.uuid4(),
            user_id=uuid.uuid4(),
            email="secret.person@x.example",
            link_id=notifier.world.link(f"{PUBLIC_URL}/reset-password?token=r"),
        ),
    )
    wait_for(
        lambda: notifier.mail_rows() and notifier.mail_rows()[0][1] == "failed",
        timeout=30,
        what="the message to be marked failed",
    )
    [(_key, status, attempts)] = notifier.mail_rows()
    assert (status, attempts) == ("failed", 3)
    time.sleep(1)
    assert notifier.mail_rows()[0][2] == 3  # no further attempt

    [failed] = notifier.rpc.list_mail(status="failed")
    assert failed["attempts"] == 3
    assert failed["last_error"] == "ConnectionRefusedError"
    assert failed["failed_at"] is not None
    assert notifier.rpc.list_mail(status="queued") == []
    assert MAIL_FAILED._value.get() == failed_before + 1
    [line] = [r for r in caplog.records if "failed after" in r.getMessage()]
    assert line.levelno == logging.ERROR
    assert failed["id"] in line.getMessage()
    assert "secret.person" not in caplog.text


def test_without_smtp_each_message_is_an_eml_file(
    start_notifier, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "mail"
    caplog.set_level(logging.INFO, logger="notifications.mailer")
    notifier = start_notifier(None, SMTP_URL="", MAIL_DIR=str(folder))
    url = f"{PUBLIC_URL}/verify?token=eml"
    notifier.publish(
        "identity",
        OfficeRegistered(
            office_id=uuid.uuid4(),
            user_id=uuid.uuid4(),
            email="newcomer@x.example",
            link_id=notifier.world.link(url),
        ),
    )
    [path] = wait_for(lambda: list(folder.glob("*.eml")), timeout=20, what="an .eml file")
    mail = parse_message(path.read_bytes())
    assert mail["To"] == "newcomer@x.example"
    assert mail["Subject"] == "Verify your e-mail address for Bridgework"
    assert url in text_part(mail)
    assert f"mail written to {path}" in caplog.text
    assert list(folder.glob("*.partial")) == []


def test_smtp_credentials_from_the_url_and_smtp_password(start_notifier, tmp_path: Path) -> None:
    smtp = SmtpServer(tmp_path / "smtp", free_port(), credentials="bridgework:s3cret")
    smtp.start()
    try:
        notifier = start_notifier(
            None,
            SMTP_URL=f"smtp://bridgework:wrong@127.0.0.1:{smtp.port}",
            SMTP_PASSWORD="s3cret",  # wins over the URL's
        )
        notifier.publish(
            "identity",
            OfficeRegistered(
                office_id=uuid.uuid4(),
                user_id=uuid.uuid4(),
                email="authed@x.example",
                link_id=notifier.world.link(f"{PUBLIC_URL}/verify?token=a"),
            ),
        )
        [mail] = smtp.wait_for(1)
        assert mail["To"] == "authed@x.example"
    finally:
        smtp.stop()


TLS_URLS = {
    "starttls": "smtp://bridgework@127.0.0.1:{port}?starttls=1",
    "implicit": "smtps://bridgework@127.0.0.1:{port}",
}


def tls_relay(tmp_path: Path, mode: str) -> tuple[SmtpServer, Path]:
    """A relay with a certificate of its own (a private CA), login only over TLS."""
    cert = self_signed_certificate(tmp_path / "tls")
    smtp = SmtpServer(
        tmp_path / "smtp", free_port(), credentials="bridgework:s3cret", tls=mode, cert=cert
    )
    smtp.start()
    return smtp, cert[0]


def registered(notifier: Notifier, email: str) -> None:
    notifier.publish(
        "identity",
        OfficeRegistered(
            office_id=uuid.uuid4(),
            user_id=uuid.uuid4(),
            email=email,
            link_id=notifier.world.link(f"{PUBLIC_URL}/verify?token=t"),
        ),
    )


@pytest.mark.parametrize("mode", sorted(TLS_URLS))
def test_a_tls_relay_trusted_through_smtp_ca_file_gets_the_mail(
    start_notifier, tmp_path: Path, mode: str
) -> None:
    smtp, ca_file = tls_relay(tmp_path, mode)
    try:
        notifier = start_notifier(
            None,
            SMTP_URL=TLS_URLS[mode].format(port=smtp.port),
            SMTP_PASSWORD="s3cret",
            SMTP_CA_FILE=str(ca_file),
        )
        registered(notifier, "tls-ok@x.example")
        [mail] = smtp.wait_for(1)
        assert mail["To"] == "tls-ok@x.example"
    finally:
        smtp.stop()


def test_an_untrusted_relay_certificate_sends_nothing(start_notifier, tmp_path: Path) -> None:
    smtp, _ca_file = tls_relay(tmp_path, "starttls")
    try:
        notifier = start_notifier(
            None,
            SMTP_URL=TLS_URLS["starttls"].format(port=smtp.port),
            SMTP_PASSWORD="s3cret",
            MAIL_MAX_ATTEMPTS=2,
        )
        registered(notifier, "tls@x.example")
        wait_for(
            lambda: [row[1] for row in notifier.mail_rows()] == ["failed"],
            timeout=30,
            what="the untrusted relay refused",
        )
        [failed] = notifier.rpc.list_mail(status="failed")
        assert failed["last_error"] == "SSLCertVerificationError"
        assert smtp.messages() == []
    finally:
        smtp.stop()


def test_smtp_urls() -> None:
    assert parse_smtp_url("") is None
    assert parse_smtp_url("smtp://user:p%40ss@mail.example:587?starttls=1") == SmtpTarget(
        host="mail.example", port=587, tls=False, starttls=True, username="user", password="p@ss"
    )
    assert parse_smtp_url("smtps://mail.example", "from-env") == SmtpTarget(
        host="mail.example", port=465, tls=True, starttls=False, username=None, password="from-env"
    )
    assert parse_smtp_url("smtp://localhost").port == 25  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="SMTP_URL"):
        parse_smtp_url("http://mail.example")


def test_backoff_doubles_up_to_the_cap() -> None:
    settings = MailSettings(retry_seconds=30, retry_max_seconds=300)
    waits = [settings.backoff(n).total_seconds() for n in range(1, 7)]
    assert waits == [30, 60, 120, 240, 300, 300]
    assert MailSettings.from_config({"MAIL_MAX_ATTEMPTS": "4", "SMTP_URL": ""}).max_attempts == 4
    with pytest.raises(ValueError, match="MAIL_MAX_ATTEMPTS"):
        MailSettings.from_config({"MAIL_MAX_ATTEMPTS": "0"})
