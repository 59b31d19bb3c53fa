"""The printable referral slip: rendered to PDF and read back with pdftotext."""

from __future__ import annotations

import subprocess
import tempfile
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from referrals.documents import offline_url_fetcher, render_referral_pdf
from shared.contracts.identity import OfficeKind, OfficeProfile, ProviderOut
from shared.contracts.referrals import (
    ContactMethod,
    NoteOut,
    Party,
    PatientOut,
    ProcedureOut,
    ReferralDetail,
    Sex,
    Stage,
    TimelineEntry,
    ToothOut,
    Urgency,
)
from shared.teeth import Notation, from_fdi

SENT_AT = datetime(2026, 11, 20, 14, 30, tzinfo=UTC)


def _office(name: str, notation: Notation, city: str) -> OfficeProfile:
    return OfficeProfile(
        id=uuid.uuid4(),
        name=name,
        kind=OfficeKind.specialist,
        specialty="Oral surgery",
        email=f"front@{uuid.uuid4().hex[:8]}.example",
        phone="+1 416 555 0134",
        address={
            "street": "120 King St W, Suite 400",
            "city": city,
            "region": "ON",
            "postal_code": "M5H 1J9",
            "country": "CA",
        },
        time_zone="America/Toronto",
        notation=notation,
        accepts_referrals=True,
        providers=[ProviderOut(id=uuid.uuid4(), display_name="Dr. Amara Okafor")],
    )


def _note(office: OfficeProfile, body: str, minutes: int) -> NoteOut:
    return NoteOut(
        id=uuid.uuid4(),
        body=body,
        author_user_id=uuid.uuid4(),
        author_name="Dr. Lin Park",
        office_id=office.id,
        at=SENT_AT + timedelta(minutes=minutes),
        new=False,
    )


def _detail(
    *,
    first_name: str = "Maya",
    notation: Notation = Notation.FDI,
    teeth: tuple[str, ...] = ("16", "21"),
    notes: int = 2,
) -> ReferralDetail:
    """A referral sent by Bright Smiles to Harbour Oral Surgery, read by ``notation``'s reader."""
    sender = _office(f"Bright Smiles {uuid.uuid4().hex[:4]}", Notation.UNIVERSAL, "Toronto")
    receiver = _office(f"Harbour Oral Surgery {uuid.uuid4().hex[:4]}", Notation.FDI, "Ottawa")
    authors = [sender, receiver]
    return ReferralDetail(
        id=uuid.uuid4(),
        reference=f"R-{uuid.uuid4().hex[:6].upper()}",
        stage=Stage.booked,
        urgency=Urgency.soon,
        sender=Party(office=sender, provider_id=uuid.uuid4(), provider_name="Dr. Sam Rivera"),
        receiver=Party(office=receiver, provider_id=uuid.uuid4(), provider_name="Dr. Amara Okafor"),
        patient=PatientOut(
            first_name=first_name,
            last_name="Chen",
            date_of_birth=date(1988, 4, 12),
            sex=Sex.female,
            phones=["+1 416 555 0199", "+1 647 555 0100"],
            email="maya.chen@example.com",
            address={"street": "9 Elm St", "city": "Toronto", "region": "ON", "country": "CA"},
            preferred_contact=ContactMethod.text,
            insurance_note="Sun Life, plan 44821",
        ),
        procedures=[ProcedureOut(id=uuid.uuid4(), name="Third molar extraction")],
        other_procedures="Bone graft",
        teeth=[ToothOut(iso=iso, label=from_fdi(iso, notation)) for iso in teeth],
        notation=notation,
        case_notes="Pain on biting for three weeks.\nPanoramic X-ray attached.",
        created_at=SENT_AT,
        sent_at=SENT_AT,
        updated_at=SENT_AT + timedelta(days=1),
        appointment_at=SENT_AT + timedelta(days=7),
        timeline=[
            TimelineEntry(stage=Stage.sent, at=SENT_AT, by_user_id=None, by_office_id=sender.id),
            TimelineEntry(
                stage=Stage.accepted,
                at=SENT_AT + timedelta(hours=2),
                by_user_id=None,
                by_office_id=receiver.id,
            ),
            TimelineEntry(
                stage=Stage.booked,
                at=SENT_AT + timedelta(days=1),
                by_user_id=None,
                by_office_id=receiver.id,
                appointment_at=SENT_AT + timedelta(days=7),
            ),
        ],
        notes=[
            _note(authors[i % 2], f"Note {i}: the patient prefers mornings. " * 3, 10 * i)
            for i in range(notes)
        ],
        allowed_stages=[Stage.completed],
    )


