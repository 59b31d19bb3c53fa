"""Revoked sessions and "revoked before" times, kept in memory from ``identity.list_revocations``.

Access tokens stay valid until they expire, so logout, a password change or a
removed user must reach every gateway: each one polls identity and rejects
tokens matching an entry here.
"""

from __future__ import annotations

import time
from uuid import UUID

from shared.contracts.identity import Revocation, Revocations

#: No session and no access token lives longer than this, so older entries cannot match
#: a token that is not already expired.
RETENTION_SECONDS = 12 * 3600.0


class RevocationList:
    """What identity revoked, and the cursor to ask for what came after."""

    def __init__(self) -> None:
        self.cursor = 0
        self.loaded = False
        self._sessions: dict[UUID, float] = {}  # session id -> when it was revoked
        self._before: dict[UUID, float] = {}  # user or client id -> latest revoked_before

    def apply(self, answer: Revocations) -> None:
        """Add the entries of one ``list_revocations`` answer and move the cursor on."""
        for entry in answer.entries:
            self.add(entry)
        self.cursor = max(self.cursor, answer.cursor)
        self.loaded = True
        self.prune()

    def add(self, entry: Revocation) -> None:
        at = entry.revoked_before.timestamp()
        if entry.session_id is not None:
            self._sessions[entry.session_id] = max(at, self._sessions.get(entry.session_id, at))
            return
        for subject in (entry.user_id, entry.client_id):
            if subject is not None:
                self._before[subject] = max(at, self._before.get(subject, at))

    def revoke_session(self, session_id: UUID) -> None:
        """Mark a session revoked at once (a logout through this gateway)."""
        self._sessions[session_id] = time.time()

    def is_revoked(self, *, session_id: UUID | None, subject: UUID, issued_at: float) -> bool:
        """True when the token's session is revoked, or it was issued before its user's (or
        client's) ``revoked_before``.

        Strictly before, as the contract says: ``iat`` is in whole seconds, and identity
        sets a user's ``revoked_before`` to the start of the second of a password change
        so that a log-in right after it stands; tokens of the ended sessions issued in
        that same second are caught by their session entries.
        """
        if session_id is not None and session_id in self._sessions:
            return True
        before = self._before.get(subject)
        return before is not None and issued_at < before

    def prune(self, now: float | None = None) -> None:
        """Forget entries older than any token could be."""
        horizon = (now if now is not None else time.time()) - RETENTION_SECONDS
        self._sessions = {key: at for key, at in self._sessions.items() if at >= horizon}
        self._before = {key: at for key, at in self._before.items() if at >= horizon}

    def __len__(self) -> int:
        return len(self._sessions) + len(self._before)
