"""The RPC methods a service's README documents: what the gateway's fakes check calls against."""

from __future__ import annotations

import re
from pathlib import Path

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
