"""The token verifier on its own, with keys made here: what it accepts and what it rejects."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from gateway.auth.keys import KeyStore
from gateway.auth.revocations import RevocationList
from gateway.auth.tokens import AccessClaims, InvalidToken, TokenVerifier
from shared.contracts.identity import Revocation, Revocations
from shared.errors import Unavailable
from tests.gateway.fakes import SigningKey, Subject


def b64(data: bytes | dict[str, Any]) -> str:
    raw = json.dumps(data).encode() if isinstance(data, dict) else data
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def hs256(claims: dict[str, Any], secret: bytes, kid: str) -> str:
    """HS256 by hand: PyJWT itself refuses to use a PEM public key as an HMAC secret."""
    signing_input = f"{b64({'alg': 'HS256', 'typ': 'JWT', 'kid': kid})}.{b64(claims)}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


class Fetches:
    """A key fetch that counts its calls and answers the current key set."""

    def __init__(self, *keys: SigningKey) -> None:
        self.keys = list(keys)
        self.count = 0

    async def __call__(self) -> dict[str, Any]:
        self.count += 1
        return {"keys": [key.jwk() for key in self.keys]}


def verifier_for(key: SigningKey, fetch: Fetches | None = None) -> TokenVerifier:
    keys = KeyStore(fetch or Fetches(key))
    keys.load({"keys": [key.jwk()]})
    revocations = RevocationList()
    revocations.apply(Revocations(cursor=0, entries=[]))
    return TokenVerifier(keys, revocations)


def verify(verifier: TokenVerifier, token: str) -> AccessClaims:
    return asyncio.run(verifier.verify(token))


def rejected(verifier: TokenVerifier, token: str) -> str:
    with pytest.raises(InvalidToken) as caught:
        verify(verifier, token)
    assert caught.value.headers == {"WWW-Authenticate": 'Bearer error="invalid_token"'}
    assert len(token) < 8 or token not in caught.value.message  # no token in the answer
    return caught.value.message


def test_a_valid_user_token_gives_its_caller_session_and_csrf_hash(key: SigningKey) -> None:
    subject = Subject(role="staff")
    claims = verify(verifier_for(key), key.sign(subject.claims()))
    assert claims.caller().model_dump(mode="json") == subject.caller()
    assert claims.sid == subject.session_id
    assert claims.csrf == hashlib.sha256(subject.csrf_token.encode()).hexdigest()


def test_a_valid_api_client_token_gives_a_client_caller(key: SigningKey) -> None:
    subject = Subject.api_client()
    claims = verify(verifier_for(key), key.sign(subject.claims()))
    caller = claims.caller()
    assert caller.client_id == subject.client_id and caller.user_id is None
    assert caller.office_id == subject.office_id and claims.sid is None


def test_alg_none_is_rejected(key: SigningKey) -> None:
    claims = Subject().claims()
    token = f"{b64({'alg': 'none', 'typ': 'JWT', 'kid': key.kid})}.{b64(claims)}."
    assert "EdDSA" in rejected(verifier_for(key), token)


@pytest.mark.parametrize("secret_form", ["raw", "pem", "jwk_x"])
def test_hs256_signed_with_the_public_key_is_rejected(key: SigningKey, secret_form: str) -> None:
    public = key.private.public_key()
    secret = {
        "raw": public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw),
        "pem": public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        "jwk_x": key.jwk()["x"].encode(),
    }[secret_form]
    rejected(verifier_for(key), hs256(Subject().claims(), secret, key.kid))


def test_a_token_signed_by_another_key_is_rejected(key: SigningKey) -> None:
    impostor = SigningKey(kid=key.kid)  # same kid, different key
    assert "bad signature" in rejected(verifier_for(key), impostor.sign(Subject().claims()))


def test_an_unknown_kid_refetches_the_keys_at_most_once_per_ten_seconds(key: SigningKey) -> None:
    fetch = Fetches(key)
    verifier = verifier_for(key, fetch)
    stranger = SigningKey(kid="not-published")
    assert "unknown key" in rejected(verifier, stranger.sign(Subject().claims()))
    assert fetch.count == 1
    rejected(verifier, stranger.sign(Subject().claims()))
    assert fetch.count == 1  # throttled: made-up kids cannot turn requests into RPCs


def test_a_rotated_in_key_is_fetched_when_a_token_names_it(key: SigningKey) -> None:
    rotated = SigningKey(kid="k-2026-06")
    fetch = Fetches(key)
    verifier = verifier_for(key, fetch)
    fetch.keys.append(rotated)
    subject = Subject()
    assert verify(verifier, rotated.sign(subject.claims())).uid == subject.user_id
    assert fetch.count == 1


def test_an_expired_token_is_rejected_beyond_the_leeway(key: SigningKey) -> None:
    verifier = verifier_for(key)
    past = time.time() - 3600
    assert "expired" in rejected(verifier, key.sign(Subject().claims(issued=past, lifetime=60)))
    # within the 5 s leeway (clocks of identity and gateway differ a little): accepted
    just = Subject().claims(issued=time.time() - 62, lifetime=60)
    verify(verifier, key.sign(just))


@pytest.mark.parametrize(
    ("override", "reason"),
    [
        ({"aud": "another-api"}, "audience"),
        ({"iss": "someone-else"}, "issuer"),
        ({"iat": int(time.time()) + 3600}, "future"),
    ],
)
def test_wrong_audience_issuer_or_future_iat_is_rejected(
    key: SigningKey, override: dict[str, Any], reason: str
) -> None:
    assert reason in rejected(verifier_for(key), key.sign(Subject().claims(**override)))


@pytest.mark.parametrize("missing", ["exp", "iat", "sub", "aud", "iss", "office"])
def test_a_token_without_a_required_claim_is_rejected(key: SigningKey, missing: str) -> None:
    claims = Subject().claims()
    del claims[missing]
    rejected(verifier_for(key), key.sign(claims))


def test_a_subject_that_disagrees_with_uid_is_rejected(key: SigningKey) -> None:
    claims = Subject().claims(sub=f"user:{uuid.uuid4()}")
    assert "claims" in rejected(verifier_for(key), key.sign(claims))


@pytest.mark.parametrize("token", ["", "abc", "a.b.c", "Bearer x.y.z"])
def test_garbage_is_rejected(key: SigningKey, token: str) -> None:
    rejected(verifier_for(key), token)


def test_a_revoked_session_is_rejected_and_others_are_not(key: SigningKey) -> None:
    verifier = verifier_for(key)
    revoked, other = Subject(), Subject()
    entry = Revocation(session_id=revoked.session_id, revoked_before=datetime.now(UTC))
    verifier.revocations.apply(Revocations(cursor=5, entries=[entry]))
    assert "ended" in rejected(verifier, key.sign(revoked.claims()))
    verify(verifier, key.sign(other.claims()))
    assert verifier.revocations.cursor == 5


def test_a_session_revoked_locally_is_rejected_at_once(key: SigningKey) -> None:
    verifier = verifier_for(key)
    subject = Subject()
    verifier.revocations.revoke_session(subject.session_id)  # type: ignore[arg-type]
    rejected(verifier, key.sign(subject.claims()))


@pytest.mark.parametrize("kind", ["user", "client"])
def test_tokens_issued_before_revoked_before_are_rejected(key: SigningKey, kind: str) -> None:
    verifier = verifier_for(key)
    subject = Subject() if kind == "user" else Subject.api_client()
    cutoff = datetime.now(UTC).replace(microsecond=0)
    entry = Revocation(user_id=subject.user_id, client_id=subject.client_id, revoked_before=cutoff)
    verifier.revocations.apply(Revocations(cursor=1, entries=[entry]))
    rejected(verifier, key.sign(subject.claims(issued=cutoff.timestamp() - 30)))
    rejected(verifier, key.sign(subject.claims(issued=cutoff.timestamp() - 1)))
    # identity puts revoked_before at the start of a second so that a log-in in that
    # same second (after a password change) stands: whole-second iat equal to it passes
    verify(verifier, key.sign(subject.claims(issued=cutoff.timestamp())))
    verify(verifier, key.sign(subject.claims(issued=cutoff.timestamp() + 1)))


def test_old_revocations_are_forgotten_after_twelve_hours() -> None:
    revocations = RevocationList()
    old = datetime.now(UTC) - timedelta(hours=13)
    user_id, session_id = uuid.uuid4(), uuid.uuid4()
    revocations.apply(
        Revocations(
            cursor=2,
            entries=[
                Revocation(user_id=user_id, revoked_before=old),
                Revocation(session_id=session_id, revoked_before=datetime.now(UTC)),
            ],
        )
    )
    assert len(revocations) == 1
    assert revocations.is_revoked(session_id=session_id, subject=user_id, issued_at=0)
    assert not revocations.is_revoked(session_id=None, subject=user_id, issued_at=0)


def test_nothing_is_verified_before_keys_and_revocations_arrive(key: SigningKey) -> None:
    keys, revocations = KeyStore(), RevocationList()
    verifier = TokenVerifier(keys, revocations)
    token = key.sign(Subject().claims())
    with pytest.raises(Unavailable):
        verify(verifier, token)
    keys.load({"keys": [key.jwk()]})
    with pytest.raises(Unavailable):  # a revoked token must not slip through meanwhile
        verify(verifier, token)
    revocations.apply(Revocations(cursor=0, entries=[]))
    verify(verifier, token)


def test_only_ed25519_public_keys_are_loaded(key: SigningKey) -> None:
    keys = KeyStore()
    private_jwk = {**key.jwk(), "d": "c2VjcmV0"}
    hmac_jwk = {"kty": "oct", "k": "c2VjcmV0", "kid": "h"}
    keys.load({"keys": [private_jwk, hmac_jwk, {"kty": "OKP"}, key.jwk()]})
    assert keys.kids == [key.kid]
    with pytest.raises(ValueError, match="no usable"):
        keys.load({"keys": [hmac_jwk]})
    assert keys.kids == [key.kid]  # an empty answer does not lock everyone out


def test_logout_finds_the_session_of_an_expired_token_but_not_of_a_forged_one(
    key: SigningKey,
) -> None:
    verifier = verifier_for(key)
    subject = Subject()
    expired = key.sign(subject.claims(issued=time.time() - 7200, lifetime=60))
    assert asyncio.run(verifier.session_of(expired)) == subject.session_id
    forged = SigningKey(kid=key.kid).sign(subject.claims())
    assert asyncio.run(verifier.session_of(forged)) is None
    unsigned = jwt.encode(subject.claims(), key="", algorithm="none")
    assert asyncio.run(verifier.session_of(unsigned)) is None
