"""Invitations, colleagues and the directory."""

from __future__ import annotations

import time

from shared.contracts.identity import (
    AcceptedInvitation,
    Colleague,
    DirectoryEntry,
    InvitationAccepted,
    InvitationPreview,
    InvitationSent,
)
from tests.support.infra import token

from .support import IP, PASSWORD, Identity, new_email, unique_phone


def _colleague_ids(identity: Identity, caller: dict) -> list[str]:
    return [
        str(Colleague.model_validate(c).office.id) for c in identity.list_colleagues(caller=caller)
    ]


def test_an_invitation_accepted_makes_the_offices_colleagues(identity: Identity) -> None:
    surgeon = identity.office(name="Lakeside Oral Surgery", kind="specialist", specialty="OS")
    invitee = new_email("dentist")
    sent = identity.create_invitation(
        caller=surgeon.caller, payload={"email": invitee, "message": "Send us your cases"}
    )
    assert sent["status"] == "pending" and sent["from_office_name"] == "Lakeside Oral Surgery"
    event = InvitationSent.model_validate(identity.events("invitation_sent")[0])
    assert event.kind == "colleague" and event.email == invitee
    assert str(event.invited_by) == surgeon.user_id
    link = identity.link("invitation_sent", email=invitee)
    assert "/invitation?token=" in link["url"]
    invitation_token = link["url"].split("token=")[1]
    preview = InvitationPreview.model_validate(identity.get_invitation(token=invitation_token))
    assert preview.from_office_name == "Lakeside Oral Surgery" and preview.account_exists is False
    assert preview.message == "Send us your cases"

    missing = identity.error("accept_invitation", payload={"token": invitation_token})
    assert {d["field"] for d in missing.details} == {"phone", "password"}
    weak = identity.error(
        "accept_invitation",
        payload={"token": invitation_token, "phone": unique_phone(), "password": "weak"},
    )
    assert {d["field"] for d in weak.details} == {"password"}
    accepted = AcceptedInvitation.model_validate(
        identity.accept_invitation(
            payload={"token": invitation_token, "phone": unique_phone(), "password": PASSWORD},
            client_ip=IP,
        )
    )
    assert accepted.created_account is True and accepted.kind == "colleague"
    assert str(accepted.colleague_office_id) == surgeon.office_id
    done = InvitationAccepted.model_validate(identity.events("invitation_accepted")[0])
    assert done.office_id == accepted.office_id and str(done.from_office_id) == surgeon.office_id

    dentist = identity.log_in(invitee)  # the link proved the address: no verification
    assert dentist.office_id == str(accepted.office_id) and dentist.role == "admin"
    assert _colleague_ids(identity, dentist.caller) == [surgeon.office_id]
    assert _colleague_ids(identity, surgeon.caller) == [dentist.office_id]
    relations = {c["relation"] for c in identity.list_colleagues(caller=dentist.caller)}
    assert relations == {"invited_by"}
    twice = identity.error(
        "accept_invitation", payload={"token": invitation_token, "password": PASSWORD}
    )
    assert twice.remote_kind == "conflict"
    assert identity.list_invitations(caller=surgeon.caller)[0]["status"] == "accepted"

    # An office already on the platform accepts with its account; no new office.
    lab = identity.office(name="Precision Guides Lab", kind="lab")
    identity.create_invitation(caller=surgeon.caller, payload={"email": lab.email})
    lab_token = identity.link_token("invitation_sent", email=lab.email)
    assert identity.get_invitation(token=lab_token)["account_exists"] is True
    linked = identity.accept_invitation(payload={"token": lab_token})
    assert linked["created_account"] is False and linked["office_id"] == lab.office_id
    # Most recent first.
    assert _colleague_ids(identity, surgeon.caller) == [lab.office_id, dentist.office_id]

    # A signed-in caller links their own office, whatever address was invited.
    clinic = identity.office()
    identity.create_invitation(caller=surgeon.caller, payload={"email": new_email("front")})
    clinic_token = identity.link_token("invitation_sent")
    by_caller = identity.accept_invitation(payload={"token": clinic_token}, caller=clinic.caller)
    assert by_caller["office_id"] == clinic.office_id and by_caller["user_id"] == clinic.user_id
    assert _colleague_ids(identity, surgeon.caller)[0] == clinic.office_id
    assert identity.sql("SELECT count(*) FROM offices") == [(4,)]

    # Own office's invitation cannot be accepted by itself.
    identity.create_invitation(caller=surgeon.caller, payload={"email": new_email("x")})
    own = identity.error(
        "accept_invitation",
        payload={"token": identity.link_token("invitation_sent")},
        caller=surgeon.caller,
    )
    assert own.remote_kind == "conflict"


def test_a_colleague_invitation_to_a_new_office_follows_the_duplicate_rules(
    identity: Identity,
) -> None:
    inviter = identity.office()
    existing = identity.office(name="Already Here Dental")
    phone = identity.get_office(caller=existing.caller)["phone"]
    identity.create_invitation(caller=inviter.caller, payload={"email": new_email("new")})
    refused = identity.error(
        "accept_invitation",
        payload={
            "token": identity.link_token("invitation_sent"),
            "phone": phone,
            "password": PASSWORD,
        },
    )
    assert refused.remote_kind == "conflict"
    assert refused.details == {"office_name": "Already Here Dental"}
    own = identity.error(
        "create_invitation", caller=inviter.caller, payload={"email": inviter.email}
    )
    assert own.remote_kind == "conflict"


