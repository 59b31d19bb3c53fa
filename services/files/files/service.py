"""The files service's entrypoints: each validates, calls the domain and serialises."""

from shared.service import ServiceBase

from files import __version__


class FilesService(ServiceBase):
    """Medical files attached to referrals and cases: validation, the blob store, previews and downloads."""

    name = "files"
    version = __version__
