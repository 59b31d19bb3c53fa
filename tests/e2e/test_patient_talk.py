"""Patient Talk end to end: every process started as `make run` starts it, driven over HTTP.

An office writes to the patient of a referral it received; the notice lands as an .eml file
in the stack's mail folder (the default without SMTP); the test reads the link out of it,
opens the patient's page, confirms the date of birth through the API (a wrong one first),
reads the thread and replies; the office sees the reply and the access record, and the
referral's other office gets 404 for the thread.
"""

from __future__ import annotations

import email
import email.policy
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest

from tests.support.accounts import Account, Platform, platform, set_up_office, unique_phone
from tests.support.infra import token, wait_for
from tests.support.stack import running_stack

DOB = "1979-02-03"
LINK = re.compile(r"https://bridgework\.test/p/([A-Za-z0-9_-]{43})")


@pytest.fixture(scope="module")
def mail_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="bw-talk-mail-") as folder:
        yield Path(folder)


@pytest.fixture(scope="module")
def world(mail_dir: Path) -> Iterator[Platform]:
    with (
        running_stack(
            LOGIN_RATE_LIMIT="10000",
            SMTP_URL="",
            MAIL_DIR=str(mail_dir),
            MAIL_POLL_INTERVAL="0.5",
            SMS_URL="",
            PUBLIC_URL="https://bridgework.test",
        ) as stack,
        platform(stack) as started,
    ):
        yield started


def office(world: Platform, mail_dir: Path, **profile: Any) -> Account:
    """A verified, set-up office, verified through the link in the e-mail the stack sent
    (notifications asks identity for the link as it sends, which voids any link the test
    would ask for itself)."""
    signed_up = world.sign_up()
    text = notice_to(mail_dir, signed_up["email"]).get_body(preferencelist=("plain",))
    found = re.search(r"[?&]token=([^\s&]+)", text.get_content())  # type: ignore[union-attr]
    assert found, "no verification link in the e-mail"
    verified = world.http.post("/api/v1/auth/verify", json={"token": unquote(found.group(1))})
    assert verified.status_code == 200, verified.text
    admin = world.log_in(signed_up["email"])
    settings = {
        "name": f"Office {token()}",
        "kind": "general_practice",
        "specialty": None,
        "city": "Toronto",
        "providers": ("Dr. Ada Lovelace",),
        "notation": "universal",
        **profile,
    }
    set_up_office(admin, **settings)
    return admin


def referral(world: Platform, mail_dir: Path) -> tuple[Account, Account, str]:
    """A general practice, a specialist that accepts referrals, and a referral between them."""
    sender = office(world, mail_dir)
    specialist = office(
        world, mail_dir, kind="specialist", specialty="Oral surgery", name="Lakeside OS"
    )
    assert specialist.patch("/api/v1/office", json={"accepts_referrals": True}).status_code == 200
    provider = sender.get("/api/v1/office/providers").json()[0]["id"]
    sent = sender.post(
        "/api/v1/referrals",
        json={
            "receiver_office_id": specialist.office_id,
            "referring_provider_id": provider,
            "patient": {
                "first_name": "Noor",
                "last_name": f"Haddad{token()}",
                "date_of_birth": DOB,
                "sex": "female",
                "phones": [unique_phone()],
            },
            "urgency": "routine",
        },
    )
    assert sent.status_code == 201, sent.text
    return sender, specialist, sent.json()["id"]


def notice_to(mail_dir: Path, address: str) -> email.message.EmailMessage:
    """The .eml the stack wrote for ``address`` (waits for the mail sender)."""

    def find() -> email.message.EmailMessage | None:
        for path in mail_dir.rglob("*.eml"):
            parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if parsed["To"] == address:
                return parsed  # type: ignore[return-value]
        return None

    found: email.message.EmailMessage = wait_for(find, timeout=30, what=f"an e-mail to {address}")
    return found


def test_office_writes_patient_opens_verifies_reads_and_replies(
    world: Platform, mail_dir: Path
) -> None:
    sender, specialist, referral_id = referral(world, mail_dir)
    patient_email = f"noor-{token()}@example.com"
    created = specialist.post(
        "/api/v1/patient-threads",
        json={
            "owner_type": "referral",
            "owner_id": referral_id,
            "patient_name": "Noor Haddad",
            "email": patient_email,
            "date_of_birth": DOB,
        },
    )
    assert created.status_code == 201, created.text
    thread_id = created.json()["id"]

    body = "Your consultation is on December 3 at 9:30."
    sent = specialist.post(
        f"/api/v1/patient-threads/{thread_id}/messages",
        json={"body": body},
        headers={"Idempotency-Key": f"e2e-{token()}"},
    )
    assert sent.status_code == 201, sent.text
    assert sent.json()["emailed"] is True

    notice = notice_to(mail_dir, patient_email)
    assert "Noor" not in notice["Subject"] and "Haddad" not in notice["Subject"]
    assert "Lakeside OS" in notice["From"]
    text = notice.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    html = notice.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    assert "consultation" not in text and "consultation" not in html
    found = LINK.search(text)
    assert found, text
    link_token = found.group(1)

    # The page the link opens, then the API it calls.
    http = world.http
    page = http.get(f"/p/{link_token}")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["referrer-policy"] == "no-referrer"
    opened = http.get(f"/api/v1/patient/{link_token}")
    assert opened.status_code == 200 and opened.json()["office_name"] == "Lakeside OS"

    wrong = http.post(f"/api/v1/patient/{link_token}/verify", json={"date_of_birth": "1979-02-04"})
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "date_of_birth"
    verified = http.post(f"/api/v1/patient/{link_token}/verify", json={"date_of_birth": DOB})
    assert verified.status_code == 200, verified.text
    cookie = session_cookie(verified)

    view = http.get("/api/v1/patient/thread", headers={"Cookie": cookie})
    assert view.status_code == 200, view.text
    assert [m["body"] for m in view.json()["messages"]] == [body]
    reply = http.post(
        "/api/v1/patient/thread/messages",
        json={"body": "Thank you, see you then."},
        headers={"Cookie": cookie},
    )
    assert reply.status_code == 201, reply.text

    seen = specialist.get(f"/api/v1/patient-threads/{thread_id}")
    assert seen.status_code == 200
    assert [(m["author"], m["body"]) for m in seen.json()["messages"]] == [
        ("office", body),
        ("patient", "Thank you, see you then."),
    ]
    access = specialist.get(f"/api/v1/patient-threads/{thread_id}/access").json()
    assert [a["action"] for a in reversed(access)] == [
        "opened",
        "verify_failed",
        "verify_ok",
        "read",
        "replied",
    ]
    assert {a["ip"] for a in access} == {"127.0.0.1"}

    # The referral's other office sees neither the thread nor its record.
    for path in ("", "/access"):
        assert sender.get(f"/api/v1/patient-threads/{thread_id}{path}").status_code == 404
    assert sender.get("/api/v1/patient-threads").json() == []

    # Withdrawn: the link and the session stop working.
    assert specialist.post(f"/api/v1/patient-threads/{thread_id}/links/revoke").json() == {
        "revoked": 1
    }
    assert http.get(f"/api/v1/patient/{link_token}").status_code == 410
    assert http.get("/api/v1/patient/thread", headers={"Cookie": cookie}).status_code == 401


def session_cookie(answer: httpx.Response) -> str:
    """``bw_patient=<token>`` from the answer (the cookie is Secure: httpx would not send it
    back over plain HTTP on its own)."""
    header: Any = answer.headers["set-cookie"]
    assert "httponly" in header.lower() and "path=/api/v1/patient" in header.lower()
    return str(header.split(";")[0])
