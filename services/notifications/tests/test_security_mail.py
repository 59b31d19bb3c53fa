"""Security e-mails (verification, resend, invitation, password reset, account locked):
to the event's address, always, whatever the preferences; received by a real SMTP server."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr

from shared.contracts.identity import (
    AccountLocked,
    InvitationKind,
    InvitationSent,
    OfficeRegistered,
    PasswordResetRequested,
    VerificationResent,
)
from tests.support.smtp import html_part, text_part

from .conftest import PUBLIC_URL, Notifier


def test_verification_link_goes_to_the_new_admin(notifier: Notifier) -> None:
    url = f"{PUBLIC_URL}/verify?token=tok-{uuid.uuid4().hex}"
    link_id = notifier.world.link(url)
    notifier.publish(
        "identity",
        OfficeRegistered(
            office_id=uuid.uuid4(),
            user_id=uuid.uuid4(),
            email="new.admin@brightsmiles.example",
            link_id=link_id,
        ),
    )
    [mail] = notifier.smtp.wait_for(1)  # type: ignore[union-attr]

    assert notifier.smtp.recipients() == [["new.admin@brightsmiles.example"]]  # type: ignore[union-attr]
    assert mail["To"] == "new.admin@brightsmiles.example"
    assert mail["Subject"] == "Verify your e-mail address for Bridgework"
    assert parseaddr(mail["From"]) == ("Bridgework", "mail@bw.example")
    assert url in text_part(mail)
    assert f'href="{url}"' in html_part(mail)
    assert mail.get_content_type() == "multipart/alternative"
    # The token was asked for, not carried by the event.
    assert ("issue_link", {"link_id": str(link_id)}) in notifier.world.calls


def test_resend_reset_and_lock_each_send_one_mail_to_the_event_address(
    notifier: Notifier,
) -> None:
    office, user = uuid.uuid4(), uuid.uuid4()
    resend = notifier.world.link(f"{PUBLIC_URL}/verify?token=resent")
    reset = notifier.world.link(f"{PUBLIC_URL}/reset-password?token=reset")
    locked_until = datetime.now(UTC) + timedelta(minutes=15)
    notifier.publish(
        "identity",
        VerificationResent(office_id=office, user_id=user, email="a@x.example", link_id=resend),
    )
    notifier.publish(
        "identity",
        PasswordResetRequested(office_id=office, user_id=user, email="b@x.example", link_id=reset),
    )
    notifier.publish(
        "identity",
        AccountLocked(
            office_id=office, user_id=user, email="c@x.example", locked_until=locked_until
        ),
    )
    mails = {m["To"]: m for m in notifier.smtp.wait_for(3)}  # type: ignore[union-attr]

    assert sorted(mails) == ["a@x.example", "b@x.example", "c@x.example"]
    assert mails["a@x.example"]["Subject"] == "Verify your e-mail address for Bridgework"
    assert f"{PUBLIC_URL}/verify?token=resent" in text_part(mails["a@x.example"])
    assert mails["b@x.example"]["Subject"] == "Reset your Bridgework password"
    assert f"{PUBLIC_URL}/reset-password?token=reset" in text_part(mails["b@x.example"])
    assert mails["c@x.example"]["Subject"] == "Your Bridgework account was locked"
    locked_text = text_part(mails["c@x.example"])
    assert locked_until.strftime("%H:%M") in locked_text
    assert f"Reset my password: {PUBLIC_URL}/reset-password" in locked_text.splitlines()


def test_invitation_comes_from_the_inviting_office_with_its_reply_to(notifier: Notifier) -> None:
    inviter = notifier.world.office("Bright Smiles", "owner@brightsmiles.example")
    url = f"{PUBLIC_URL}/invitation?token=inv"
    notifier.publish(
        "identity",
        InvitationSent(
            invitation_id=uuid.uuid4(),
            kind=InvitationKind.colleague,
            from_office_id=inviter.id,
            from_office_name="Bright Smiles",
            invited_by=inviter.user_ids[0],
            email="surgeon@peak.example",
            link_id=notifier.world.link(url),
        ),
    )
    [mail] = notifier.smtp.wait_for(1)  # type: ignore[union-attr]

    assert mail["To"] == "surgeon@peak.example"
    assert mail["Subject"] == "Bright Smiles invited you to connect on Bridgework"
    assert parseaddr(mail["From"]) == ("Bright Smiles via Bridgework", "mail@bw.example")
    assert mail["Reply-To"] == inviter.email
    assert url in text_part(mail)


def test_security_mail_ignores_preferences_that_cannot_exist(notifier: Notifier) -> None:
    """A user cannot turn security e-mails off; the mail goes anyway."""
    office = notifier.world.office("Bright Smiles", "owner@brightsmiles.example")
    caller = {"office_id": str(office.id), "user_id": str(office.user_ids[0])}
    error = notifier.error("update_preferences", caller=caller, payload={"security": False})
    assert error.remote_kind == "invalid"
    assert [d["field"] for d in error.details] == ["security"]

    notifier.publish(
        "identity",
        PasswordResetRequested(
            office_id=office.id,
            user_id=office.user_ids[0],
            email="owner@brightsmiles.example",
            link_id=notifier.world.link(f"{PUBLIC_URL}/reset-password?token=t"),
        ),
    )
    [mail] = notifier.smtp.wait_for(1)  # type: ignore[union-attr]
    assert mail["To"] == "owner@brightsmiles.example"


def test_a_used_link_sends_nothing_and_the_event_is_not_retried(notifier: Notifier) -> None:
    link_id = notifier.world.link(f"{PUBLIC_URL}/verify?token=old")
    notifier.world.dead_links.add(str(link_id))
    envelope = notifier.publish(
        "identity",
        VerificationResent(
            office_id=uuid.uuid4(), user_id=uuid.uuid4(), email="a@x.example", link_id=link_id
        ),
    )
    notifier.handled(envelope)

    assert notifier.mail_rows() == []
    assert [c for c in notifier.world.calls if c[0] == "issue_link"] == [
        ("issue_link", {"link_id": str(link_id)})
    ]
