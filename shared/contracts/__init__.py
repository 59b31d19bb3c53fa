"""Contracts every side agrees on: RPC payloads and events (Pydantic models).

Producers build these models and send ``model_dump(mode="json")``; consumers
validate what arrives against the same model. Nothing here imports a service.
"""

from shared.contracts.common import Caller, ServiceInfo
from shared.contracts.events import EVENT_TYPES, DomainEvent, EventEnvelope

__all__ = ["EVENT_TYPES", "Caller", "DomainEvent", "EventEnvelope", "ServiceInfo"]
