"""One preview, in a process of its own: ``python -m files.preview_worker <path> <kind> <png>``.

Writes the PNG (when there is one) to ``<png>`` and prints
``{"state", "metadata", "reason"}`` as JSON on stdout. A crash or a hang here
costs the preview, never the service.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def main(argv: list[str]) -> int:
    path, kind, png_path = argv
    from files.previews import make_preview

    preview = make_preview(Path(path), kind)
    state = getattr(preview.state, "value", preview.state)
    if preview.png:
        Path(png_path).write_bytes(preview.png)
    answer: dict[str, Any] = {
        "state": str(state),
        "metadata": preview.metadata or {},
        "reason": preview.reason,
        "png": bool(preview.png),
    }
    sys.stdout.write(json.dumps(answer, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
