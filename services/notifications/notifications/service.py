"""The notifications service's entrypoints: each validates, calls the domain and serialises."""

from notifications import __version__
from shared.service import ServiceBase


class NotificationsService(ServiceBase):
    """E-mail and in-app notifications for what happened elsewhere, and messaging with patients."""

    name = "notifications"
    version = __version__
