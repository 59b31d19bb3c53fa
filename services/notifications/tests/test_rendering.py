"""The message templates and the RFC 5322 message built from a queued row."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from notifications.mailer import MailSettings, build_message
from notifications.models import OutgoingMail
from notifications.rendering import Mail, render
from tests.support.smtp import attachments, html_part, parse_message, text_part


def test_user_input_is_escaped_in_html_and_plain_in_text() -> None:
    mail = Mail(
        subject="New referral R-1 from <Smiles & Co>",
        heading="Referral R-1 received",
        paragraphs=["<script>alert(1)</script> & Co sent your office a referral."],
        details=[("Reference", "R-1")],
        action_label="Open the referral",
        action_url="https://bw.example/referrals/1?a=1&b=2",
    )
    text, html = render(mail, sender_name="Smiles & Co")
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in html
    assert 'href="https://bw.example/referrals/1?a=1&amp;b=2"' in html
    assert "<script>alert(1)</script> & Co sent your office a referral." in text
    assert "Open the referral: https://bw.example/referrals/1?a=1&b=2" in text
    assert "Reference: R-1" in text
    assert "notification settings" in text  # non-essential mail says how to turn it off
    security_text, _ = render(Mail(subject="s", heading="h", security=True))
    assert "always sent" in security_text


def test_the_built_message_has_both_parts_the_attachment_and_stable_headers() -> None:
    row = OutgoingMail(
        id=uuid.uuid4(),
        dedupe_key="k",
        to_address="ana@peak.example",
        subject="Planning session booked for case C-1",
        text_body="plain body",
        html_body="<p>html body</p>",
        sender_name="Acme Lab",
        reply_to="desk@acme.example",
        attachments=[{"filename": "C-1.ics", "mime_type": "text/calendar", "content": "QkVHSU4="}],
        created_at=datetime(2026, 11, 22, 4, 0, tzinfo=UTC),
    )
    settings = MailSettings(mail_from="mail@bw.example")
    first, again = build_message(row, settings), build_message(row, settings)
    message = parse_message(bytes(first))

    assert message["From"] == "Acme Lab via Bridgework <mail@bw.example>"
    assert message["Reply-To"] == "desk@acme.example"
    assert message["Message-ID"] == f"<{row.id}@bridgework>" == again["Message-ID"]
    assert text_part(message).strip() == "plain body"
    assert html_part(message).strip() == "<p>html body</p>"
    assert attachments(message) == {"C-1.ics": ("text/calendar", b"BEGIN")}
