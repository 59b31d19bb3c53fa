"""Errors this service's callers may see (the gateway maps them by kind)."""

from __future__ import annotations

from shared.errors import Conflict, Gone, NotFound, PayloadTooLarge


class FileNotFound(NotFound):
    """No such file, or its owner is not the caller's to see (never 403)."""

    def __init__(self, what: str = "file") -> None:
        super().__init__(f"No such {what}.")


class OwnerClosed(Conflict):
    """The referral or case no longer takes files."""

    def __init__(self, owner_type: str) -> None:
        super().__init__(
            f"The {owner_type} is closed: no more files can be added.",
            details={"owner_type": owner_type},
        )


class TooManyFiles(Conflict):
    """The owner holds as many files as it may."""

    def __init__(self, owner_type: str, limit: int) -> None:
        super().__init__(
            f"A {owner_type} holds at most {limit} files.",
            details=[{"field": "file", "message": f"A {owner_type} holds at most {limit} files."}],
        )


class FileTooLarge(PayloadTooLarge):
    """Over MAX_FILE_BYTES."""

    def __init__(self, limit: int, name: str | None = None) -> None:
        megabytes = limit / 2**20
        shown = f"{megabytes:.0f}" if megabytes == int(megabytes) else f"{megabytes:.1f}"
        message = f"{name or 'the file'} is larger than the {shown} MB limit"
        super().__init__(message, details=[{"field": "file", "message": message}])


class TicketUnknown(NotFound):
    def __init__(self) -> None:
        super().__init__("No such transfer ticket.")


class TicketSpent(Gone):
    def __init__(self) -> None:
        super().__init__("This transfer ticket was already used or has expired; ask for another.")


class PreviewPending(Conflict):
    def __init__(self) -> None:
        super().__init__("The preview is still being made; try again in a moment.")
