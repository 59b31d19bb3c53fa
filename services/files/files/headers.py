"""HTTP headers of a file download: RFC 6266 Content-Disposition and the safe defaults."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

_UNSAFE_ASCII = re.compile(r"[^A-Za-z0-9 ._()\-+,]")


def ascii_fallback(filename: str) -> str:
    """An ASCII stand-in for ``filename`` (accents dropped, anything odd as ``_``)."""
    plain = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
    plain = _UNSAFE_ASCII.sub("_", plain).strip(" .") or "file"
    return plain[:150]


def content_disposition(filename: str, *, inline: bool = False) -> str:
    """``attachment`` (or ``inline``) with an ASCII ``filename`` and the UTF-8 ``filename*``."""
    kind = "inline" if inline else "attachment"
    fallback, encoded = ascii_fallback(filename), quote(filename, safe="")
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"


def download_headers(
    *, media_type: str, size: int, sha256: str, filename: str, inline: bool
) -> dict[str, str]:
    """What every transfer answer carries."""
    return {
        "Content-Type": media_type,
        "Content-Length": str(size),
        "ETag": f'"{sha256}"',
        "Content-Disposition": content_disposition(filename, inline=inline),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
    }
