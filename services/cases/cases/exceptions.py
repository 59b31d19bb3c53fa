"""Errors this service's callers may see (the gateway maps them by kind)."""

from __future__ import annotations

from shared.errors import Conflict, NotFound


class CaseNotFound(NotFound):
    """No such case, or not the caller's office's to see."""

    def __init__(self) -> None:
        super().__init__("No such case.")


class StageConflict(Conflict):
    """The case's current stage does not allow this; the message names the stage."""

    def __init__(self, stage: str, requested: str) -> None:
        super().__init__(
            f"The case is {stage}: it cannot be moved to {requested} now.",
            details={"stage": stage, "requested": requested},
        )


class NotEditable(Conflict):
    """The client may not edit the case in its current stage."""

    def __init__(self, stage: str) -> None:
        super().__init__(
            f"The case is {stage}: it can no longer be edited; contact the lab.",
            details={"stage": stage, "requested": "edit"},
        )
