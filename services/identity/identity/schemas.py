"""Arguments of this service's RPC methods that have no model in shared/contracts."""

from __future__ import annotations

from uuid import UUID

from pydantic import Field

from shared.contracts.identity import OfficeKind, Strict


class DirectoryQuery(Strict):
    q: str = Field(default="", max_length=100)
    kind: OfficeKind | None = None
    limit: int = Field(default=50, ge=1, le=100)


class AuditQuery(Strict):
    limit: int = Field(default=50, ge=1, le=200)
    before_id: int | None = Field(default=None, ge=1)


class RevocationsQuery(Strict):
    since: int = Field(default=0, ge=0)


class LogOut(Strict):
    session_id: UUID | None = None
    refresh_token: str | None = Field(default=None, max_length=200)


class OfficeIds(Strict):
    office_ids: list[UUID] = Field(max_length=1000)


class UserIds(Strict):
    user_ids: list[UUID] = Field(max_length=1000)
