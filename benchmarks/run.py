"""Run every benchmark (`make bench`): each `benchmarks/bench_*.py` module's `main()`, in turn.

    .venv/bin/python -m benchmarks.run [NAME ...]   # e.g. `runner synth`; default: all

Each module runs with its own defaults, as if started alone with `python -m` and no flags
(`sys.argv` is reset for it, since some parse it themselves). A failing benchmark is
reported and the rest still run; the exit status is non-zero if any failed.
"""

from __future__ import annotations

import importlib
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent


def benchmark_names() -> list[str]:
    """Names of the benchmark modules (`bench_runner` -> `runner`), sorted."""
    return sorted(path.stem.removeprefix("bench_") for path in HERE.glob("bench_*.py"))


def run_one(name: str) -> bool:
    """Import `benchmarks.bench_<name>` and call its `main()`; returns whether it succeeded."""
    module_name = f"{__package__ or 'benchmarks'}.bench_{name}"
    saved_argv = sys.argv
    sys.argv = [module_name]
    started = time.monotonic()
    print(f"=== {module_name}", flush=True)
    try:
        code = importlib.import_module(module_name).main()
    except SystemExit as stop:  # argparse errors and explicit exits
        code = stop.code
    except Exception:  # one broken benchmark must not hide the others' figures
        traceback.print_exc()
        code = 1
    finally:
        sys.argv = saved_argv
    ok = code in (None, 0)
    print(f"=== {module_name}: {'done' if ok else f'FAILED ({code})'} in {time.monotonic() - started:.0f}s")
    return ok


def main(argv: Sequence[str] | None = None) -> int:
    available = benchmark_names()
    wanted = list(sys.argv[1:] if argv is None else argv) or available
    unknown = sorted(set(wanted) - set(available))
    if unknown:
        print(f"unknown benchmark(s) {', '.join(unknown)}; available: {', '.join(available)}")
        return 2
    failed = [name for name in wanted if not run_one(name)]
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
