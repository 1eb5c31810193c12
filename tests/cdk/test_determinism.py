"""Two real ``cdk synth`` runs produce byte-identical templates (no clock, randomness or lookups)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from platform_synth import ROOT

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
def test_two_cli_synths_are_byte_identical(tmp_path: Path) -> None:
    # GIVEN two real CLI synths of the default environment, run side by side
    first, second = tmp_path / "first", tmp_path / "second"
    runs = [_start_synth(first), _start_synth(second)]
    for run in runs:
        output, _ = run.communicate(timeout=300)
        assert run.returncode == 0, output
    # THEN every template exists in both and matches byte for byte
    names = sorted(p.name for p in first.glob("*.template.json"))
    assert names, "cdk synth wrote no templates"
    assert names == sorted(p.name for p in second.glob("*.template.json"))
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
