"""E-mail addresses and phone numbers in one stored form each, so duplicates are found."""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import available_timezones

import phonenumbers
from email_validator import EmailNotValidError, validate_email


class ContactError(ValueError):
    """The value is not a usable e-mail address, phone number or time zone; says why."""


def normalise_email(value: str) -> str:
    """The address in lower case, or ContactError (no DNS lookup)."""
    try:
        checked = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise ContactError(str(exc)) from None
    return checked.normalized.lower()


def normalise_phone(value: str, *, region: str) -> str:
    """The number in E.164 (``+14165550134``), or ContactError."""
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ContactError(
            f"Enter a valid phone number (with its country code when outside {region})."
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@lru_cache(maxsize=1)
def _time_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def check_time_zone(value: str) -> str:
    """The IANA time zone name as given, or ContactError."""
    if value not in _time_zones():
        raise ContactError("Choose a time zone by its IANA name, e.g. America/Toronto.")
    return value
