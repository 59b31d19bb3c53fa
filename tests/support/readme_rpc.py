"""The RPC methods a service's README documents: what the gateway's fakes check calls against."""

from __future__ import annotations

import re
import uuid
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

from shared.contracts.common import Caller

REPO = Path(__file__).resolve().parents[2]


def rpc_signatures(service: str) -> dict[str, dict[str, str | None]]:
    """method -> {keyword argument: annotation or None}, from the README's tables.

    A row names a method as `` `method(arg: Model, other, flag="default")` ``.
    """
    readme = REPO / "services" / service / "README.md"
    found: dict[str, dict[str, str | None]] = {}
    for line in readme.read_text().splitlines():
        if not line.startswith("|"):
            continue
        for method, params in re.findall(r"`(\w+)\(([^)`]*)\)`", line):
            arguments: dict[str, str | None] = {}
            for param in filter(None, (p.strip() for p in params.split(","))):
                name, _, annotation = param.partition("=")[0].partition(":")
                arguments[name.strip()] = annotation.strip() or None
            found[method] = arguments
    return found


_BUILTIN: dict[str, type] = {"bool": bool, "str": str, "int": int}


def check_call(service: str, method: str, kwargs: dict[str, Any], contract: ModuleType) -> None:
    """Fail unless ``kwargs`` (as they travel) are exactly what ``service``'s README names for
    ``method``: each argument of a builtin type has it, a contract model's validates, an ``*_id``
    is a UUID string, and a ``caller`` is a Caller."""
    signatures = _signatures(service)
    assert method in signatures, f"{method} is not in the {service} README"
    expected = signatures[method]
    assert set(kwargs) == set(expected), (method, sorted(kwargs), sorted(expected))
    for name, annotation in expected.items():
        value = kwargs[name]
        if annotation in _BUILTIN:
            assert isinstance(value, _BUILTIN[annotation]), (method, name, value)
        elif annotation and hasattr(contract, annotation) and value is not None:
            getattr(contract, annotation).model_validate(value)
        elif name.endswith("_id") and value is not None:
            assert isinstance(value, str), (method, name, value)
            uuid.UUID(value)
    if kwargs.get("caller") is not None:
        Caller.model_validate(kwargs["caller"])


@cache
def _signatures(service: str) -> dict[str, dict[str, str | None]]:
    return rpc_signatures(service)
