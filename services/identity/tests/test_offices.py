"""Offices, providers and people: setup, roles, tenancy, idempotency, the internal RPCs."""

from __future__ import annotations

from shared.contracts.identity import (
    AuditEntry,
    InvitationOut,
    Me,
    OfficeOut,
    OfficeProfile,
    ProviderOut,
    UserOut,
)

from .support import IP, PASSWORD, Account, Identity, new_email, unique_phone

ADDRESS = {
    "street": "1 Main St",
    "city": "Ottawa",
    "region": "ON",
    "postal_code": "K1P 1J1",
    "country": "CA",
}


def _staff(identity: Identity, admin: Account, role: str = "staff") -> Account:
    email = new_email("staff")
    identity.invite_staff(caller=admin.caller, payload={"email": email, "role": role})
    link = identity.link_token("invitation_sent", email=email)
    identity.accept_invitation(payload={"token": link, "name": "Sam Staff", "password": PASSWORD})
    return identity.log_in(email)


def test_the_one_time_setup(identity: Identity) -> None:
    admin = identity.office(setup=False)
    bad = identity.error(
        "update_office",
        caller=admin.caller,
        payload={"name": None, "phone": "12", "time_zone": "Moon/Base", "kind": "dentist"},
    )
    assert bad.remote_kind == "invalid"
    assert {"kind"} <= {d["field"] for d in bad.details}  # the contract's check comes first
    bad = identity.error(
        "update_office",
        caller=admin.caller,
        payload={"name": None, "phone": "12", "time_zone": "Moon/Base", "email": "x"},
    )
    assert {d["field"] for d in bad.details} == {"name", "phone", "time_zone", "email"}

    office = OfficeOut.model_validate(
        identity.update_office(
            caller=admin.caller,
            payload={
                "name": "Lakeside Oral Surgery",
                "kind": "specialist",
                "phone": unique_phone(),
                "address": ADDRESS,
                "time_zone": "America/Vancouver",
                "notation": "fdi",
            },
        )
    )
    assert office.accepts_referrals is True  # a specialist receives referrals by default
    assert office.notation == "fdi" and office.time_zone == "America/Vancouver"
    assert office.setup.office_complete is False  # a specialist names the specialty...
    identity.update_office(caller=admin.caller, payload={"specialty": "Oral surgery"})
    office = OfficeOut.model_validate(identity.get_office(caller=admin.caller))
    assert office.setup.office_complete is False  # ...and has a provider
    provider = ProviderOut.model_validate(
        identity.create_provider(caller=admin.caller, payload={"display_name": "Dr. Okafor"})
    )
    office = OfficeOut.model_validate(identity.get_office(caller=admin.caller))
    assert office.setup.office_complete is True and office.setup.terms_accepted is False

    wrong = identity.error("accept_terms", caller=admin.caller, payload={"version": "2020-01"})
    assert wrong.remote_kind == "invalid" and wrong.details[0]["field"] == "version"
    assert "2026-11" in wrong.details[0]["message"]
    done = identity.accept_terms(caller=admin.caller, payload={"version": "2026-11"}, client_ip=IP)
    assert OfficeOut.model_validate(done).setup.complete is True
    accepted = identity.sql("SELECT user_id, version, ip FROM terms_acceptances")
    assert [(str(a), v, ip) for a, v, ip in accepted] == [(admin.user_id, "2026-11", IP)]

    # Providers: renamed, deleted (kept for the records that name them).
    renamed = identity.update_provider(
        caller=admin.caller, provider_id=str(provider.id), payload={"display_name": "Dr. A. Okafor"}
    )
    assert renamed["display_name"] == "Dr. A. Okafor"
    identity.delete_provider(caller=admin.caller, provider_id=str(provider.id))
    assert identity.list_providers(caller=admin.caller) == []
    gone = identity.error("get_provider", caller=admin.caller, provider_id=str(provider.id))
    assert gone.remote_kind == "not_found"
    assert identity.sql("SELECT count(*) FROM providers") == [(1,)]
    office = OfficeOut.model_validate(identity.get_office(caller=admin.caller))
    assert office.setup.complete is False

    # A general practice does not receive referrals unless it says so.
    gp = identity.update_office(caller=admin.caller, payload={"kind": "general_practice"})
    assert gp["accepts_referrals"] is False
    both = identity.update_office(
        caller=admin.caller, payload={"kind": "general_practice", "accepts_referrals": True}
    )
    assert both["accepts_referrals"] is True


def test_an_office_cannot_take_another_offices_e_mail_or_phone(identity: Identity) -> None:
    ours, theirs = identity.office(), identity.office()
    their_office = identity.get_office(caller=theirs.caller)
    for field in ("email", "phone"):
        taken = identity.error(
            "update_office", caller=ours.caller, payload={field: their_office[field]}
        )
        assert taken.remote_kind == "conflict"


