"""Log-in protections: one answer for every wrong case, lockout, per-IP limit, session limits."""

from __future__ import annotations

import time

from shared.contracts.identity import AccountLocked

from .support import IP, PASSWORD, Identity, new_email

WRONG = "Wrong-Password-123"


def _attempt(identity: Identity, email: str, password: str, ip: str = IP) -> tuple[str, str]:
    error = identity.error("log_in", payload={"email": email, "password": password}, client_ip=ip)
    return error.remote_kind, error.message


def test_ten_failures_lock_the_account_and_unknown_users_get_the_same_answer(
    identity: Identity,
) -> None:
    admin = identity.office(setup=False)
    wrong = _attempt(identity, admin.email, WRONG)
    assert wrong == ("unauthenticated", "E-mail or password is incorrect.")
    assert _attempt(identity, new_email("nobody"), WRONG) == wrong
    assert _attempt(identity, "not an address", WRONG) == wrong
    for _ in range(8):
        assert _attempt(identity, admin.email, WRONG) == wrong
    assert identity.events("account_locked") == []
    assert _attempt(identity, admin.email, WRONG) == wrong  # the tenth in a row
    locked = AccountLocked.model_validate(identity.events("account_locked")[0])
    assert str(locked.user_id) == admin.user_id and locked.email == admin.email
    # Locked: even the right password gets the same answer.
    assert _attempt(identity, admin.email, PASSWORD) == wrong

    reasons = identity.sql(
        "SELECT details->>'reason' FROM audit_log WHERE action = 'login' AND outcome = 'failure'"
    )
    assert [r[0] for r in reasons].count("bad_password") == 10
    assert {"unknown_user", "locked"} <= {r[0] for r in reasons}
    unknown = identity.sql(
        "SELECT details FROM audit_log WHERE details->>'reason' = 'unknown_user' LIMIT 1"
    )
    assert "@example.com" in unknown[0][0]["email"]
    assert identity.sql("SELECT count(*) FROM audit_log WHERE action = 'account_locked'") == [(1,)]

    # After the lock the right password works and starts the count again.
    identity.sql("UPDATE users SET locked_until = now() - interval '1 second'")
    assert identity.log_in(admin.email).user_id == admin.user_id
    assert identity.sql("SELECT failed_logins FROM users") == [(0,)]


def test_unknown_locked_and_known_users_cost_one_argon2_verification_each(
    identity: Identity, monkeypatch
) -> None:
    """The same work on every path (the time itself is measured by `make bench login`)."""
    from identity import passwords

    admin = identity.office(setup=False)
    _attempt(identity, new_email("warm-up"), WRONG)  # the dummy hash is made once, first
    verified: list[str] = []

    class Counting:
        """argon2's hasher, noting the parameters of every hash it verifies."""

        def __getattr__(self, name: str):
            return getattr(real, name)

        def verify(self, password_hash: str, password: str) -> bool:
            verified.append(password_hash.split("$")[3])  # m=..,t=..,p=..
            return real.verify(password_hash, password)

    real = passwords._hasher
    monkeypatch.setattr(passwords, "_hasher", Counting())
    for email in (admin.email, new_email("nobody"), "not an address"):
        verified.clear()
        _attempt(identity, email, WRONG)
        assert verified == ["m=19456,t=2,p=1"], email
    identity.sql("UPDATE users SET locked_until = now() + interval '15 minutes'")
    verified.clear()
    _attempt(identity, admin.email, PASSWORD)
    assert verified == ["m=19456,t=2,p=1"]


def test_too_many_attempts_from_one_address_are_refused_for_a_while(start_identity) -> None:
    identity = start_identity(LOGIN_RATE_LIMIT=3, LOGIN_RATE_WINDOW=120)
    admin = identity.office(setup=False)  # one successful log-in from IP
    for _ in range(2):
        assert _attempt(identity, admin.email, WRONG)[0] == "unauthenticated"
    limited = identity.error(
        "log_in", payload={"email": admin.email, "password": PASSWORD}, client_ip=IP
    )
    assert limited.remote_kind == "rate_limited"
    assert 1 <= limited.details["retry_after"] <= 120
    # Refused attempts do not extend the wait; another address is not affected.
    again = identity.error(
        "log_in", payload={"email": admin.email, "password": PASSWORD}, client_ip=IP
    )
    assert again.details["retry_after"] <= limited.details["retry_after"]
    assert identity.log_in(admin.email, ip="203.0.113.50").user_id == admin.user_id
    reasons = identity.sql("SELECT details->>'reason' FROM audit_log WHERE ip = %s", IP)
    assert [r[0] for r in reasons].count("rate_limited") == 2


def test_idle_sessions_end_and_access_tokens_never_outlive_the_session(
    start_identity,
) -> None:
    identity = start_identity(SESSION_IDLE_TIMEOUT=1, SESSION_MAX_AGE=60)
    admin = identity.office(setup=False)
    assert admin.tokens["expires_in"] <= 60 and admin.tokens["refresh_expires_in"] <= 60
    time.sleep(1.2)
    idle = identity.error("refresh_session", refresh_token=admin.tokens["refresh_token"])
    assert idle.remote_kind == "unauthenticated"


def test_a_removed_user_cannot_log_in_or_act(identity: Identity) -> None:
    admin = identity.office(setup=False)
    staff_email = new_email("staff")
    identity.invite_staff(caller=admin.caller, payload={"email": staff_email})
    identity.accept_invitation(
        payload={
            "token": identity.link_token("invitation_sent", email=staff_email),
            "name": "Robin Front",
            "password": PASSWORD,
        }
    )
    staff = identity.log_in(staff_email)
    identity.remove_user(caller=admin.caller, user_id=staff.user_id, client_ip=IP)
    assert _attempt(identity, staff_email, PASSWORD)[0] == "unauthenticated"
    assert identity.error("get_me", caller=staff.caller).remote_kind == "unauthenticated"
    ended = identity.error("refresh_session", refresh_token=staff.tokens["refresh_token"])
    assert ended.remote_kind == "unauthenticated"
