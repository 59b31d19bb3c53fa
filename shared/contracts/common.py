"""Models that travel with many RPC calls."""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


class ServiceInfo(BaseModel):
    """What ``ping`` answers: the service's name and version."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(examples=["referrals"])
    version: str = Field(examples=["0.1.0"])


class Caller(BaseModel):
    """Who is asking: the gateway passes it with every RPC; the owning service decides.

    A browser user has ``user_id``; another clinic's system calling with an API
    client has ``client_id`` (and acts for the office that owns the client).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    office_id: UUID
    user_id: UUID | None = None
    client_id: UUID | None = None
    role: str = "staff"