def test_staff_read_but_only_admins_run_the_office(identity: Identity) -> None:
    admin = identity.office()
    staff = _staff(identity, admin)
    me = Me.model_validate(identity.get_me(caller=staff.caller))
    assert me.user is not None and me.user.role == "staff" and me.user.name == "Sam Staff"
    assert me.office.id == me.user.office_id and me.office.setup.complete is True
    assert len(identity.list_users(caller=staff.caller)) == 2
    assert identity.get_user(caller=staff.caller, user_id=admin.user_id)["role"] == "admin"
    provider = identity.list_providers(caller=staff.caller)[0]["id"]
    client = identity.create_api_client(caller=admin.caller, payload={"name": "PMS"})["id"]
    invitation = identity.create_invitation(caller=admin.caller, payload={"email": new_email()})
    forbidden = {
        "update_office": {"payload": {"name": "Mine"}},
        "accept_terms": {"payload": {"version": "2026-11"}},
        "create_provider": {"payload": {"display_name": "Dr. X"}},
        "update_provider": {"provider_id": provider, "payload": {"display_name": "Dr. X"}},
        "delete_provider": {"provider_id": provider},
        "invite_staff": {"payload": {"email": new_email()}},
        "change_role": {"user_id": admin.user_id, "payload": {"role": "staff"}},
        "remove_user": {"user_id": admin.user_id},
        "create_invitation": {"payload": {"email": new_email()}},
        "revoke_invitation": {"invitation_id": invitation["id"]},
        "list_api_clients": {},
        "get_api_client": {"api_client_id": client},
        "create_api_client": {"payload": {"name": "x"}},
        "update_api_client": {"api_client_id": client, "payload": {"name": "x"}},
        "revoke_api_client": {"api_client_id": client},
        "list_audit": {},
    }
    for method, kwargs in forbidden.items():
        refused = identity.error(method, caller=staff.caller, **kwargs)
        assert refused.remote_kind == "forbidden", method
    assert len(identity.list_invitations(caller=staff.caller)) == 2  # reading is for everyone


def test_roles_change_but_an_office_keeps_an_admin(identity: Identity) -> None:
    admin = identity.office()
    staff = _staff(identity, admin)
    last = identity.error(
        "change_role", caller=admin.caller, user_id=admin.user_id, payload={"role": "staff"}
    )
    assert last.remote_kind == "conflict"
    client = identity.error(
        "change_role", caller=admin.caller, user_id=staff.user_id, payload={"role": "client"}
    )
    assert client.remote_kind == "invalid" and client.details[0]["field"] == "role"
    promoted = UserOut.model_validate(
        identity.change_role(
            caller=admin.caller, user_id=staff.user_id, payload={"role": "admin"}, client_ip=IP
        )
    )
    assert promoted.role == "admin"
    # The promoted person's sessions end, so their tokens stop carrying the old role.
    ended = identity.error("refresh_session", refresh_token=staff.tokens["refresh_token"])
    assert ended.remote_kind == "unauthenticated"
    revocations = identity.list_revocations(since=0)["entries"]
    assert any(e["user_id"] == staff.user_id for e in revocations)
    # The caller's role is read from the database, not from what the caller claims.
    staff_as_admin = {**staff.caller, "role": "admin"}
    assert identity.get_me(caller=staff_as_admin)["role"] == "admin"

    itself = identity.error("remove_user", caller=admin.caller, user_id=admin.user_id)
    assert itself.remote_kind == "conflict"
    identity.remove_user(caller=staff.caller, user_id=admin.user_id, client_ip=IP)
    assert [u["id"] for u in identity.list_users(caller=staff.caller)] == [staff.user_id]
    last = identity.error(
        "change_role", caller=staff.caller, user_id=staff.user_id, payload={"role": "staff"}
    )
    assert last.remote_kind == "conflict"
    audit = [AuditEntry.model_validate(e) for e in identity.list_audit(caller=staff.caller)]
    assert [e.action for e in audit[:2]] == ["user_removed", "role_changed"]
    assert audit[0].details == {"target_user_id": admin.user_id} and audit[0].ip == IP
    assert (
        identity.list_audit(caller=staff.caller, limit=1, before_id=audit[0].id)[0]["action"]
        == "role_changed"
    )


