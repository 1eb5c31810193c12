"""Benchmark: real ``cdk synth`` of the whole app vs an empty one-stack app, and ``make test``.

The fixed cost of any CDK app is the CLI plus the jsii runtime (a Node process behind Python);
the goal is that our stacks and guardrails add little to it: whole app <= 1.5x the empty app,
on a cold cache.

The app is synthesized from a snapshot in a temporary folder (``.venv`` and ``node_modules``
linked in): of the working tree, or of a git revision with ``--rev``. So clearing its caches
cannot disturb anyone else's run, and other people's edits in progress cannot break the run.

- **cold**: the snapshot's ``.build/`` (source bundle, Lambda assets) and every ``__pycache__``
  of our own code are deleted before the synth, as on a fresh clone (the installed packages in
  ``.venv`` keep their bytecode, for the empty app too);
- **warm**: the same synth again right after, with what the cold one left behind.

``--against REV`` also synthesizes revision REV, cold, in the same rounds: a before/after under
the same machine load.

    .venv/bin/python -m benchmarks.bench_synth [--runs 3] [--rev REV] [--against REV]
                                               [--skip-make-test] [--write]

``--write`` appends the figures, with the date, to benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tarfile
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
#: Not copied into the snapshot: installed tools (linked instead), build output, caches, history.
_NOT_COPIED = (".git", ".venv", ".venv-contract", "node_modules", ".build", ".demo", "cdk.out*",
               "__pycache__", "*.pyc", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".hypothesis",
               ".import_linter_cache")  # fmt: skip
_LINKED = (".venv", "node_modules")


def _cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(command: list[str], cwd: Path) -> tuple[float, float]:
    """Wall seconds and CPU seconds (the command's whole process tree: CLI, Python app, Node)."""
    cpu, start = _cpu_of_children(), time.perf_counter()
    subprocess.run(command, cwd=cwd, env={**os.environ, **QUIET}, check=True, capture_output=True)
    return time.perf_counter() - start, _cpu_of_children() - cpu


def synth_seconds(app_dir: Path, outdir: Path) -> tuple[float, float]:
    return _timed([str(CDK), "synth", "--no-notices", "--quiet", "--output", str(outdir)], app_dir)


def snapshot(destination: Path, rev: str | None = None) -> Path:
    """Copy the working tree's sources (or git revision ``rev``) to ``destination``, tools linked."""
    if rev is None:
        shutil.copytree(ROOT, destination, ignore=shutil.ignore_patterns(*_NOT_COPIED), symlinks=True)
    else:
        archive = subprocess.run(["git", "archive", rev], cwd=ROOT, check=True, capture_output=True).stdout
        destination.mkdir(parents=True)
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(destination, filter="data")
    for name in _LINKED:
        (destination / name).symlink_to(ROOT / name)
    return destination


def make_cold(app_dir: Path) -> None:
    """Delete what a previous synth left in ``app_dir``: ``.build/`` and our bytecode."""
    shutil.rmtree(app_dir / ".build", ignore_errors=True)
    for cache in app_dir.rglob("__pycache__"):
        if not any(part in _LINKED for part in cache.relative_to(app_dir).parts):
            shutil.rmtree(cache, ignore_errors=True)


def import_seconds(app_dir: Path) -> float:
    """Python-side cost of importing our stacks (aws_cdk modules + cdk_nag), without synth."""
    code = "import time; t = time.perf_counter(); import stacks.application; print(time.perf_counter() - t)"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=app_dir, check=True, capture_output=True, text=True
    )
    return float(out.stdout.strip())


def _describe(rev: str | None) -> str:
    if rev is None:
        return "working tree"
    done = subprocess.run(["git", "rev-parse", "--short", rev], cwd=ROOT, check=True, capture_output=True)
    return f"`{done.stdout.decode().strip()}`"


