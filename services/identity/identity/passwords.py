"""The password policy, and argon2id hashing off the worker's event loop."""

from __future__ import annotations

import re
import secrets
from functools import lru_cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from eventlet import tpool
from zxcvbn.frequency_lists import FREQUENCY_LISTS

MIN_LENGTH = 12

# The floor (OWASP's argon2id minimum): m = 19 MiB, t = 2, p = 1.
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1, type=Type.ID)

# What people append to a common word to pass a naive policy ("Password123!").
_TRAILING_DIGITS_AND_SYMBOLS = re.compile(r"[\d\W_]+$")


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    return frozenset(FREQUENCY_LISTS["passwords"])


def is_common(password: str) -> bool:
    """True when the password, or its stem without trailing digits/symbols, is a common one."""
    lowered = password.lower()
    stem = _TRAILING_DIGITS_AND_SYMBOLS.sub("", lowered)
    common = _common_passwords()
    return lowered in common or (bool(stem) and stem in common)


def policy_violations(password: str) -> list[str]:
    """A message for every rule the password breaks; empty when it is acceptable."""
    broken = []
    if len(password) < MIN_LENGTH:
        broken.append(f"Use at least {MIN_LENGTH} characters.")
    if not any(char.isupper() for char in password):
        broken.append("Include an upper-case letter.")
    if not any(char.islower() for char in password):
        broken.append("Include a lower-case letter.")
    if not any(char.isdigit() for char in password):
        broken.append("Include a digit.")
    if is_common(password):
        broken.append("This is a common password that is easy to guess; choose another.")
    return broken


def hash_password(password: str) -> str:
    """The argon2id hash, computed in a native thread so the worker's heartbeat goes on."""
    return str(tpool.execute(_hasher.hash, password))


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches; the comparison runs in a native thread."""
    try:
        return bool(tpool.execute(_hasher.verify, password_hash, password))
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with other parameters than today's."""
    return _hasher.check_needs_rehash(password_hash)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(24))


def verify_nothing(password: str) -> None:
    """The work of a real verification, for accounts that do not exist or are locked.

    Unknown e-mails, wrong passwords and locked accounts then take the same time.
    """
    verify_password(_dummy_hash(), password)
