"""Who may see and add to an owner's files: the owner's service decides, over RPC.

``OWNER_SERVICES`` says which service answers for each owner type; each
answers ``check_access(caller, <owner_type>_id)`` with ``{"may_view",
"may_add", "office_ids"}`` or a not-found error. A caller the owner does not
know sees none of its files: every file id of it is "not found".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from nameko.exceptions import RemoteError, UnknownService
from sqlalchemy.orm import Session

from files.exceptions import FileNotFound
from files.models import File
from shared.contracts import Caller
from shared.errors import RemoteError as BridgeworkRemoteError
from shared.errors import Unavailable
from shared.validation import parse, parse_id

OWNER_SERVICES = {"referral": "referrals", "case": "cases"}


def caller_of(caller: Any) -> Caller:
    """The caller the gateway passed (verified there, from a signed token)."""
    return parse(Caller, caller, field="caller")


@dataclass(frozen=True)
class OwnerAccess:
    may_view: bool
    may_add: bool
    office_ids: tuple[UUID, ...]


def _not_found(exc: Exception) -> bool:
    if isinstance(exc, BridgeworkRemoteError):
        return exc.remote_kind in ("not_found", "invalid")
    kind = getattr(exc, "exc_type", "")
    return kind != "MethodNotFound" and (kind.endswith("NotFound") or kind == "InvalidInput")


class Owners:
    """The owners' services, as this worker's RPC proxies ({service name: proxy})."""

    def __init__(self, proxies: dict[str, Any]) -> None:
        self.proxies = proxies

    def check(self, who: Caller, *, owner_type: str, owner_id: UUID) -> OwnerAccess:
        """What the caller may do with the owner's files; FileNotFound if it may not see it."""
        service = OWNER_SERVICES.get(owner_type)
        if service is None or service not in self.proxies:
            raise FileNotFound(owner_type)
        try:
            answer = self.proxies[service].check_access(
                caller=who.model_dump(mode="json"), **{f"{owner_type}_id": str(owner_id)}
            )
        except (RemoteError, BridgeworkRemoteError) as exc:
            if _not_found(exc):
                raise FileNotFound(owner_type) from None
            raise Unavailable(f"The {service} service is not answering; try again.") from exc
        except UnknownService as exc:
            raise Unavailable(f"The {service} service is not running; try again.") from exc
        access = OwnerAccess(
            may_view=bool(answer.get("may_view")),
            may_add=bool(answer.get("may_add")),
            office_ids=tuple(UUID(str(i)) for i in answer.get("office_ids") or () if i),
        )
        if not access.may_view:
            raise FileNotFound(owner_type)
        return access


def visible_file(session: Session, owners: Owners, *, who: Caller, file_id: Any) -> File:
    """The file if the caller may see its owner, else FileNotFound (never 403)."""
    fid = parse_id(file_id, field="file_id")
    found = session.get(File, fid)
    if found is None or found.deleted_at is not None:
        raise FileNotFound()
    owners.check(who, owner_type=found.owner_type, owner_id=found.owner_id)
    return found