def test_a_staff_invitation_joins_the_office_with_its_role(identity: Identity) -> None:
    admin = identity.office()
    email = new_email("frontdesk")
    sent = identity.invite_staff(
        caller=admin.caller, payload={"email": email, "role": "admin"}, client_ip=IP
    )
    assert sent["kind"] == "staff" and sent["role"] == "admin"
    link = identity.link_token("invitation_sent", email=email)
    missing = identity.error("accept_invitation", payload={"token": link})
    assert {d["field"] for d in missing.details} == {"name", "password"}
    accepted = identity.accept_invitation(
        payload={"token": link, "name": "Robin Front", "password": PASSWORD}
    )
    assert accepted["office_id"] == admin.office_id and accepted["colleague_office_id"] is None
    person = identity.log_in(email)
    assert person.office_id == admin.office_id and person.role == "admin"
    assert identity.get_me(caller=person.caller)["user"]["name"] == "Robin Front"
    assert identity.list_colleagues(caller=admin.caller) == []

    # Someone with an account elsewhere cannot join a second office.
    elsewhere = identity.office()
    identity.invite_staff(caller=admin.caller, payload={"email": elsewhere.email})
    refused = identity.error(
        "accept_invitation",
        payload={
            "token": identity.link_token("invitation_sent", email=elsewhere.email),
            "name": "Two Offices",
            "password": PASSWORD,
        },
    )
    assert refused.remote_kind == "conflict"
    member = identity.error("invite_staff", caller=admin.caller, payload={"email": email})
    assert member.remote_kind == "conflict"
    client_role = identity.error(
        "invite_staff", caller=admin.caller, payload={"email": new_email(), "role": "client"}
    )
    assert client_role.details[0]["field"] == "role"


def test_a_withdrawn_or_expired_invitation_cannot_be_accepted(start_identity) -> None:
    identity = start_identity(INVITATION_TTL=1)
    admin = identity.office()
    sent = identity.create_invitation(caller=admin.caller, payload={"email": new_email()})
    link = identity.link_token("invitation_sent", invitation_id=sent["id"])
    identity.revoke_invitation(caller=admin.caller, invitation_id=sent["id"], client_ip=IP)
    withdrawn = identity.error("get_invitation", token=link)
    assert withdrawn.remote_kind == "gone" and withdrawn.details == {"revoked": True}
    assert identity.list_invitations(caller=admin.caller)[0]["status"] == "revoked"
    revoked_link = identity.events("invitation_sent")[0]["link_id"]
    assert identity.error("issue_link", link_id=revoked_link).remote_kind == "conflict"

    late = identity.create_invitation(caller=admin.caller, payload={"email": new_email()})
    link = identity.link_token("invitation_sent", invitation_id=late["id"])
    time.sleep(1.1)
    expired = identity.error(
        "accept_invitation", payload={"token": link, "phone": unique_phone(), "password": PASSWORD}
    )
    assert expired.remote_kind == "gone" and expired.details == {"expired": True}
    statuses = sorted(i["status"] for i in identity.list_invitations(caller=admin.caller))
    assert statuses == ["expired", "revoked"]
    unknown = identity.error("get_invitation", token=token(20))
    assert unknown.remote_kind == "invalid"
    actions = [
        r[0]
        for r in identity.sql(
            "SELECT action FROM audit_log WHERE action LIKE %s ORDER BY id", "inv%"
        )
    ]
    assert actions == ["invitation_sent", "invitation_revoked", "invitation_sent"]


def test_directory_finds_receiving_offices_by_provider_office_specialty_or_city(
    identity: Identity,
) -> None:
    marker = token(3)
    surgeon = identity.office(
        name=f"Quillfeather {marker} Surgery",
        kind="specialist",
        specialty="Periodontics",
        city=f"Port{marker}ville",
        providers=(f"Dr. Zed {marker}son",),
    )
    identity.office(name=f"Quillfeather {marker} Family Dental", kind="general_practice")
    lab = identity.office(name=f"Aardvark {marker} Lab", kind="lab", providers=("Tech 100%",))
    searcher = identity.office()

    def found(q: str | None, **kwargs: object) -> list[str]:
        answer = identity.search_directory(caller=searcher.caller, q=q, **kwargs)
        return [str(DirectoryEntry.model_validate(e).office.id) for e in answer]

    assert found(f"QUILLFEATHER {marker}") == [surgeon.office_id]  # the GP does not accept
    assert found(f"zed {marker.upper()}") == [surgeon.office_id]
    assert found(f"port{marker}") == [surgeon.office_id]
    assert found("periodont") == [surgeon.office_id]
    assert found(f"nothing-{marker}") == []
    assert found("100%") == [lab.office_id]  # % is a character, not a wildcard
    assert found("_") == []
    assert found(None) == [lab.office_id, surgeon.office_id]  # by name
    assert found("", kind="lab") == [lab.office_id]
    assert found("", limit=1) == [lab.office_id]
    entry = identity.search_directory(caller=searcher.caller, q=marker)[1]
    assert [p["display_name"] for p in entry["office"]["providers"]] == [f"Dr. Zed {marker}son"]
    assert identity.search_directory(caller=surgeon.caller, q=marker) == [
        identity.search_directory(caller=searcher.caller, q="Aardvark")[0]
    ]  # never one's own office

    # Colleagues come first.
    identity.create_invitation(caller=surgeon.caller, payload={"email": searcher.email})
    identity.accept_invitation(payload={"token": identity.link_token("invitation_sent")})
    entries = identity.search_directory(caller=searcher.caller, q="")
    assert [(e["office"]["id"], e["colleague"]) for e in entries] == [
        (surgeon.office_id, True),
        (lab.office_id, False),
    ]
    bad = identity.error("search_directory", caller=searcher.caller, q="x", kind="dentist")
    assert bad.details[0]["field"] == "kind"
