"""Benchmark: real ``cdk synth`` of the whole app vs an empty one-stack app, and ``make test``.

The fixed cost of any CDK app is the CLI plus the jsii runtime (a Node process behind Python);
the goal is that our stacks and guardrails add little to it: whole app <= 2x the empty app.

    .venv/bin/python -m benchmarks.bench_synth [--runs 3] [--skip-make-test] [--write]

``--write`` appends the figures, with the date, to benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CDK = ROOT / "node_modules" / ".bin" / "cdk"
QUIET = {
    "CDK_DISABLE_VERSION_CHECK": "1",
    "CDK_DISABLE_CLI_TELEMETRY": "true",
    "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
}
EMPTY_APP = "import aws_cdk as cdk\napp = cdk.App()\ncdk.Stack(app, 'Empty')\napp.synth()\n"


def _timed(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, env={**os.environ, **QUIET}, check=True, capture_output=True)
    return time.perf_counter() - start


def synth_seconds(app_dir: Path, outdir: Path) -> float:
    return _timed([str(CDK), "synth", "--no-notices", "--quiet", "--output", str(outdir)], app_dir)


def import_seconds() -> float:
    """Python-side cost of importing our stacks (aws_cdk modules + cdk_nag), without synth."""
    code = "import time; t = time.perf_counter(); import stacks.application; print(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True, text=True)
    return float(out.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-make-test", action="store_true")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        empty = Path(tmp) / "empty"
        empty.mkdir()
        (empty / "app.py").write_text(EMPTY_APP)
        (empty / "cdk.json").write_text(f'{{"app": "{sys.executable} app.py"}}')
        empty_runs, full_runs = [], []
        for i in range(args.runs):  # interleaved, so machine load hits both alike
            empty_runs.append(synth_seconds(empty, Path(tmp) / f"e{i}"))
            full_runs.append(synth_seconds(ROOT, Path(tmp) / f"f{i}"))
    empty_s, full_s = statistics.median(empty_runs), statistics.median(full_runs)
    imports = import_seconds()
    make_test = None if args.skip_make_test else _timed(["make", "test"], ROOT)

    lines = [
        f"## cdk synth: whole app vs empty app ({dt.date.today().isoformat()})",
        "",
        "`.venv/bin/python -m benchmarks.bench_synth` — real CLI (`cdk synth --quiet`), offline, "
        f"median of {args.runs} interleaved runs on the 2-core machine.",
        "",
        "| What | Seconds |",
        "|---|---|",
        f"| empty one-stack app | {empty_s:.1f} |",
        f"| whole app (`{ROOT.name}`, default env, all guardrails) | {full_s:.1f} |",
        f"| ratio (goal <= 2x) | {full_s / empty_s:.2f}x |",
        f"| of which: Python import of `stacks.application` | {imports:.1f} |",
    ]
    if make_test is not None:
        lines.append(f"| `make test` wall time | {make_test:.0f} |")
    report = "\n".join(lines) + "\n"
    print(report)
    if args.write:
        with (ROOT / "benchmarks" / "README.md").open("a", encoding="utf-8") as readme:
            readme.write("\n" + report)


if __name__ == "__main__":
    main()
