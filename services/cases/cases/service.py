"""The cases service's entrypoints: each validates, calls the domain and serialises."""

from cases import __version__
from cases.planning_service import PlanningRpc
from shared.service import ServiceBase


class CasesService(PlanningRpc, ServiceBase):
    """Lab cases: the RX script, the progress pipeline, archive, planning-session booking and
    calendar export.
    """

    name = "cases"
    version = __version__
