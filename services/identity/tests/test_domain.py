"""The identity service's pure parts: password policy, normalisation, tokens, keys, settings."""

from __future__ import annotations

import multiprocessing
import stat
import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import BaseModel, Field

from identity.contact import ContactError, check_time_zone, normalise_email, normalise_phone
from identity.keys import SigningKey, load_signing_key
from identity.passwords import is_common, policy_violations
from identity.settings import Settings
from identity.tokens import client_access_token, hash_token, new_token, user_access_token
from shared.contracts.identity import TOKEN_AUDIENCE, TOKEN_ISSUER, Address
from shared.errors import InvalidInput
from shared.validation import client_address, parse

# -- password policy ------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("Short1Aa", "12 characters"),
        ("alllowercase123", "upper-case"),
        ("ALLUPPERCASE123", "lower-case"),
        ("NoDigitsAtAllHere", "digit"),
        ("Password123456", "common"),
    ],
)
def test_each_rule_is_named_alone(password: str, rule: str) -> None:
    broken = policy_violations(password)
    assert len(broken) == 1 and rule in broken[0].lower(), broken


def test_every_broken_rule_is_named_at_once() -> None:
    broken = " ".join(policy_violations("!!!")).lower()
    for rule in ("12 characters", "upper-case", "lower-case", "digit"):
        assert rule in broken


def test_a_good_password_breaks_no_rule() -> None:
    assert policy_violations("Molar-Crown-2026") == []
    assert policy_violations("Bicuspid-Bridge-9931") == []


@pytest.mark.parametrize(
    "password", ["password", "PASSWORD", "Password123456", "Qwerty!!2024", "dragon_99", "123456"]
)
def test_common_passwords_and_their_decorated_forms_are_common(password: str) -> None:
    assert is_common(password)


def test_an_uncommon_password_is_not_common() -> None:
    assert not is_common("Molar-Crown-2026")
    assert not is_common("!!!")  # nothing left after the trailing symbols: no stem to look up


# -- e-mail, phone, time zone ---------------------------------------------------------


def test_emails_are_stored_in_lower_case() -> None:
    assert normalise_email("  Front.Desk@BrightSmiles.Example.COM ") == (
        "front.desk@brightsmiles.example.com"
    )


@pytest.mark.parametrize("email", ["no-at-sign", "a@b", "two@@example.com", "x@localhost"])
def test_bad_emails_are_refused_with_a_reason(email: str) -> None:
    with pytest.raises(ContactError) as raised:
        normalise_email(email)
    assert str(raised.value)


@pytest.mark.parametrize(
    ("phone", "region", "e164"),
    [
        ("+1 416 555 0134", "US", "+14165550134"),
        ("(416) 234-5678", "US", "+14162345678"),
        ("416.234.5678", "CA", "+14162345678"),
        ("+44 20 7946 0958", "US", "+442079460958"),
        ("020 7946 0958", "GB", "+442079460958"),
    ],
)
def test_phones_are_stored_in_e164(phone: str, region: str, e164: str) -> None:
    assert normalise_phone(phone, region=region) == e164


@pytest.mark.parametrize("phone", ["12", "not a number", "+1 416 555", "+999 1234 5678"])
def test_bad_phones_are_refused(phone: str) -> None:
    with pytest.raises(ContactError):
        normalise_phone(phone, region="US")


def test_time_zones_are_iana_names() -> None:
    assert check_time_zone("America/Toronto") == "America/Toronto"
    with pytest.raises(ContactError):
        check_time_zone("Toronto time")


def test_client_addresses_are_ip_addresses_or_nothing() -> None:
    assert client_address("203.0.113.9") == "203.0.113.9"
    assert client_address("2001:db8::1") == "2001:db8::1"
    assert client_address("not an address") is None
    assert client_address(None) is None


# -- input validation --------------------------------------------------------------


class _Office(BaseModel):
    name: str = Field(min_length=1)
    address: Address


def test_a_validation_error_names_every_field() -> None:
    with pytest.raises(InvalidInput) as raised:
        parse(_Office, {"name": "", "address": {"city": "Toronto"}})
    fields = {error["field"] for error in raised.value.details}
    assert fields == {
        "name",
        "address.street",
        "address.region",
        "address.postal_code",
        "address.country",
    }
    assert all(error["message"] for error in raised.value.details)


def test_a_missing_payload_is_an_invalid_one() -> None:
    with pytest.raises(InvalidInput):
        parse(_Office, None)


