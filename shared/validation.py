"""RPC input on the way in (one InvalidInput naming every field at fault), answers on the way out.

Every service's entrypoints use these: ``parse`` a payload against its contract
model, ``dump`` the answer to JSON.
"""

from __future__ import annotations

from ipaddress import ip_address
from typing import Any, TypeVar
from uuid import UUID

from pydantic import BaseModel, ValidationError

from shared.errors import InvalidInput

M = TypeVar("M", bound=BaseModel)

FieldError = dict[str, str]


def invalid(errors: list[FieldError]) -> InvalidInput:
    """One 422 listing ``errors`` (``{"field", "message"}`` each)."""
    fields = list(dict.fromkeys(error["field"] for error in errors))
    return InvalidInput(f"Check these fields: {', '.join(fields)}.", details=errors)


def field_error(field: str, message: str) -> InvalidInput:
    """A 422 about one field."""
    return invalid([{"field": field, "message": message}])


def parse(model: type[M], data: Any, *, field: str = "payload") -> M:
    """``data`` validated against ``model``; a failure names every field (``field``: the whole)."""
    try:
        return model.model_validate(data if data is not None else {})
    except ValidationError as exc:
        raise invalid(
            [
                {
                    "field": ".".join(str(part) for part in error["loc"]) or field,
                    "message": error["msg"],
                }
                for error in exc.errors()
            ]
        ) from None


def parse_id(value: Any, *, field: str) -> UUID:
    """``value`` as a UUID; InvalidInput naming ``field`` otherwise."""
    try:
        return value if isinstance(value, UUID) else UUID(str(value))
    except ValueError:
        raise field_error(field, "Not a valid id.") from None


def dump(answer: BaseModel | list[BaseModel] | None) -> Any:
    """The JSON form of an answer (a contract model, a list of them, or nothing)."""
    if answer is None:
        return None
    if isinstance(answer, list):
        return [item.model_dump(mode="json") for item in answer]
    return answer.model_dump(mode="json")


def client_address(value: Any) -> str | None:
    """The caller's IP address as given by the gateway, or None when it is not one."""
    try:
        return str(ip_address(str(value).strip())) if value else None
    except ValueError:
        return None
