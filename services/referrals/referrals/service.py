"""The referrals service's entrypoints: each validates, calls the domain and serialises."""

from referrals import __version__
from shared.service import ServiceBase


class ReferralsService(ServiceBase):
    """Referrals from one office to another: the patient, teeth, procedures, stages, notes and the
    printable slip.
    """

    name = "referrals"
    version = __version__
