"""Two synths produce byte-identical templates (no clock, randomness or lookups): the real
``cdk synth`` and the same app synthesized in another process on the CLI's context."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from app_synth import synth_in_process
from platform_synth import ROOT, cdk_context

QUIET_CDK_ENV = {
    "CDK_DISABLE_VERSION_CHECK": "1",
    "CDK_DISABLE_CLI_TELEMETRY": "true",
    "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
}


def _start_synth(outdir: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        ["npx", "--no-install", "cdk", "synth", "--no-notices", "--quiet", "--output", str(outdir)],
        cwd=ROOT,
        env={**os.environ, **QUIET_CDK_ENV},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.mark.cli
@pytest.mark.slow
def test_a_cli_synth_and_an_in_process_synth_are_byte_identical(tmp_path: Path) -> None:
    # GIVEN the real CLI synth of the default environment, and beside it (while the CLI runs) the
    # same app synthesized in this process on the context the CLI gives app.py: two processes,
    # two hash seeds, two launch paths (the end-to-end demos after the first use the second)
    cli, here = tmp_path / "cli", tmp_path / "here"
    run = _start_synth(cli)
    synth_in_process(cdk_context()["env"], here)
    output, _ = run.communicate(timeout=300)
    assert run.returncode == 0, output
    # THEN every template exists in both and matches byte for byte
    names = sorted(p.name for p in cli.glob("*.template.json"))
    assert names, "cdk synth wrote no templates"
    assert names == sorted(p.name for p in here.glob("*.template.json"))
    for name in names:
        assert (cli / name).read_bytes() == (here / name).read_bytes(), name
