"""The "Patient Talk" entrypoints of the notifications service: private threads between an
office and its patients, reached by the patient through a single-use, expiring link.

A mixin of ``notifications.service.NotificationsService``: nameko finds entrypoints on base
classes too.
"""

from __future__ import annotations


class PatientTalkRpc:
    """Threads with patients (see the README's "Patient Talk")."""
