"""The notifications service's entrypoints: each validates, calls the domain and serialises."""

from notifications import __version__
from notifications.patient_talk_service import PatientTalkRpc
from shared.service import ServiceBase


class NotificationsService(PatientTalkRpc, ServiceBase):
    """Outgoing e-mail and text messages, in-app feeds and preferences, and patient threads."""

    name = "notifications"
    version = __version__