# -- tokens and keys ------------------------------------------------------------------


def test_tokens_are_random_long_and_stored_as_sha256() -> None:
    token = new_token()
    assert len(token) >= 43 and token != new_token()  # 256 bits, URL-safe base64
    digest = hash_token(token)
    assert len(digest) == 64 and digest == hash_token(token) and token not in digest


def test_access_tokens_verify_with_the_public_jwk_and_carry_the_claims() -> None:
    key = SigningKey.from_private_key(Ed25519PrivateKey.generate())
    now = datetime.now(UTC)
    user_id, office_id, session_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    token = user_access_token(
        key=key,
        user_id=user_id,
        office_id=office_id,
        role="admin",
        session_id=session_id,
        csrf_token="csrf-token-value",
        now=now,
        expires_at=now + timedelta(minutes=5),
    )
    assert jwt.get_unverified_header(token) == {"alg": "EdDSA", "kid": key.kid, "typ": "JWT"}
    public = jwt.PyJWK(key.public_jwk).key
    claims = jwt.decode(
        token, public, algorithms=["EdDSA"], audience=TOKEN_AUDIENCE, issuer=TOKEN_ISSUER
    )
    assert claims["sub"] == f"user:{user_id}" and claims["uid"] == str(user_id)
    assert claims["office"] == str(office_id) and claims["sid"] == str(session_id)
    assert claims["role"] == "admin" and claims["csrf"] == hash_token("csrf-token-value")
    assert claims["exp"] - claims["iat"] == 300 and claims["jti"]

    client = client_access_token(
        key=key, client_id=user_id, office_id=office_id, now=now, ttl=timedelta(minutes=15)
    )
    claims = jwt.decode(client, public, algorithms=["EdDSA"], audience=TOKEN_AUDIENCE)
    assert claims["sub"] == f"client:{user_id}" and claims["role"] == "client"
    assert "sid" not in claims and "csrf" not in claims and claims["cid"] == str(user_id)


def test_the_public_jwk_is_rfc_8037_with_a_thumbprint_kid() -> None:
    key = SigningKey.from_private_key(Ed25519PrivateKey.generate())
    jwk = key.public_jwk
    assert jwk["kty"] == "OKP" and jwk["crv"] == "Ed25519" and jwk["alg"] == "EdDSA"
    assert jwk["use"] == "sig" and jwk["kid"] == key.kid and "d" not in jwk
    # RFC 7638: the same key always has the same id.
    assert SigningKey.from_private_key(key.private_key).kid == key.kid


def test_a_missing_key_file_is_made_private_and_then_reused(tmp_path) -> None:
    path = tmp_path / "secrets" / "jwt.pem"
    first = load_signing_key(pem=None, path=str(path))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_signing_key(pem=None, path=str(path)).kid == first.kid
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind
    pem = path.read_text()
    assert load_signing_key(pem=pem, path="/nonexistent").kid == first.kid
    assert load_signing_key(pem=pem.replace("\n", "\\n"), path="/nonexistent").kid == first.kid


def _load_kid(path: str, queue: multiprocessing.Queue) -> None:
    queue.put(load_signing_key(pem=None, path=path).kid)


def test_processes_starting_together_end_up_with_one_key(tmp_path) -> None:
    path = str(tmp_path / "jwt.pem")
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    workers = [context.Process(target=_load_kid, args=(path, queue)) for _ in range(4)]
    for worker in workers:
        worker.start()
    kids = {queue.get(timeout=60) for _ in workers}
    for worker in workers:
        worker.join(timeout=60)
    assert kids == {load_signing_key(pem=None, path=path).kid}


# -- settings ------------------------------------------------------------------------


def test_settings_read_the_config_and_keep_defaults_for_what_is_missing() -> None:
    settings = Settings.from_config(
        {
            "VERIFY_LINK_TTL": 2,
            "LOCKOUT_MINUTES": 1,
            "PUBLIC_URL": "https://bw.example/",
            "JWT_PRIVATE_KEY": None,
        }
    )
    assert settings.verify_link_ttl == timedelta(seconds=2)
    assert settings.lockout_duration == timedelta(minutes=1)
    assert settings.public_url == "https://bw.example"
    assert settings.reset_link_ttl == timedelta(minutes=30)
    assert settings.session_max_age == timedelta(hours=12)
    assert settings.login_rate_limit == 30 and settings.terms_version == "2026-11"
