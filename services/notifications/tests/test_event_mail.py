"""Referral, file and case events: the right e-mail to the right office's users (respecting
their preferences), with the expected content, and a feed entry for each of them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import parseaddr

from icalendar import Calendar

from shared.contracts.cases import (
    CaseCreatedEvent,
    CaseNoteAdded,
    CaseShipped,
    CaseStage,
    CaseStageChanged,
    Colour,
    PlanningBooked,
)
from shared.contracts.files import FileKind, FileUploaded, OwnerType
from shared.contracts.referrals import (
    ReferralNoteAdded,
    ReferralSent,
    ReferralStageChanged,
    Stage,
    Urgency,
)
from tests.support.smtp import attachments, html_part, text_part

from .conftest import PUBLIC_URL, Notifier
from .fakes import PATIENT_NAME


def by_recipient(mails: list[EmailMessage]) -> dict[str, EmailMessage]:
    found = {str(m["To"]): m for m in mails}
    assert len(found) == len(mails), "one message per recipient"
    return found


def feed(notifier: Notifier, user_id: uuid.UUID, office_id: uuid.UUID) -> list[dict]:
    caller = {"office_id": str(office_id), "user_id": str(user_id)}
    return notifier.rpc.list_notifications(caller=caller)["items"]


def referral_sent(sender_id: uuid.UUID, receiver_id: uuid.UUID) -> ReferralSent:
    return ReferralSent(
        referral_id=uuid.uuid4(),
        reference="R-7K3F9Q",
        sender_office_id=sender_id,
        receiver_office_id=receiver_id,
        sent_by=None,
        urgency=Urgency.soon,
    )


def test_referral_received_goes_to_every_receiver_user_who_wants_it(notifier: Notifier) -> None:
    world = notifier.world
    sender = world.office("Bright Smiles", "gp@brightsmiles.example")
    receiver = world.office(
        "Peak Surgery", "ana@peak.example", "ben@peak.example", "cy@peak.example"
    )
    ana, ben, cy = receiver.user_ids
    # Cy turned referral e-mails off (the feed still has it).
    notifier.rpc.update_preferences(
        caller={"office_id": str(receiver.id), "user_id": str(cy)}, payload={"referrals": False}
    )
    event = referral_sent(sender.id, receiver.id)
    notifier.publish("referrals", event)

    mails = by_recipient(notifier.smtp.wait_for(2))  # type: ignore[union-attr]
    assert sorted(mails) == ["ana@peak.example", "ben@peak.example"]
    mail = mails["ana@peak.example"]
    assert mail["Subject"] == "New referral R-7K3F9Q from Bright Smiles"
    assert parseaddr(mail["From"]) == ("Bright Smiles via Bridgework", "mail@bw.example")
    assert mail["Reply-To"] == sender.email
    link = f"{PUBLIC_URL}/referrals/{event.referral_id}"
    assert link in text_part(mail)
    assert f'href="{link}"' in html_part(mail)
    assert "soon" in text_part(mail)

    for user in (ana, ben, cy):
        [entry] = feed(notifier, user, receiver.id)
        assert entry["kind"] == "referral_received"
        assert entry["reference"] == "R-7K3F9Q"
        assert entry["subject_id"] == str(event.referral_id)
        assert entry["link"] == link
        assert entry["read"] is False
    # Nobody at the sending office hears about their own referral.
    assert feed(notifier, sender.user_ids[0], sender.id) == []


def test_stage_changes_reach_the_sender_and_notes_the_other_office(notifier: Notifier) -> None:
    world = notifier.world
    sender = world.office("Bright Smiles", "gp@brightsmiles.example")
    receiver = world.office("Peak Surgery", "ana@peak.example")
    referral_id = uuid.uuid4()
    appointment = datetime(2026, 12, 3, 14, 30, tzinfo=UTC)

    def changed(stage: Stage, by: uuid.UUID, **extra: object) -> ReferralStageChanged:
        return ReferralStageChanged(
            referral_id=referral_id,
            reference="R-7K3F9Q",
            sender_office_id=sender.id,
            receiver_office_id=receiver.id,
            stage=stage,
            previous_stage=Stage.sent,
            by_office_id=by,
            by_user_id=None,
            at=datetime.now(UTC),
            **extra,  # type: ignore[arg-type]
        )

    for stage in (Stage.accepted, Stage.declined, Stage.completed, Stage.closed):
        notifier.publish("referrals", changed(stage, receiver.id))
    notifier.publish("referrals", changed(Stage.booked, receiver.id, appointment_at=appointment))
    # Not news for anyone: the sender's own change, and a stage nobody is told about.
    quiet = [
        notifier.publish("referrals", changed(Stage.cancelled, sender.id)),
        notifier.publish("referrals", changed(Stage.contacted, receiver.id)),
    ]
    notifier.publish(
        "referrals",
        ReferralNoteAdded(
            referral_id=referral_id,
            reference="R-7K3F9Q",
            note_id=uuid.uuid4(),
            author_office_id=sender.id,
            recipient_office_id=receiver.id,
        ),
    )
    mails = notifier.smtp.wait_for(6)  # type: ignore[union-attr]
    for envelope in quiet:
        notifier.handled(envelope)

    to_sender = {m["Subject"]: m for m in mails if m["To"] == "gp@brightsmiles.example"}
    assert sorted(to_sender) == sorted(
        f"Referral R-7K3F9Q was {news} by Peak Surgery"
        for news in ("accepted", "declined", "completed", "closed with a report back", "booked")
    )
    booked = to_sender["Referral R-7K3F9Q was booked by Peak Surgery"]
    # The appointment in the sender's time zone (Toronto: UTC-5 in December).
    assert "Thursday 3 December 2026, 09:30 EST" in text_part(booked)
    assert booked["Reply-To"] == receiver.email

    [note] = [m for m in mails if m["To"] == "ana@peak.example"]
    assert note["Subject"] == "New note on referral R-7K3F9Q from Bright Smiles"
    assert f"{PUBLIC_URL}/referrals/{referral_id}" in text_part(note)
    assert len(mails) == 6
    kinds = [e["kind"] for e in feed(notifier, sender.user_ids[0], sender.id)]
    assert sorted(kinds) == [
        f"referral_{stage}" for stage in ("accepted", "booked", "closed", "completed", "declined")
    ]


def test_notes_respect_the_notes_preference(notifier: Notifier) -> None:
    world = notifier.world
    sender = world.office("Bright Smiles", "gp@brightsmiles.example")
    receiver = world.office("Peak Surgery", "ana@peak.example", "ben@peak.example")
    ana, _ben = receiver.user_ids
    notifier.rpc.update_preferences(
        caller={"office_id": str(receiver.id), "user_id": str(ana)}, payload={"notes": False}
    )
    for _ in range(2):
        notifier.publish(
            "referrals",
            ReferralNoteAdded(
                referral_id=uuid.uuid4(),
                reference="R-AAAA11",
                note_id=uuid.uuid4(),
                author_office_id=sender.id,
                recipient_office_id=receiver.id,
            ),
        )
    mails = notifier.smtp.wait_for(2)  # type: ignore[union-attr]
    assert [m["To"] for m in mails] == ["ben@peak.example", "ben@peak.example"]
    assert len(feed(notifier, ana, receiver.id)) == 2


def test_a_case_note_reaches_the_other_office_once_with_a_link_to_the_case(
    notifier: Notifier,
) -> None:
    world = notifier.world
    client = world.office("Bright Smiles", "gp@brightsmiles.example")
    lab = world.office("Acme Lab", "tech@acme.example", "qa@acme.example")
    tech, qa = lab.user_ids
    notifier.rpc.update_preferences(
        caller={"office_id": str(lab.id), "user_id": str(qa)}, payload={"notes": False}
    )
    case_id = uuid.uuid4()
    event = CaseNoteAdded(
        case_id=case_id,
        reference="C-2026-00042",
        note_id=uuid.uuid4(),
        author_office_id=client.id,
        recipient_office_id=lab.id,
    )
    envelope = notifier.publish("cases", event, times=2)  # delivered twice: one mail
    notifier.handled(envelope)

    [mail] = notifier.smtp.wait_for(1)  # type: ignore[union-attr]
    assert mail["To"] == "tech@acme.example"
    assert mail["Subject"] == "New note on case C-2026-00042 from Bright Smiles"
    assert mail["Reply-To"] == client.email
    link = f"{PUBLIC_URL}/cases/{case_id}"
    assert link in text_part(mail) and f'href="{link}"' in html_part(mail)
    assert PATIENT_NAME not in text_part(mail)
    for user in (tech, qa):  # the feed has it for both, the e-mail only for who wants it
        [entry] = feed(notifier, user, lab.id)
        assert entry["kind"] == "case_note"
        assert (entry["subject_type"], entry["subject_id"]) == ("case", str(case_id))
        assert entry["link"] == link and entry["reference"] == "C-2026-00042"
    # The author's own office hears nothing.
    assert feed(notifier, client.user_ids[0], client.id) == []


def test_a_new_file_is_announced_to_the_other_office(notifier: Notifier) -> None:
    world = notifier.world
    sender = world.office("Bright Smiles", "gp@brightsmiles.example")
    receiver = world.office("Peak Surgery", "ana@peak.example")
    lab = world.office("Acme Lab", "tech@acme.example")
    referral = referral_sent(sender.id, receiver.id)
    world.owners[str(referral.referral_id)] = [sender.id, receiver.id]
    case_id = world.case(sender, lab, "C-2026-00042")
    notifier.publish("referrals", referral)
    notifier.smtp.wait_for(1)  # type: ignore[union-attr]

    notifier.publish(
        "files",
        FileUploaded(
            file_id=uuid.uuid4(),
            owner_type=OwnerType.referral,
            owner_id=referral.referral_id,
            kind=FileKind.dicom,
            uploaded_by_office_id=sender.id,
            uploaded_by_user_id=sender.user_ids[0],
        ),
    )
    notifier.publish(
        "files",
        FileUploaded(
            file_id=uuid.uuid4(),
            owner_type=OwnerType.case,
            owner_id=case_id,
            kind=FileKind.stl,
            uploaded_by_office_id=lab.id,
            uploaded_by_user_id=None,
        ),
    )
    mails = notifier.smtp.wait_for(3)[1:]  # type: ignore[union-attr]
    got = {m["To"]: m for m in mails}
    assert sorted(got) == ["ana@peak.example", "gp@brightsmiles.example"]
    on_referral = got["ana@peak.example"]
    assert on_referral["Subject"] == "New file shared on referral R-7K3F9Q by Bright Smiles"
    assert f"{PUBLIC_URL}/referrals/{referral.referral_id}" in text_part(on_referral)
    on_case = got["gp@brightsmiles.example"]
    assert on_case["Subject"] == "New file shared on case C-2026-00042 by Acme Lab"
    assert f"{PUBLIC_URL}/cases/{case_id}" in text_part(on_case)
    assert "stl" in text_part(on_case)
    # The uploading office asked for the owner's offices; the other office's own view
    # was checked before it was told.
    checks = [
        (c[0], c[1]["caller"]["office_id"]) for c in world.calls if c[0].endswith("check_access")
    ]
    assert sorted(checks) == sorted(
        [
            ("referrals.check_access", str(sender.id)),
            ("referrals.check_access", str(receiver.id)),
            ("cases.check_access", str(lab.id)),
            ("cases.check_access", str(sender.id)),
        ]
    )
    # Per owner, the uploader asked first.
    assert next(c for c in checks if c[0].startswith("referrals"))[1] == str(sender.id)
    assert next(c for c in checks if c[0].startswith("cases"))[1] == str(lab.id)


def test_a_file_on_a_draft_referral_is_not_announced(notifier: Notifier) -> None:
    world = notifier.world
    sender = world.office("Bright Smiles", "gp@brightsmiles.example")
    receiver = world.office("Peak Surgery", "ana@peak.example")
    draft = uuid.uuid4()
    world.owners[str(draft)] = [sender.id, receiver.id]
    world.drafts.add(str(draft))
    envelope = notifier.publish(
        "files",
        FileUploaded(
            file_id=uuid.uuid4(),
            owner_type=OwnerType.referral,
            owner_id=draft,
            kind=FileKind.pdf,
            uploaded_by_office_id=sender.id,
            uploaded_by_user_id=sender.user_ids[0],
        ),
    )
    notifier.handled(envelope)
    assert notifier.mail_rows() == []
    assert feed(notifier, receiver.user_ids[0], receiver.id) == []


def test_case_events_reach_the_right_offices(notifier: Notifier) -> None:
    world = notifier.world
    client = world.office("Bright Smiles", "gp@brightsmiles.example", "nurse@brightsmiles.example")
    lab = world.office("Acme Lab", "tech@acme.example")
    case_id = world.case(client, lab, "C-2026-00042")
    common = {
        "case_id": case_id,
        "reference": "C-2026-00042",
        "client_office_id": client.id,
        "lab_office_id": lab.id,
    }
    notifier.publish("cases", CaseCreatedEvent(**common, created_by_user_id=client.user_ids[0]))
    [confirmation] = notifier.smtp.wait_for(1)  # type: ignore[union-attr]
    assert confirmation["To"] == client.email  # the office's account address
    assert confirmation["Subject"] == "Case C-2026-00042 was sent to Acme Lab"
    assert confirmation["Reply-To"] == lab.email
    summary = text_part(confirmation)
    for expected in (
        "C-2026-00042",
        "Acme Lab",
        "Processing",
        "19, 30",
        "2026-12-15",
        "2026-12-10",
    ):
        assert expected in summary
    assert f"{PUBLIC_URL}/cases/{case_id}" in summary
    assert [e["kind"] for e in feed(notifier, lab.user_ids[0], lab.id)] == ["case_created"]

    def stage(to: CaseStage, colour: Colour) -> CaseStageChanged:
        return CaseStageChanged(
            **common,
            stage=to,
            previous_stage=CaseStage.processing,
            colour=colour,
            client_must_act=colour is Colour.red,
            by_office_id=lab.id,
            by_user_id=None,
            at=datetime.now(UTC),
        )

    green = notifier.publish("cases", stage(CaseStage.received, Colour.green))
    notifier.publish("cases", stage(CaseStage.missing_files, Colour.red))
    red = notifier.smtp.wait_for(3)[1:]  # type: ignore[union-attr]
    notifier.handled(green)
    assert sorted(m["To"] for m in red) == sorted(client.addresses)
    assert {m["Subject"] for m in red} == {"Case C-2026-00042 needs your action"}
    assert "Missing CBCT/Models" in text_part(red[0])

    start = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
    notifier.publish(
        "cases",
        PlanningBooked(
            **common,
            booking_id=uuid.uuid4(),
            start=start,
            end=start + timedelta(minutes=45),
            time_zone="America/Toronto",
        ),
    )
    booked = notifier.smtp.wait_for(6)[3:]  # type: ignore[union-attr]
    assert sorted(m["To"] for m in booked) == sorted(client.addresses + lab.addresses)
    for mail in booked:
        assert mail["Subject"] == "Planning session booked for case C-2026-00042"
        [(name, (content_type, data))] = attachments(mail).items()
        assert name == "C-2026-00042-planning.ics"
        assert content_type == "text/calendar"
        calendar = Calendar.from_ical(data)
        [vevent] = calendar.walk("VEVENT")
        assert vevent.decoded("dtstart") == start
        assert str(vevent["uid"]) == f"{case_id}@bridgework"
        assert "10:00 EST" in text_part(mail)  # 15:00 UTC in Toronto
    [ics_call] = [c for c in world.calls if c[0] == "render_booking_ics"]
    assert ics_call[1]["caller"]["office_id"] == str(client.id)

    notifier.publish(
        "cases",
        CaseShipped(
            **common,
            carrier="UPS",
            tracking_number="1Z999AA1",
            tracking_url="https://ups.example/track/1Z999AA1",
        ),
    )
    shipped = notifier.smtp.wait_for(8)[6:]  # type: ignore[union-attr]
    assert sorted(m["To"] for m in shipped) == sorted(client.addresses)
    mail = shipped[0]
    assert mail["Subject"] == "Case C-2026-00042 has shipped"
    assert 'href="https://ups.example/track/1Z999AA1"' in html_part(mail)
    assert "1Z999AA1" in text_part(mail)
    assert parseaddr(mail["From"]) == ("Acme Lab via Bridgework", "mail@bw.example")

    # No patient data anywhere in what went out, though the brief carried the name.
    for sent in notifier.smtp.messages():  # type: ignore[union-attr]
        assert "Maya" not in sent["Subject"]
        assert PATIENT_NAME not in text_part(sent)
        assert PATIENT_NAME not in html_part(sent)
