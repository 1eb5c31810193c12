"""``cdk synth`` of the app inside the test process, for the end-to-end demos.

The CLI runs ``app.py`` in a new process, which costs a cold start of CDK's JavaScript runtime
every time (~9 s of CPU on these machines). The demo tests after the first synthesize here
instead: ``app.synthesize`` on exactly the context the CLI hands ``app.py`` (``cdk.json``'s, the
``-c`` values and the CLI's own defaults such as path and asset metadata, read once from the CLI
itself), into the same cloud assembly layout, with the runtime warm.
``tests/cdk/test_determinism.py`` holds this to the CLI: the two synths are byte-identical.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import aws_cdk as cdk
import pytest

from app import synthesize
from demo import story
from demo.synth import CDK_ENV, ROOT
from emulator.cfn import Assembly

_DUMP = "import os, sys; open(sys.argv[1], 'w').write(os.environ['CDK_CONTEXT_JSON'])"


@functools.cache
def cli_context(env_name: str) -> dict[str, object]:
    """The context ``cdk synth -c env=<env_name>`` gives ``app.py`` (the CLI run with an app that
    only writes it down; the CLI then fails on the missing assembly, which is expected)."""
    with tempfile.TemporaryDirectory() as folder:
        dump = Path(folder) / "context.json"
        app = f'{sys.executable} -c "{_DUMP}" {dump}'
        subprocess.run(
            ["npx", "--no-install", "cdk", "synth", "--no-notices", "--quiet", "-c", f"env={env_name}",
             "--app", app, "--output", str(Path(folder) / "out")],
            cwd=ROOT, env={**os.environ, **CDK_ENV}, check=False, capture_output=True,
        )  # fmt: skip
        found: dict[str, object] = json.loads(dump.read_text())
    return found


def synth_in_process(env_name: str, out_dir: Path, context: dict[str, str] | None = None) -> Assembly:
    """:func:`demo.synth.synth` without a new process: the CLI's context plus ``context``."""
    if out_dir.exists():
        shutil.rmtree(out_dir)
    synthesize(cdk.App(context={**cli_context(env_name), **(context or {})}, outdir=str(out_dir)))
    assembly = Assembly.load(out_dir)
    print(f"Synthesized {len(assembly.templates)} stacks in process → {out_dir}")
    return assembly


def use_in_process_synth(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the demo story synthesize in this process (see the module doc)."""
    monkeypatch.setattr(story, "synth", synth_in_process)
