"""``python -m bench [module ...]``: run every benchmark module, or the ones named.

Exit status: 0 when every selected benchmark ran (whatever its figures), 1
when one of them failed, 2 for a bad command line.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import time
import traceback

from bench import REPO


def available() -> list[str]:
    """The benchmark modules: this package's modules not starting with ``_``."""
    import bench

    return sorted(
        info.name
        for info in pkgutil.iter_modules(bench.__path__)
        if not info.name.startswith("_") and not info.ispkg
    )


def main(argv: list[str] | None = None) -> int:
    names = available()
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Run Bridgework's benchmarks; figures are ratios against same-run baselines.",
    )
    parser.add_argument(
        "modules", nargs="*", metavar="module", help=f"which to run (default: all of {names})"
    )
    parser.add_argument(
        "--quick", action="store_true", help="far fewer requests: checks the bench, not the stack"
    )
    args = parser.parse_args(argv)
    unknown = sorted(set(args.modules) - set(names))
    if unknown:
        parser.error(f"no benchmark module {', '.join(unknown)}; there are {', '.join(names)}")
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))  # the stack helpers live in tests.support

    failed: list[str] = []
    for name in args.modules or names:
        print(f"== bench.{name} ==", flush=True)
        started = time.monotonic()
        try:
            module = importlib.import_module(f"bench.{name}")
            module.run(quick=args.quick)
        except KeyboardInterrupt:
            raise
        except Exception:  # noqa: BLE001 - reported, and the other modules still run
            traceback.print_exc()
            failed.append(name)
            print(f"== bench.{name} FAILED ==", flush=True)
        else:
            print(f"== bench.{name} done in {time.monotonic() - started:.0f} s ==", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
