"""The event envelope and the base of every domain event.

An event is a fact that happened, named in the past tense (``referral_sent``).
Its ``version`` is bumped when the payload changes incompatibly; consumers
check it. Every domain event model registers itself in ``EVENT_TYPES`` so a
consumer can look a payload's model up by its ``event_type``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field

EVENT_TYPES: dict[str, type[DomainEvent]] = {}


class DomainEvent(BaseModel):
    """Base of every event payload; subclasses set ``event_type`` and ``version``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]
    version: ClassVar[int] = 1

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        event_type = cls.__dict__.get("event_type")
        if event_type:
            EVENT_TYPES[event_type] = cls


class EventEnvelope(BaseModel):
    """What goes over the wire for every event: identity, provenance and payload."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    event_type: str
    version: int = Field(ge=1)
    producer: str
    occurred_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    data: dict[str, Any]

    @classmethod
    def wrap(cls, event: DomainEvent, *, producer: str) -> Self:
        """An envelope around ``event`` from the ``producer`` service."""
        return cls(
            event_type=event.event_type,
            version=event.version,
            producer=producer,
            data=event.model_dump(mode="json"),
        )

    def payload(self, model: type[DomainEvent]) -> DomainEvent:
        """The data validated against ``model``; a version mismatch is an error."""
        if self.event_type != model.event_type or self.version != model.version:
            raise ValueError(
                f"event {self.event_type} v{self.version} does not match "
                f"{model.__name__} ({model.event_type} v{model.version})"
            )
        return model.model_validate(self.data)
