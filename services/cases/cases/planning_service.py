"""The planning-session entrypoints of the cases service (slots, bookings, calendar files).

A mixin of ``cases.service.CasesService``: nameko finds entrypoints on base classes too.
"""

from __future__ import annotations


class PlanningRpc:
    """Slots, bookings and calendar export (see the README's "Planning sessions")."""
