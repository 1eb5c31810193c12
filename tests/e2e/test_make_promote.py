"""`make promote`: the Makefile's own chain (resolve → cdk deploy that stack → smoke that stage).

The recipe is shell glue around three tools that are tested on their own (release.promote and
release.smoke under moto, cdk deploy by CDK). What can break here is the glue: the arguments each
tool gets, the stack name handed from the first to the second, and stopping at the first failure.
So `make` runs the real recipe with PY and CDK pointed at a recorder that logs its arguments.
"""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

RECORDER = """#!/usr/bin/env bash
echo "$(basename "$0") $*" >> "{log}"
if [ "$1 $2" = "-m release.promote" ]; then
  if [ -n "$PROMOTE_FAILS" ]; then
    echo "release.promote: version 9 of mlops-demo-dev-models is Rejected" >&2; exit 2
  fi
  echo "prod: mlops-demo-dev-models version 3 -> .build/release/dev-prod.json"
  echo "mlops-demo-dev-endpoint-prod"
fi
"""


def _recorder(tmp_path: Path, name: str, log: Path) -> Path:
    path = tmp_path / name
    path.write_text(RECORDER.format(log=log))
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def _make(tmp_path: Path, *args: str, **env: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    log = tmp_path / "calls.log"
    py, cdk = _recorder(tmp_path, "py", log), _recorder(tmp_path, "cdk", log)
    # -o: the recipe only, not the venv/node set-up it depends on (make test has done that)
    completed = subprocess.run(
        ["make", "--no-print-directory", "-o", ".venv/.installed", "-o", "node_modules/.installed",
         "promote", *args, f"PY={py}", f"CDK={cdk}"],
        cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, check=False,
    )  # fmt: skip
    return completed, log.read_text().splitlines() if log.exists() else []


def test_promote_resolves_the_named_version_deploys_its_stack_and_smoke_tests_that_stage(
    tmp_path: Path,
) -> None:
    completed, calls = _make(tmp_path, "STAGE=prod", "VERSION=3", "ENV=dev")
    assert completed.returncode == 0, completed.stderr
    assert calls == [
        "py -m release.promote --env dev --stage prod --version 3",
        "cdk deploy mlops-demo-dev-endpoint-prod --exclusively --require-approval never --no-notices "
        "-c env=dev",
        "py -m release.smoke --env dev --stage prod",
    ]
    assert "prod: mlops-demo-dev-models version 3 -> .build/release/dev-prod.json" in completed.stdout


def test_promote_without_a_version_takes_the_newest_approved(tmp_path: Path) -> None:
    completed, calls = _make(tmp_path, "STAGE=staging", "ENV=dev")
    assert completed.returncode == 0, completed.stderr
    assert calls[0] == "py -m release.promote --env dev --stage staging"


def test_a_refused_version_stops_before_any_deploy(tmp_path: Path) -> None:
    completed, calls = _make(tmp_path, "STAGE=prod", "VERSION=9", PROMOTE_FAILS="1")
    assert completed.returncode != 0
    assert "is Rejected" in completed.stderr
    assert calls == ["py -m release.promote --env dev --stage prod --version 9"]


@pytest.mark.parametrize("args", [(), ("VERSION=3",)])
def test_promote_without_a_stage_prints_its_usage(tmp_path: Path, args: tuple[str, ...]) -> None:
    completed, calls = _make(tmp_path, *args)
    assert completed.returncode == 2
    assert "usage: make promote STAGE=staging|prod" in completed.stdout
    assert calls == []