def _poppler(tool: str, pdf: bytes, *args: str) -> str:
    """What a poppler-utils tool (pdftotext, pdfinfo) prints for ``pdf``."""
    assert pdf.startswith(b"%PDF-")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "slip.pdf"
        path.write_bytes(pdf)
        done = subprocess.run(
            [tool, *args, str(path), *(["-"] if tool == "pdftotext" else [])],
            capture_output=True,
            check=True,
            timeout=30,
        )
    return done.stdout.decode("utf-8")


def _pdf_text(pdf: bytes) -> str:
    return _poppler("pdftotext", pdf, "-layout", "-enc", "UTF-8")


def test_slip_shows_both_offices_patient_teeth_procedures_and_notes() -> None:
    detail = _detail()

    text = _pdf_text(render_referral_pdf(detail))

    assert detail.sender.office.name in text
    assert detail.receiver is not None and detail.receiver.office.name in text
    assert "Referred by" in text and "Referred to" in text
    assert detail.reference in text
    assert "Sent 20 Nov 2026" in text
    assert "Appointment booked" in text
    assert "Maya Chen" in text
    assert "12 Apr 1988" in text
    assert "16, 21" in text  # an FDI reader's labels are the ISO codes themselves
    assert "Third molar extraction" in text and "Bone graft" in text
    assert "Pain on biting for three weeks." in text
    assert "Note 1: the patient prefers mornings." in text
    assert "Dr. Lin Park" in text
    assert "Page 1 of" in text


def test_teeth_are_in_the_readers_notation_with_their_iso_codes() -> None:
    universal = _pdf_text(render_referral_pdf(_detail(notation=Notation.UNIVERSAL)))
    palmer = _pdf_text(render_referral_pdf(_detail(notation=Notation.PALMER, teeth=("16", "55"))))

    assert "3 (ISO 16), 9 (ISO 21)" in universal
    # Palmer prints with box-drawing brackets: no installed font has the dentistry symbols.
    assert "6\u2518 (ISO 16)" in palmer
    assert "Primary teeth: E\u2518" in palmer


def test_html_in_patient_text_is_printed_literally() -> None:
    detail = _detail(first_name="<b>Bob</b>")

    text = _pdf_text(render_referral_pdf(detail))

    assert "<b>Bob</b> Chen" in text


def test_a_long_referral_runs_onto_numbered_pages() -> None:
    pdf = render_referral_pdf(_detail(notes=14))

    text = _pdf_text(pdf)
    assert "Pages:           2" in _poppler("pdfinfo", pdf)
    assert "(letter)" in _poppler("pdfinfo", pdf)
    assert "Page 1 of 2" in text
    assert "Page 2 of 2" in text
    assert "Note 13: the patient prefers mornings." in text


def test_a4_is_available_with_times_in_the_readers_zone() -> None:
    detail = _detail()
    detail.patient.insurance_note = '<img src="x.png">'

    pdf = render_referral_pdf(detail, page_size="A4", time_zone="America/Toronto")

    text = _pdf_text(pdf)
    assert "(A4)" in _poppler("pdfinfo", pdf)
    assert '<img src="x.png">' in text
    assert "20 Nov 2026, 09:30 EST" in text  # sent at 14:30 UTC


def test_weasyprint_may_fetch_only_data_urls() -> None:
    fetcher = offline_url_fetcher()

    for url in ("http://192.0.2.1/logo.png", "https://example.com/a.css", "file:///etc/passwd"):
        with pytest.raises(ValueError, match="disallowed protocol"):
            fetcher(url)
    assert fetcher("data:text/plain,ok").read() == b"ok"


def test_a_bare_draft_still_prints() -> None:
    detail = _detail(teeth=(), notes=0)
    detail.stage = Stage.draft
    detail.receiver = None
    detail.sent_at = detail.appointment_at = None
    detail.patient = PatientOut(
        first_name=None,
        last_name=None,
        date_of_birth=None,
        sex=None,
        phones=[],
        email=None,
        address=None,
        preferred_contact=None,
        insurance_note=None,
    )
    detail.procedures, detail.other_procedures, detail.case_notes = [], None, None
    detail.case_notes = "x" * 3000  # one unbreakable word must wrap, not run off the page

    text = _pdf_text(render_referral_pdf(detail))

    assert "Sent (not sent yet)" in text
    assert "No office chosen yet" in text
    assert "No teeth chosen" in text
    assert "No notes" in text
