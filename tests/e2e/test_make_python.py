"""The Makefile builds `.venv` only with the Python that pyproject.toml's requires-python names.

`make setup` runs the real Makefile in an empty folder holding copies of the files its recipe reads,
with PYTHON pointed at a fake interpreter that reports a chosen version and logs its arguments, so
nothing is installed and the check's answer is all that is observed.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INPUTS = ("pyproject.toml", "requirements.txt", "requirements-dev.txt", "requirements.lock")

# Answers the check's `-c` with VERSION; `-m venv DIR` makes DIR/bin/python a copy of itself.
FAKE_PYTHON = """#!/usr/bin/env bash
echo "$*" >> "{log}"
if [ "$1" = "-c" ]; then echo "Python {version}"; fi
if [ "$1 $2" = "-m venv" ]; then mkdir -p "$3/bin" && cp "$0" "$3/bin/python"; fi
"""


def _fake_python(path: Path, version: str, log: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(FAKE_PYTHON.format(version=version, log=log))
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def _make_setup(work: Path, python: Path) -> subprocess.CompletedProcess[str]:
    for name in INPUTS:
        shutil.copy(ROOT / name, work / name)
    return subprocess.run(
        ["make", "--no-print-directory", "-f", str(ROOT / "Makefile"), "-o", "node_modules/.installed",
         "setup", f"PYTHON={python}"],
        cwd=work, env=os.environ.copy(), capture_output=True, text=True, check=False,
    )  # fmt: skip


def test_pyproject_declares_the_python_the_makefile_checks_for() -> None:
    assert 'requires-python = ">=3.11,<3.12"' in (ROOT / "pyproject.toml").read_text()


@pytest.mark.parametrize("version", ["3.12.1", "3.10.13", "3.1.0"])
def test_another_python_is_refused_naming_its_version_and_how_to_pass_one(
    tmp_path: Path, version: str
) -> None:
    log = tmp_path / "calls.log"
    python = _fake_python(tmp_path / "other" / "python", version, log)
    completed = _make_setup(tmp_path, python)
    assert completed.returncode != 0
    assert f"Needs Python 3.11 (pyproject.toml's requires-python), but {python} is Python {version}." in (
        completed.stderr
    )
    assert "make setup PYTHON=/path/to/python3.11" in completed.stderr
    assert not (tmp_path / ".venv").exists()
    assert len(log.read_text().splitlines()) == 1  # only asked its version


def test_a_missing_python_is_refused_by_name(tmp_path: Path) -> None:
    completed = _make_setup(tmp_path, tmp_path / "no-such-python")
    assert completed.returncode != 0
    assert f"{tmp_path / 'no-such-python'} is not a runnable Python" in completed.stderr


def test_a_venv_built_with_another_python_is_refused_with_the_way_out(tmp_path: Path) -> None:
    log = tmp_path / "calls.log"
    _fake_python(tmp_path / ".venv" / "bin" / "python", "3.12.1", log)
    python = _fake_python(tmp_path / "good" / "python", "3.11.7", log)
    completed = _make_setup(tmp_path, python)
    assert completed.returncode != 0
    assert "but .venv/bin/python is Python 3.12.1" in completed.stderr
    assert "PYTHON=/path/to/python3.11 after rm -rf .venv" in completed.stderr


def test_python_3_11_builds_the_venv_from_the_pinned_files(tmp_path: Path) -> None:
    log = tmp_path / "calls.log"
    python = _fake_python(tmp_path / "good" / "python", "3.11.7", log)
    completed = _make_setup(tmp_path, python)
    assert completed.returncode == 0, completed.stderr
    calls = log.read_text().splitlines()
    assert calls[1:] == [
        "-m venv .venv",
        "-m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c requirements.lock",
    ]
    assert (tmp_path / ".venv" / ".installed").exists()
