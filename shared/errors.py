"""Errors a caller may see, by kind.

Services raise subclasses of these (``ReferralNotFound(NotFound)``...). The
kind travels in the RPC error reply, so the gateway maps every error to an
HTTP status in one table (``gateway.errors``) without importing service code.
The message is written for a person: it names the field, file or limit.
"""

from __future__ import annotations

from typing import Any, ClassVar


class BridgeworkError(Exception):
    """Base of every error meant for the caller; ``kind`` selects the HTTP status."""

    kind: ClassVar[str] = "error"

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_wire(self) -> dict[str, Any]:
        """The JSON-safe form sent in an RPC error reply (beside nameko's own keys)."""
        return {"kind": self.kind, "message": self.message, "details": self.details}


class InvalidInput(BridgeworkError):
    """The request is well-formed but a field's value is unacceptable (422)."""

    kind = "invalid"


class NotFound(BridgeworkError):
    """No such thing, or not this caller's to see (404): the two look the same."""

    kind = "not_found"


class Conflict(BridgeworkError):
    """The request does not fit the current state (409), e.g. an illegal stage change."""

    kind = "conflict"


class Gone(BridgeworkError):
    """It existed but is no longer usable (410), e.g. an expired link."""

    kind = "gone"


class PayloadTooLarge(BridgeworkError):
    """A size limit was crossed (413)."""

    kind = "too_large"


class Unauthenticated(BridgeworkError):
    """No valid credentials (401)."""

    kind = "unauthenticated"


class PermissionDenied(BridgeworkError):
    """Authenticated but not allowed to do this to something it may see (403)."""

    kind = "forbidden"


class RateLimited(BridgeworkError):
    """Too many attempts (429)."""

    kind = "rate_limited"


class Unavailable(BridgeworkError):
    """A service or dependency is not running or not reachable (503)."""

    kind = "unavailable"


class DeadlineExceeded(BridgeworkError):
    """The callee did not answer within the caller's timeout (504)."""

    kind = "timeout"


class RemoteError(BridgeworkError):
    """An error reply from another service, rebuilt on the caller's side."""

    def __init__(
        self,
        message: str,
        *,
        kind: str = "error",
        exc_type: str = "Exception",
        details: Any = None,
    ) -> None:
        super().__init__(message, details=details)
        self.remote_kind = kind
        self.exc_type = exc_type

    @classmethod
    def from_wire(cls, error: dict[str, Any]) -> RemoteError:
        """Build from the ``error`` member of a nameko RPC reply."""
        return cls(
            str(error.get("message") or error.get("value") or ""),
            kind=str(error.get("kind") or "error"),
            exc_type=str(error.get("exc_type") or "Exception"),
            details=error.get("details"),
        )
