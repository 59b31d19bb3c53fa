"""The files service's entrypoints: each validates, calls the domain and serialises."""

from files import __version__
from shared.service import ServiceBase


class FilesService(ServiceBase):
    """Medical files attached to referrals and cases: validation, the blob store, previews and
    downloads.
    """

    name = "files"
    version = __version__