def test_every_id_of_another_office_is_not_found(identity: Identity) -> None:
    a, b = identity.office(), identity.office()
    b_provider = identity.list_providers(caller=b.caller)[0]["id"]
    b_invitation = identity.create_invitation(caller=b.caller, payload={"email": new_email()})
    b_staff_invitation = identity.invite_staff(caller=b.caller, payload={"email": new_email()})
    b_client = identity.create_api_client(caller=b.caller, payload={"name": "theirs"})
    attempts = [
        ("get_provider", {"provider_id": b_provider}),
        ("update_provider", {"provider_id": b_provider, "payload": {"display_name": "Mine"}}),
        ("delete_provider", {"provider_id": b_provider}),
        ("get_user", {"user_id": b.user_id}),
        ("change_role", {"user_id": b.user_id, "payload": {"role": "staff"}}),
        ("remove_user", {"user_id": b.user_id}),
        ("revoke_invitation", {"invitation_id": b_invitation["id"]}),
        ("revoke_invitation", {"invitation_id": b_staff_invitation["id"]}),
        ("get_api_client", {"api_client_id": b_client["id"]}),
        ("update_api_client", {"api_client_id": b_client["id"], "payload": {"name": "Mine"}}),
        ("revoke_api_client", {"api_client_id": b_client["id"]}),
    ]
    a_staff = _staff(identity, a)
    for caller in (a.caller, a_staff.caller):
        for method, kwargs in attempts:
            refused = identity.error(method, caller=caller, **kwargs)
            assert refused.remote_kind == "not_found", (method, caller["role"])
    # A caller claiming the other office is refused too.
    posing = {**a.caller, "office_id": b.office_id}
    assert identity.error("get_office", caller=posing).remote_kind == "unauthenticated"
    # ...and nothing of b's changed.
    assert identity.get_provider(caller=b.caller, provider_id=b_provider)["display_name"] != (
        "Mine"
    )
    assert identity.get_user(caller=b.caller, user_id=b.user_id)["role"] == "admin"
    kept = identity.get_api_client(caller=b.caller, api_client_id=b_client["id"])
    assert kept["revoked_at"] is None and kept["name"] == "theirs"
    statuses = {i["status"] for i in identity.list_invitations(caller=b.caller)}
    assert statuses == {"pending"}


def test_a_retry_with_the_same_idempotency_key_returns_the_first_answer(
    identity: Identity,
) -> None:
    admin = identity.office()

    def twice(method: str, **kwargs: object) -> tuple[dict, dict]:
        first = getattr(identity, method)(caller=admin.caller, idempotency_key="k-1", **kwargs)
        again = getattr(identity, method)(caller=admin.caller, idempotency_key="k-1", **kwargs)
        return first, again

    first, again = twice("create_provider", payload={"display_name": "Dr. Once"})
    assert first == again
    names = [p["display_name"] for p in identity.list_providers(caller=admin.caller)]
    assert names.count("Dr. Once") == 1
    email = new_email()
    first, again = twice("create_invitation", payload={"email": email}, client_ip=IP)
    assert InvitationOut.model_validate(first) == InvitationOut.model_validate(again)
    assert len(identity.events("invitation_sent", email=email)) == 1
    first, again = twice("invite_staff", payload={"email": new_email()})
    assert first["id"] == again["id"]
    first, again = twice("create_api_client", payload={"name": "PMS"})
    assert first["client_secret"] and again["client_secret"] is None
    assert {k: v for k, v in first.items() if k != "client_secret"} == {
        k: v for k, v in again.items() if k != "client_secret"
    }
    assert len(identity.list_api_clients(caller=admin.caller)) == 1
    # Another key, another provider; a key too long is named.
    other = identity.create_provider(
        caller=admin.caller, payload={"display_name": "Dr. Once"}, idempotency_key="k-2"
    )
    assert other["id"] != first.get("id")
    long = identity.error(
        "create_provider",
        caller=admin.caller,
        payload={"display_name": "x"},
        idempotency_key="k" * 201,
    )
    assert long.details[0]["field"] == "idempotency_key"


def test_what_other_services_ask(identity: Identity) -> None:
    admin = identity.office(name="Bright Smiles", providers=("Dr. B", "Dr. A"))
    staff = _staff(identity, admin)
    unverified = identity.sign_up()
    profiles = [
        OfficeProfile.model_validate(p)
        for p in identity.get_office_profiles(
            office_ids=[admin.office_id, "00000000-0000-4000-8000-000000000000"]
        )
    ]
    assert [p.name for p in profiles] == ["Bright Smiles"]
    assert [p.display_name for p in profiles[0].providers] == ["Dr. A", "Dr. B"]
    users = identity.get_users(user_ids=[staff.user_id, admin.user_id])
    assert [u["id"] for u in users] == [staff.user_id, admin.user_id]
    members = identity.list_office_members(office_id=admin.office_id)
    assert {m["id"] for m in members} == {admin.user_id, staff.user_id}
    assert identity.list_office_members(office_id=unverified["office_id"]) == []
    bad = identity.error("get_office_profiles", office_ids=["nope"])
    assert bad.remote_kind == "invalid" and bad.details[0]["field"] == "office_ids.0"
