"""Errors this service's callers may see (the gateway maps them by kind)."""

from __future__ import annotations

from shared.errors import Conflict, NotFound


class ReferralNotFound(NotFound):
    """No such referral, or not the caller's office's to see."""

    def __init__(self) -> None:
        super().__init__("No such referral.")


class ProcedureNotFound(NotFound):
    """No such procedure in the caller's office's list."""

    def __init__(self) -> None:
        super().__init__("No such procedure in your office's list.")


class StageConflict(Conflict):
    """The referral's current stage does not allow this; the message names the stage."""

    def __init__(self, stage: str, wanted: str) -> None:
        super().__init__(
            f"The referral is {stage}: it cannot be {wanted} now.",
            details={"stage": stage, "requested": wanted},
        )
