"""Short human references (``R-7K3F9Q``), unique across the platform."""

from __future__ import annotations

import secrets

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from referrals.models import Referral

# No 0/O or 1/I: a reference is read aloud and typed from paper.
ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
LENGTH = 6


def new_reference(session: Session) -> str:
    """A reference no referral has yet (the unique constraint guards the rare race)."""
    while True:
        reference = "R-" + "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
        if not session.scalar(select(exists().where(Referral.reference == reference))):
            return reference
