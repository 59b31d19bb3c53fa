"""Planning slots and bookings: the domain (see the README's "Planning sessions")."""

from __future__ import annotations

from typing import Any


def booking_out(session: Any, case: Any, *, viewer_time_zone: str | None = None) -> Any:
    """The case's active booking as ``BookingOut``, or None."""
    return None
