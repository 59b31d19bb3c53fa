"""Input on the way in (one InvalidInput naming every field at fault) and answers on the way out."""

from __future__ import annotations

from typing import Any, TypeVar
from uuid import UUID

from pydantic import BaseModel, ValidationError

from shared.errors import InvalidInput

M = TypeVar("M", bound=BaseModel)


def invalid(errors: list[dict[str, str]]) -> InvalidInput:
    """One 422 listing ``errors`` (``{"field", "message"}`` each)."""
    fields = list(dict.fromkeys(error["field"] for error in errors))
    return InvalidInput(f"Check these fields: {', '.join(fields)}.", details=errors)


def parse(model: type[M], data: Any, *, field: str = "payload") -> M:
    """``data`` validated against ``model``; a failure names every field."""
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
        raise invalid([{"field": field, "message": "Not a valid id."}]) from None


def dump(answer: BaseModel | list[BaseModel] | None) -> Any:
    """The JSON form of an answer (a contract model, a list of them, or nothing)."""
    if answer is None:
        return None
    if isinstance(answer, list):
        return [item.model_dump(mode="json") for item in answer]
    return answer.model_dump(mode="json")
