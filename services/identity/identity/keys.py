"""The Ed25519 key that signs access tokens: loaded, or made once and kept on disk."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared.contracts.identity import TOKEN_ALGORITHM


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class SigningKey:
    """The private key, its id (RFC 7638 thumbprint) and its public JWK (RFC 8037)."""

    private_key: Ed25519PrivateKey
    kid: str
    public_jwk: dict[str, Any]

    @classmethod
    def from_private_key(cls, private_key: Ed25519PrivateKey) -> SigningKey:
        raw = private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        x = _b64url(raw)
        # The thumbprint is over the required members only, in lexicographic order.
        canonical = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": x}, separators=(",", ":"))
        kid = _b64url(hashlib.sha256(canonical.encode()).digest())
        jwk = {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid}
        return cls(private_key, kid, {**jwk, "alg": TOKEN_ALGORITHM, "use": "sig"})

    @classmethod
    def from_pem(cls, pem: str | bytes) -> SigningKey:
        data = pem.encode() if isinstance(pem, str) else pem
        key = serialization.load_pem_private_key(data, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("the JWT signing key must be an Ed25519 private key")
        return cls.from_private_key(key)


def load_signing_key(*, pem: str | None, path: str) -> SigningKey:
    """The key given as PEM text, else the one in ``path`` (made there when missing)."""
    if pem:
        # An environment variable may carry the PEM's line breaks as literal "\n".
        return SigningKey.from_pem(pem.replace("\\n", "\n"))
    file = Path(path)
    if not file.exists():
        _create_key_file(file)
    return SigningKey.from_pem(file.read_bytes())


def _create_key_file(file: Path) -> None:
    """Write a new key (mode 0600) unless another process got there first."""
    file.parent.mkdir(parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # Written whole under a temporary name, then linked into place: link() never
    # overwrites, so of two processes starting at once one key wins and both use it.
    handle, temporary = tempfile.mkstemp(dir=file.parent, prefix=".jwt-key-")
    try:
        with os.fdopen(handle, "wb") as out:  # mkstemp makes it 0600
            out.write(pem)
            out.flush()
            os.fsync(out.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(temporary, file)
    finally:
        os.unlink(temporary)
