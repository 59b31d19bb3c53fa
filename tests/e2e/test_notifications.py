"""Notifications end to end, every process started as `make run` starts it (no SMTP_URL: the
messages are .eml files in the stack's mail folder): sign up, the verification e-mail
arrives and its link verifies; a referral sent to another office reaches its users' inboxes
and bells, and marking it read clears the badge."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.support.accounts import PASSWORD, Platform, platform, unique_phone
from tests.support.infra import token, wait_for
from tests.support.smtp import eml_messages_to, html_part, text_part
from tests.support.stack import running_stack


@pytest.fixture(scope="module")
def world() -> Iterator[Platform]:
    with running_stack(LOGIN_RATE_LIMIT="10000") as stack, platform(stack) as started:
        yield started


def test_sign_up_the_verification_mail_arrives_and_its_link_verifies(world: Platform) -> None:
    email = f"office-{token()}@example.com"
    answer = world.http.post(
        "/api/v1/auth/signup",
        json={"email": email, "phone": unique_phone(), "password": PASSWORD},
    )
    assert answer.status_code == 201, answer.text

    [mail] = wait_for(
        lambda: eml_messages_to(world.stack.mail_dir, email),
        timeout=30,
        what="the verification e-mail",
    )
    assert mail["Subject"] == "Verify your e-mail address for Bridgework"
    found = re.search(r"/verify\?token=([A-Za-z0-9_\-.~%]+)", text_part(mail))
    assert found, text_part(mail)
    assert found.group(0) in html_part(mail)
    verified = world.http.post("/api/v1/auth/verify", json={"token": found.group(1)})
    assert verified.status_code == 200, verified.text
    assert verified.json()["email"] == email
    logged_in = world.http.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert logged_in.status_code == 200, logged_in.text


def test_a_referral_reaches_the_receivers_inbox_and_bell(world: Platform) -> None:
    sender = world.office(name=f"Bright Smiles {token(3)}")
    receiver = world.office(kind="specialist", specialty="Oral surgery")
    assert receiver.patch("/api/v1/office", json={"accepts_referrals": True}).status_code == 200
    provider = sender.get("/api/v1/office/providers").json()[0]["id"]
    sent = sender.post(
        "/api/v1/referrals",
        json={
            "receiver_office_id": receiver.office_id,
            "referring_provider_id": provider,
            "patient": {
                "first_name": "Maya",
                "last_name": f"Chen{token()}",
                "date_of_birth": "1988-04-12",
                "sex": "female",
                "phones": [unique_phone()],
                "preferred_contact": "text",
            },
            "urgency": "soon",
            "teeth": ["3"],
            "notation": "universal",
        },
    )
    assert sent.status_code == 201, sent.text
    referral = sent.json()

    def received() -> list:
        return [
            m
            for m in eml_messages_to(world.stack.mail_dir, receiver.email)
            if referral["reference"] in str(m["Subject"])
        ]

    [mail] = wait_for(received, timeout=30, what="the referral-received e-mail")
    assert mail["Subject"].startswith(f"New referral {referral['reference']} from Bright Smiles")
    assert "Maya" not in mail["Subject"]
    assert f"/referrals/{referral['id']}" in text_part(mail)

    feed = receiver.get("/api/v1/notifications")
    assert feed.status_code == 200, feed.text
    body = feed.json()
    [entry] = [i for i in body["items"] if i["reference"] == referral["reference"]]
    assert entry["kind"] == "referral_received" and entry["read"] is False
    assert body["unread_count"] >= 1
    # The sender's bell does not ring for its own referral, and cannot mark the receiver's.
    assert all(
        i["subject_id"] != referral["id"]
        for i in sender.get("/api/v1/notifications").json()["items"]
    )
    assert sender.post(f"/api/v1/notifications/{entry['id']}/read").status_code == 404

    marked = receiver.post(f"/api/v1/notifications/{entry['id']}/read")
    assert marked.status_code == 200, marked.text
    assert marked.json()["read"] is True
    assert receiver.post("/api/v1/notifications/read-all").json()["unread_count"] == 0
    assert receiver.get("/api/v1/notifications?unread_only=true").json()["items"] == []

    # Preferences: security cannot be turned off; referrals can.
    refused = receiver.request(
        "PUT", "/api/v1/me/notification-preferences", json={"security": False}
    )
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["security"]
    changed = receiver.request(
        "PUT", "/api/v1/me/notification-preferences", json={"referrals": False}
    )
    assert changed.status_code == 200 and changed.json()["referrals"] is False
