"""The identity service's entrypoints: each validates, calls the domain and serialises."""

from identity import __version__
from shared.service import ServiceBase


class IdentityService(ServiceBase):
    """Offices, their people and providers, sign-up and sign-in, invitations, API clients and the
    directory.
    """

    name = "identity"
    version = __version__
