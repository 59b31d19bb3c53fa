"""The cases service's entrypoints: each validates, calls the domain and serialises."""

from shared.service import ServiceBase

from cases import __version__


class CasesService(ServiceBase):
    """Lab cases: the RX script, the progress pipeline, archive, planning-session booking and calendar export."""

    name = "cases"
    version = __version__