Runs = dict[str, list[tuple[float, float]]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rev", help="synthesize this git revision instead of the working tree")
    parser.add_argument("--against", help="also synthesize this git revision, cold, in the same rounds")
    parser.add_argument("--skip-make-test", action="store_true")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()

    runs, loads, imports = measure(args.runs, args.rev, args.against)
    make_test = None if args.skip_make_test else _timed(["make", "test"], ROOT)[0]
    report = render(args, runs, loads, imports, make_test)
    print(report)
    if args.write:
        with (ROOT / "benchmarks" / "README.md").open("a", encoding="utf-8") as readme:
            readme.write("\n" + report)


def measure(rounds: int, rev: str | None, against_rev: str | None) -> tuple[Runs, list[float], float]:
    """Interleaved rounds of (wall, CPU) seconds by variant, the load average at each round's start,
    and the cold import time of ``stacks.application``."""
    loads: list[float] = []
    runs: Runs = {"empty": [], "cold": [], "warm": [], "against": []}
    with tempfile.TemporaryDirectory() as tmp:
        empty = Path(tmp) / "empty"
        empty.mkdir()
        (empty / "app.py").write_text(EMPTY_APP)
        (empty / "cdk.json").write_text(f'{{"app": "{sys.executable} app.py"}}')
        app = snapshot(Path(tmp) / "app", rev)
        against = snapshot(Path(tmp) / "against", against_rev) if against_rev else None
        for i in range(rounds):  # interleaved, so machine load hits every variant alike
            loads.append(os.getloadavg()[0])
            runs["empty"].append(synth_seconds(empty, Path(tmp) / f"e{i}"))
            if against is not None:
                make_cold(against)
                runs["against"].append(synth_seconds(against, Path(tmp) / f"a{i}"))
            make_cold(app)
            runs["cold"].append(synth_seconds(app, Path(tmp) / f"c{i}"))
            runs["warm"].append(synth_seconds(app, Path(tmp) / f"w{i}"))
            done = ", ".join(
                f"{name} {r[-1][0]:.1f} s ({r[-1][1]:.1f} CPU s)" for name, r in runs.items() if r
            )
            print(f"round {i + 1}: {done} (load average {loads[-1]:.1f})", flush=True)
        make_cold(app)
        imports = import_seconds(app)
    return runs, loads, imports


def render(
    args: argparse.Namespace, runs: Runs, loads: list[float], imports: float, make_test: float | None
) -> str:
    """The dated Markdown section: medians of the rounds, ratios to the empty app."""
    wall = {name: statistics.median(w for w, _ in r) for name, r in runs.items() if r}
    cpu = {name: statistics.median(c for _, c in r) for name, r in runs.items() if r}

    def row(what: str, name: str, *, bold: bool = False) -> str:
        ratio = f"{wall[name] / wall['empty']:.2f}x"
        return (
            f"| {what} | {wall[name]:.1f} | {f'**{ratio}**' if bold else ratio} | {cpu[name]:.1f} "
            f"| {cpu[name] / cpu['empty']:.2f}x |"
        )

    lines = [
        f"## cdk synth: whole app vs empty app ({dt.date.today().isoformat()})",
        "",
        f"`.venv/bin/python -m benchmarks.bench_synth` on the {_describe(args.rev)}: real CLI "
        f"(`cdk synth --quiet`), offline, median of {args.runs} interleaved rounds on the 2-core "
        f"machine (1-minute load average {min(loads):.1f} to {max(loads):.1f}).",
        "",
        "| What | Wall s | Ratio | CPU s | CPU ratio |",
        "|---|---|---|---|---|",
        row("empty one-stack app", "empty"),
    ]
    if args.against:
        lines.append(row(f"whole app at {_describe(args.against)}, cold", "against"))
    lines += [
        row("whole app, cold (no `.build/`, no bytecode of ours; goal <= 1.5x)", "cold", bold=True),
        row("whole app, warm", "warm"),
        f"| of which: Python import of `stacks.application` (cold) | {imports:.1f} | | | |",
    ]
    if make_test is not None:
        lines.append(f"| `make test` wall time | {make_test:.0f} | | | |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
