"""Patient Talk on the real broker and database: the notifications service in-process, with
small stand-ins for referrals, cases (``check_access``) and identity (office names) running
beside it on the same broker, so every cross-service question really travels over RPC.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import nameko.rpc
import pytest
from nameko.standalone.rpc import ServiceRpcProxy

from notifications.service import NotificationsService
from shared.contracts.patient_talk import (
    LinkInfo,
    PatientAccessEntry,
    PatientMessageReceived,
    PatientSent,
    PatientSession,
    PatientThreadDetail,
    PatientThreadOut,
    PatientThreadView,
)
from shared.entrypoints import rpc
from shared.errors import NotFound, RemoteError
from tests.support.infra import wait_for
from tests.support.service_driver import ServiceDriver

DOB = "1988-04-12"
LINK = re.compile(r"https://patients\.example/p/([A-Za-z0-9_-]{43})\b")

# Which offices may see which referral or case (owner id -> office ids), and office names.
GRANTS: dict[str, set[str]] = {}
NAMES: dict[str, str] = {}
USERS: dict[str, str] = {}  # office id -> its one user's id


class OwnerNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("No such referral.")


class FakeReferrals:
    name = "referrals"

    @rpc
    def check_access(self, caller: dict[str, Any], referral_id: str) -> dict[str, Any]:
        if caller["office_id"] not in GRANTS.get(referral_id, set()):
            raise OwnerNotFound()
        return {"may_view": True, "may_add": True, "office_ids": sorted(GRANTS[referral_id])}


class FakeCases:
    name = "cases"

    @rpc
    def check_access(self, caller: dict[str, Any], case_id: str) -> dict[str, Any]:
        if caller["office_id"] not in GRANTS.get(case_id, set()):
            raise OwnerNotFound()
        return {"may_view": True, "may_add": True, "office_ids": sorted(GRANTS[case_id])}


class FakeIdentity:
    name = "identity"

    @rpc
    def get_office_profiles(self, office_ids: list[str]) -> list[dict[str, Any]]:
        return [
            {
                "id": office_id,
                "name": NAMES[office_id],
                "kind": "specialist",
                "email": "desk@office.example",
                "phone": "+14165550134",
                "time_zone": "America/Toronto",
                "notation": "universal",
                "accepts_referrals": True,
            }
            for office_id in office_ids
            if office_id in NAMES
        ]

    @rpc
    def list_office_members(self, office_id: str) -> list[dict[str, Any]]:
        if office_id not in USERS:
            return []
        return [
            {
                "id": USERS[office_id],
                "office_id": office_id,
                "email": "coordinator@office.example",
                "name": "Sam Rivera",
                "role": "staff",
                "verified": True,
                "created_at": "2026-01-05T09:00:00Z",
            }
        ]


class Talk(ServiceDriver):
    """The notifications service as the gateway calls it, plus what the tests read."""

    def __init__(self, rpc: Any, config: dict[str, Any], sms_dir: Path) -> None:
        super().__init__(rpc, config)
        self.sms_dir = sms_dir

    def office(self, name: str = "Lakeside Oral Surgery") -> dict[str, Any]:
        office_id = str(uuid.uuid4())
        NAMES[office_id] = name
        USERS[office_id] = str(uuid.uuid4())
        return {"office_id": office_id, "user_id": USERS[office_id], "role": "staff"}

    def referral(self, *offices: dict[str, Any]) -> str:
        referral_id = str(uuid.uuid4())
        GRANTS[referral_id] = {office["office_id"] for office in offices}
        return referral_id

    def thread(self, office: dict[str, Any], owner_id: str, **extra: Any) -> dict[str, Any]:
        payload = {
            "owner_type": "referral",
            "owner_id": owner_id,
            "patient_name": "Maya Chen",
            "email": "maya.chen@example.com",
            "date_of_birth": DOB,
            **extra,
        }
        return self.create_patient_thread(caller=office, payload=payload)

    def mail(self, message_id: str) -> tuple[str, str, str, str | None]:
        """The e-mail about the message, as delivered (MAIL_DIR): to, subject, text, html."""
        rows = self.sql(
            "SELECT id FROM outgoing_mail WHERE dedupe_key = %s", f"patient-message:{message_id}"
        )
        assert len(rows) == 1, rows
        folder = Path(self.config["MAIL_DIR"])
        found = wait_for(
            lambda: next(iter(folder.glob(f"*-{rows[0][0]}.eml")), None),
            timeout=10,
            what="the e-mail delivered",
        )
        message = BytesParser(policy=policy.default).parsebytes(found.read_bytes())
        text = message.get_body(preferencelist=("plain",))
        html = message.get_body(preferencelist=("html",))
        return (
            str(message["To"]),
            str(message["Subject"]),
            text.get_content() if text else "",
            html.get_content() if html else None,
        )

    def link_of(self, message_id: str) -> str:
        _to, _subject, text, _html = self.mail(message_id)
        found = LINK.search(text)
        assert found, text
        return found.group(1)

    def send(self, office: dict[str, Any], thread_id: str, body: str, **kw: Any) -> dict:
        return self.send_patient_message(
            caller=office, thread_id=thread_id, payload={"body": body}, **kw
        )

    def verify(self, token: str, dob: str = DOB, ip: str = "203.0.113.7") -> dict[str, Any]:
        return self.verify_patient(token=token, payload={"date_of_birth": dob}, client_ip=ip)

    def age_link(self, thread_id: str) -> None:
        self.sql(
            "UPDATE patient_links SET expires_at = now() - interval '1 minute'"
            " WHERE thread_id = %s",
            thread_id,
        )


def talk_service(
    run_service: Any,
    container_factory: Any,
    amqp_uri: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    **overrides: str,
) -> Iterator[Talk]:
    """The stand-ins and the notifications service running; the proxy acts as the gateway."""
    # Keep the error's kind and details, as the gateway's client does.
    monkeypatch.setattr(nameko.rpc, "deserialize", RemoteError.from_wire)
    for fake in (FakeReferrals, FakeCases, FakeIdentity):
        container_factory(fake, {"AMQP_URI": amqp_uri}).start()
    sms_dir = tmp_path / "sms"
    settings = {
        "PUBLIC_URL": "https://patients.example",
        "SMS_URL": f"file:{sms_dir}",
        "SMTP_URL": "",
        "MAIL_DIR": str(tmp_path / "mail"),
        "PATIENT_LINK_TTL": "3600",
        "PATIENT_SESSION_TTL": "600",
        **overrides,
    }
    _container, config = run_service(NotificationsService, **settings)
    with ServiceRpcProxy("notifications", config, timeout=20) as proxy:
        yield Talk(proxy, config, sms_dir)


@pytest.fixture
def talk(
    run_service: Any,
    container_factory: Any,
    amqp_uri: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Talk]:
    yield from talk_service(run_service, container_factory, amqp_uri, tmp_path, monkeypatch)


def test_round_trip_office_writes_patient_verifies_reads_and_replies(talk: Talk) -> None:
    office = talk.office("Lakeside Oral Surgery")
    referral_id = talk.referral(office, talk.office("Bright Smiles"))
    thread = PatientThreadOut.model_validate(talk.thread(office, referral_id))
    assert thread.unread == 0 and thread.patient_name == "Maya Chen"

    sent = PatientSent.model_validate(
        talk.send(office, str(thread.id), "Your implant consult is on Tuesday at 9:30.")
    )
    assert sent.emailed and not sent.texted and sent.link.active

    to, subject, text, html = talk.mail(str(sent.message.id))
    assert to == "maya.chen@example.com"
    assert subject == "A new message from Lakeside Oral Surgery"
    assert "Maya" not in subject and "Chen" not in subject
    assert "implant" not in text.lower() and "implant" not in (html or "").lower()
    token = talk.link_of(str(sent.message.id))
    assert f"/p/{token}" in (html or "")
    # Only the token's SHA-256 is stored.
    assert talk.sql("SELECT count(*) FROM patient_links WHERE token_sha256 = %s", token) == [(0,)]

    info = LinkInfo.model_validate(talk.open_patient_link(token=token, client_ip="203.0.113.7"))
    assert info.office_name == "Lakeside Oral Surgery"

    session = PatientSession.model_validate(talk.verify(token))
    view = PatientThreadView.model_validate(
        talk.get_patient_view(session_token=session.session_token, client_ip="203.0.113.7")
    )
    assert [m.body for m in view.messages] == ["Your implant consult is on Tuesday at 9:30."]
    assert view.office_name == "Lakeside Oral Surgery"

    reply = talk.post_patient_reply(
        session_token=session.session_token,
        payload={"body": "Thank you, I will be there."},
        client_ip="203.0.113.7",
        idempotency_key="reply-1",
    )
    again = talk.post_patient_reply(
        session_token=session.session_token,
        payload={"body": "Thank you, I will be there."},
        client_ip="203.0.113.7",
        idempotency_key="reply-1",
    )
    assert again["id"] == reply["id"]

    listed = [PatientThreadOut.model_validate(t) for t in talk.list_patient_threads(caller=office)]
    assert [(t.id, t.unread) for t in listed] == [(thread.id, 1)]
    detail = PatientThreadDetail.model_validate(
        talk.get_patient_thread(caller=office, thread_id=str(thread.id))
    )
    assert [(m.author, m.body) for m in detail.messages] == [
        ("office", "Your implant consult is on Tuesday at 9:30."),
        ("patient", "Thank you, I will be there."),
    ]
    assert detail.unread == 1
    assert talk.list_patient_threads(caller=office)[0]["unread"] == 0

    signals = talk.events("patient_message_received")
    assert len(signals) == 1
    signal = PatientMessageReceived.model_validate(signals[0])
    assert (signal.office_id, signal.thread_id) == (uuid.UUID(office["office_id"]), thread.id)
    assert "Maya" not in str(signals) and "Thank you" not in str(signals)
    # The office's users see it in their feed (and by e-mail), without the patient or the text.
    feed = wait_for(
        lambda: talk.list_notifications(caller=office)["items"] or None,
        timeout=10,
        what="the reply in the office's feed",
    )
    assert [(n["kind"], n["subject_type"], n["subject_id"]) for n in feed] == [
        ("patient_message", "referral", referral_id)
    ]
    assert "Maya" not in str(feed) and "Thank you" not in str(feed)

    # Signing out ends the session at once (twice is harmless).
    talk.end_patient_session(session_token=session.session_token, client_ip="203.0.113.7")
    talk.end_patient_session(session_token=session.session_token, client_ip="203.0.113.7")
    ended = talk.error("get_patient_view", session_token=session.session_token)
    assert ended.remote_kind == "unauthenticated"

    access = [
        PatientAccessEntry.model_validate(a)
        for a in talk.list_patient_access(caller=office, thread_id=str(thread.id))
    ]
    assert [a.action for a in reversed(access)] == [
        "opened",
        "verify_ok",
        "read",
        "replied",
        "signed_out",
    ]
    assert {a.ip for a in access} == {"203.0.113.7"}
    assert all(a.link_id == sent.link.id for a in access)


def test_wrong_date_of_birth_is_refused_then_rate_limited(talk: Talk) -> None:
    office = talk.office()
    thread = talk.thread(office, talk.referral(office))
    sent = talk.send(office, thread["id"], "Please call us.")
    token = talk.link_of(sent["message"]["id"])

    for attempt in range(5):
        error = talk.error(
            "verify_patient",
            token=token,
            payload={"date_of_birth": "1988-04-13"},
            client_ip=f"198.51.100.{attempt}",
        )
        assert error.remote_kind == "invalid"
        assert error.details[0]["field"] == "date_of_birth"
    # The sixth try is refused before the date is even compared: the right one too.
    limited = talk.error(
        "verify_patient", token=token, payload={"date_of_birth": DOB}, client_ip="198.51.100.9"
    )
    assert limited.remote_kind == "rate_limited"
    assert 800 <= limited.details["retry_after"] <= 901
    actions = [a["action"] for a in talk.list_patient_access(caller=office, thread_id=thread["id"])]
    assert actions.count("verify_failed") == 5 and actions[0] == "verify_refused"


def test_one_address_trying_many_links_is_rate_limited(talk: Talk) -> None:
    office = talk.office()
    tokens = []
    for _ in range(5):
        thread = talk.thread(office, talk.referral(office))
        sent = talk.send(office, thread["id"], "Hello")
        tokens.append(talk.link_of(sent["message"]["id"]))
    # 20 wrong dates from one address, four on each of five links (under the per-link limit).
    for token in tokens:
        for _ in range(4):
            wrong = talk.error(
                "verify_patient",
                token=token,
                payload={"date_of_birth": "2001-01-01"},
                client_ip="192.0.2.50",
            )
            assert wrong.remote_kind == "invalid"
    refused = talk.error(
        "verify_patient", token=tokens[0], payload={"date_of_birth": DOB}, client_ip="192.0.2.50"
    )
    assert refused.remote_kind == "rate_limited"
    # Another address with the right date still gets in.
    assert PatientSession.model_validate(talk.verify(tokens[0], ip="192.0.2.51"))


def test_expired_and_revoked_links_are_refused(talk: Talk) -> None:
    office = talk.office()
    thread = talk.thread(office, talk.referral(office))
    first = talk.link_of(talk.send(office, thread["id"], "One")["message"]["id"])
    session = talk.verify(first)["session_token"]

    revoked = talk.revoke_patient_links(caller=office, thread_id=thread["id"])
    assert revoked == {"revoked": 1}
    assert talk.error("open_patient_link", token=first).remote_kind == "gone"
    assert talk.error(
        "verify_patient", token=first, payload={"date_of_birth": DOB}
    ).remote_kind == ("gone")
    # The session opened with the revoked link ended with it.
    assert talk.error("get_patient_view", session_token=session).remote_kind == "unauthenticated"

    # A new message issues a fresh link that works.
    second = talk.link_of(talk.send(office, thread["id"], "Two")["message"]["id"])
    assert talk.verify(second)["office_name"] == "Lakeside Oral Surgery"
    talk.age_link(thread["id"])
    assert talk.error("open_patient_link", token=second).remote_kind == "gone"
    assert talk.error("open_patient_link", token="x" * 43).remote_kind == "not_found"

    links = talk.get_patient_thread(caller=office, thread_id=thread["id"])["links"]
    assert [link["active"] for link in links] == [False, False]
    actions = [a["action"] for a in talk.list_patient_access(caller=office, thread_id=thread["id"])]
    assert actions.count("link_refused") == 3


def test_another_office_cannot_see_or_use_the_thread(talk: Talk) -> None:
    ours, theirs, stranger = talk.office(), talk.office("Bright Smiles"), talk.office()
    referral_id = talk.referral(ours, theirs)  # both offices of the referral
    thread = talk.thread(ours, referral_id)
    tid = thread["id"]

    for method, kwargs in (
        ("get_patient_thread", {}),
        ("list_patient_access", {}),
        ("revoke_patient_links", {}),
        ("send_patient_message", {"payload": {"body": "hi"}}),
    ):
        error = talk.error(method, caller=theirs, thread_id=tid, **kwargs)
        assert error.remote_kind == "not_found", method
    assert talk.list_patient_threads(caller=theirs) == []
    assert (
        talk.list_patient_threads(
            caller=theirs, query={"owner_type": "referral", "owner_id": referral_id}
        )
        == []
    )
    # The other office may start its own thread on the same referral; a stranger may not.
    assert talk.thread(theirs, referral_id)["office_id"] == theirs["office_id"]
    error = talk.error(
        "create_patient_thread",
        caller=stranger,
        payload={
            "owner_type": "referral",
            "owner_id": referral_id,
            "patient_name": "Maya Chen",
            "email": "maya.chen@example.com",
            "date_of_birth": DOB,
        },
    )
    assert error.remote_kind == "not_found"
    assert talk.get_patient_thread(caller=ours, thread_id=tid)["id"] == tid


def test_send_is_idempotent_and_texts_go_to_the_sms_sink(talk: Talk) -> None:
    office = talk.office()
    case_id = str(uuid.uuid4())
    GRANTS[case_id] = {office["office_id"]}
    thread = talk.thread(
        office,
        case_id,
        owner_type="case",
        mobile_phone="+1 416 555 0199",
        preferred_channel="text",
    )
    assert thread["mobile_phone"] == "+14165550199"
    first = talk.send(office, thread["id"], "Your aligners shipped.", idempotency_key="k-1")
    again = talk.send(office, thread["id"], "Your aligners shipped.", idempotency_key="k-1")
    assert again == first and first["texted"] and first["emailed"]
    assert talk.sql("SELECT count(*) FROM patient_messages") == [(1,)]
    assert talk.sql("SELECT count(*) FROM outgoing_mail") == [(1,)]

    texts = wait_for(lambda: list(talk.sms_dir.glob("*.txt")), timeout=15, what="a text file")
    assert len(texts) == 1
    content = texts[0].read_text()
    assert content.startswith("To: +14165550199")
    token = LINK.search(content)
    assert token and "aligners" not in content
    assert talk.verify(token.group(1))["session_token"]
    # Once sent, the stored text (it carries the link) is cleared.
    assert wait_for(
        lambda: (
            talk.sql("SELECT body IS NULL AND sent_at IS NOT NULL FROM patient_texts") == [(True,)]
        ),
        timeout=10,
    )


def test_bad_input_names_the_field(talk: Talk) -> None:
    office = talk.office()
    referral_id = talk.referral(office)
    error = talk.error(
        "create_patient_thread",
        caller=office,
        payload={
            "owner_type": "referral",
            "owner_id": referral_id,
            "patient_name": "Maya Chen",
            "date_of_birth": DOB,
            "preferred_channel": "text",
        },
    )
    assert error.remote_kind == "invalid" and error.details[0]["field"] == "mobile_phone"
    error = talk.error(
        "create_patient_thread",
        caller=office,
        payload={
            "owner_type": "referral",
            "owner_id": referral_id,
            "patient_name": "Maya Chen",
            "email": "not-an-address",
            "date_of_birth": (datetime.now(UTC) + timedelta(days=2)).date().isoformat(),
        },
    )
    assert error.remote_kind == "invalid"
    assert {d["field"] for d in error.details} == {"email", "date_of_birth"}
    assert talk.error("get_patient_thread", caller=office, thread_id="nope").details[0][
        "field"
    ] == ("thread_id")
