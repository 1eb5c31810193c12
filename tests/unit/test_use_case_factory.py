"""The use-case factory (issue 18 point 4): ``make use-case`` adds a validated use case to cdk.json,
refuses bad input with the config's own message naming the key, never leaves a half-written or
changed file behind on refusal, and prints the next steps with the use case's real names."""

from __future__ import annotations

import difflib
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from contracts.config import load_config
from release import use_case, use_case_steps
from release.use_case import main
from stacks.data_stack import LOGICAL_IDS

ROOT = Path(__file__).resolve().parents[2]
ORIGINAL = (ROOT / "cdk.json").read_text(encoding="utf-8")
PROJECT = json.loads(ORIGINAL)["context"]["project"]["name"]
FRAUD = ["--name", "fraud", "--target", "is_fraud", "--problem", "binary"]


@pytest.fixture
def cdk_json(tmp_path: Path) -> Path:
    path = tmp_path / "cdk.json"
    path.write_text(ORIGINAL, encoding="utf-8")
    return path


def _run(path: Path, *argv: str) -> int:
    return main([*argv, "--cdk-json", str(path)])


def _context(path: Path) -> dict[str, Any]:
    context: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))["context"]
    return context


def test_adds_a_use_case_the_config_then_loads(cdk_json: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN the shipped cdk.json, whose dev environment has no use cases
    # WHEN fraud is added to dev with its own input prefix
    code = _run(cdk_json, "add", *FRAUD, "--env", "dev", "--input", "data/fraud/")

    # THEN the file loads and has fraud, named and configured as asked
    assert code == 0, capsys.readouterr().err
    config = load_config(_context(cdk_json), "dev")
    fraud = next(case for case in config.use_cases if case.name == "fraud")
    assert (fraud.prefix, fraud.primary) == (f"{PROJECT}-dev-fraud", False)
    assert (fraud.target_column, fraud.problem_type, fraud.input_prefix) == (
        "is_fraud",
        "binary",
        "data/fraud/",
    )
    # ... written with only the keys the factory knows
    assert _context(cdk_json)["environments"]["dev"]["useCases"] == {
        "fraud": {"targetColumn": "is_fraud", "problemType": "binary", "inputPrefix": "data/fraud/"}
    }


def test_a_long_name_is_added_with_the_qualifier_given(cdk_json: Path) -> None:
    argv = ["--name", "frauddetects", "--target", "y", "--problem", "binary", "--qualifier", "fraudq"]
    assert _run(cdk_json, "add", *argv, "--env", "dev") == 0
    (case,) = [c for c in load_config(_context(cdk_json), "dev").use_cases if c.name == "frauddetects"]
    assert case.bootstrap_qualifier == "fraudq"
    entry = _context(cdk_json)["environments"]["dev"]["useCases"]["frauddetects"]
    assert entry == {"targetColumn": "y", "problemType": "binary", "bootstrapQualifier": "fraudq"}


def test_the_diff_is_the_entry_alone(cdk_json: Path) -> None:
    # GIVEN cdk.json as shipped (json.dumps(indent=2) and a newline)
    # WHEN a use case is added without an input prefix
    assert _run(cdk_json, "add", *FRAUD) == 0

    # THEN every original line is still there, in order, and only the entry's lines are new
    diff = [
        line
        for line in difflib.ndiff(ORIGINAL.splitlines(), cdk_json.read_text(encoding="utf-8").splitlines())
        if line[:1] in "+-"
    ]
    assert [line for line in diff if line.startswith("-")] == []
    assert [line[2:].strip() for line in diff] == [
        "},",
        '"useCases": {',
        '"fraud": {',
        '"targetColumn": "is_fraud",',
        '"problemType": "binary"',
        "}",
    ]
    assert cdk_json.read_text(encoding="utf-8").endswith("}\n")


def test_the_next_steps_name_the_use_cases_real_resources(
    cdk_json: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(cdk_json, "add", *FRAUD, "--input", "data/fraud/") == 0
    out = capsys.readouterr().out
    prefix = f"{PROJECT}-dev-fraud"
    for expected in (
        f"npx cdk deploy -c env=dev '{prefix}-*'",
        "npx cdk bootstrap aws://<account>/<region> --qualifier fraud --toolkit-stack-name CDKToolkit-fraud ",
        f"--stack-name {prefix}-data --logical-resource-id ArtifactBucket",
        '"s3://$bucket/data/fraud/"',
        f"{prefix}-build",
        f"--pipeline {prefix}-training",
        f"model package group {prefix}-models",
        f"{prefix}-deploy",
        f"{prefix}-staging, {prefix}-prod",
        "environments.dev.useCases.fraud.users",
        "make use-case-remove NAME=fraud ENV=dev",
    ):
        assert expected in out


def test_the_studio_step_names_a_key_the_config_accepts(cdk_json: Path) -> None:
    # GIVEN fraud added; WHEN its users are set where the next steps say, THEN the config loads them
    assert _run(cdk_json, "add", *FRAUD) == 0
    context = _context(cdk_json)
    context["environments"]["dev"]["useCases"]["fraud"]["users"] = [
        {"name": "fraud-scientist", "persona": "data_scientist"}
    ]
    fraud = next(case for case in load_config(context, "dev").use_cases if case.name == "fraud")
    assert [user.name for user in fraud.users] == ["fraud-scientist"]


def test_the_artifact_bucket_lookup_uses_the_data_stacks_pinned_logical_id() -> None:
    assert LOGICAL_IDS["artifact_bucket"] == use_case_steps.ARTIFACT_BUCKET_LOGICAL_ID


@pytest.mark.parametrize(
    ("argv", "key"),
    [
        (
            ["--name", "fraud", "--target", "", "--problem", "binary"],
            "environments.dev.useCases.fraud.targetColumn",
        ),
        (
            ["--name", "fraud", "--target", "y", "--problem", "ranking"],
            "environments.dev.useCases.fraud.problemType",
        ),
        ([*FRAUD, "--input", "raw/"], "environments.dev.useCases.fraud.inputPrefix"),
        (["--name", "Fraud", "--target", "y", "--problem", "binary"], "environments.dev.useCases.Fraud'"),
        (["--name", "prod", "--target", "y", "--problem", "binary"], "environments.dev.useCases.prod'"),
        (
            ["--name", PROJECT, "--target", "y", "--problem", "binary"],
            f"environments.dev.useCases.{PROJECT}'",
        ),
        ([*FRAUD, "--env", "nope"], "context key 'env'"),
        ([*FRAUD, "--env", "multi"], "environments.multi.useCases.fraud'"),  # stages in other accounts
        (  # longer than a bootstrap qualifier: QUALIFIER= must name one
            ["--name", "frauddetects", "--target", "y", "--problem", "binary"],
            "environments.dev.useCases.frauddetects.bootstrapQualifier' is required",
        ),
        ([*FRAUD, "--qualifier", "hnb659fds"], "environments.dev.useCases.fraud.bootstrapQualifier'"),
    ],
    ids=[
        "target",
        "problem",
        "input",
        "name",
        "reserved",
        "project",
        "unknown-env",
        "cross-account",
        "qualifier",
        "default-qualifier",
    ],
)
def test_refuses_bad_input_naming_the_key_and_leaves_the_file_unchanged(
    cdk_json: Path, capsys: pytest.CaptureFixture[str], argv: list[str], key: str
) -> None:
    assert _run(cdk_json, "add", *argv) == 2
    err = capsys.readouterr().err
    assert key in err
    assert err.count("\n") == 1  # one line
    assert cdk_json.read_text(encoding="utf-8") == ORIGINAL


def test_refuses_a_use_case_whose_endpoint_names_would_be_too_long(
    cdk_json: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN an environment whose own endpoint names fit SageMaker's 63 characters with little room
    document = json.loads(ORIGINAL)
    environments = document["context"]["environments"]
    environments["development-eu-west-1-team-alpha"] = environments["dev"]
    document["context"]["project"]["name"] = "mlops-platform"
    cdk_json.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    before = cdk_json.read_text(encoding="utf-8")

    # WHEN a use case with a 10-character name (the longest taking its name as bootstrap qualifier) is added
    code = _run(cdk_json, "add", "--name", "frauddetec", "--target", "y", "--problem", "binary",
                "--env", "development-eu-west-1-team-alpha")  # fmt: skip

    # THEN it is refused naming the use case's key, before synth would have failed
    assert code == 2
    err = capsys.readouterr().err
    assert "context key 'environments.development-eu-west-1-team-alpha.useCases.frauddetec'" in err
    assert "SageMaker allows at most 63" in err
    assert cdk_json.read_text(encoding="utf-8") == before


def test_a_second_add_is_refused(cdk_json: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(cdk_json, "add", *FRAUD) == 0
    after_first = cdk_json.read_text(encoding="utf-8")

    assert _run(cdk_json, "add", "--name", "fraud", "--target", "other", "--problem", "regression") == 2
    assert "context key 'environments.dev.useCases.fraud' exists already" in capsys.readouterr().err
    assert cdk_json.read_text(encoding="utf-8") == after_first


def test_refuses_to_edit_a_file_whose_config_is_already_invalid(
    cdk_json: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = json.loads(ORIGINAL)
    document["context"]["environments"]["dev"]["studio"]["idleTimeoutMinutes"] = "soon"
    broken = json.dumps(document, indent=2) + "\n"
    cdk_json.write_text(broken, encoding="utf-8")

    assert _run(cdk_json, "add", *FRAUD) == 2
    assert "environments.dev.studio.idleTimeoutMinutes" in capsys.readouterr().err
    assert cdk_json.read_text(encoding="utf-8") == broken


def test_the_write_is_atomic_and_keeps_the_files_mode(
    cdk_json: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a cdk.json others may read, and a replace that fails half way
    cdk_json.chmod(0o644)

    def fail(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(use_case.os, "replace", fail)

    # WHEN the factory writes, THEN the error surfaces, the file is as it was, no temporary is left
    with pytest.raises(OSError, match="disk full"):
        _run(cdk_json, "add", *FRAUD)
    assert cdk_json.read_text(encoding="utf-8") == ORIGINAL
    assert [p.name for p in cdk_json.parent.iterdir()] == ["cdk.json"]

    # ... and a write that succeeds keeps the mode (mkstemp creates 0600)
    monkeypatch.undo()
    assert _run(cdk_json, "add", *FRAUD) == 0
    assert cdk_json.stat().st_mode & 0o777 == 0o644
    assert [p.name for p in cdk_json.parent.iterdir()] == ["cdk.json"]


def test_remove_restores_the_file_and_says_what_is_retained(
    cdk_json: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(cdk_json, "add", *FRAUD) == 0
    capsys.readouterr()

    # --print-stacks (make use-case-remove's first step): the pattern of its stacks, nothing changed
    added = cdk_json.read_text(encoding="utf-8")
    assert _run(cdk_json, "remove", "--name", "fraud", "--print-stacks") == 0
    assert capsys.readouterr().out == f"{PROJECT}-dev-fraud-*\n"
    assert cdk_json.read_text(encoding="utf-8") == added

    assert _run(cdk_json, "remove", "--name", "fraud") == 0
    assert cdk_json.read_text(encoding="utf-8") == ORIGINAL
    out = capsys.readouterr().out
    assert f"model package group {PROJECT}-dev-fraud-models with its versions" in out
    assert f"alias/{PROJECT}-dev-fraud" in out


@pytest.mark.parametrize(
    ("name", "env"),
    [("fraud", "dev"), (PROJECT, "cases"), ("fraud", "nope")],
    ids=["absent", "primary", "env"],
)
def test_remove_refuses_what_is_not_an_additional_use_case(
    cdk_json: Path, capsys: pytest.CaptureFixture[str], name: str, env: str
) -> None:
    assert _run(cdk_json, "remove", "--name", name, "--env", env) == 2
    assert "context key '" in capsys.readouterr().err
    assert cdk_json.read_text(encoding="utf-8") == ORIGINAL


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_use_case_passes_its_arguments(cdk_json: Path) -> None:
    # GIVEN the Makefile pointed at a copy of cdk.json (-o: the venv counts as set up)
    def make(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["make", "-s", "-C", str(ROOT), "-o", ".venv/.installed", "use-case", *args,
             f"CDK_JSON={cdk_json}"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip

    # WHEN make use-case runs with every argument
    done = make("NAME=demand", "TARGET=units sold", "PROBLEM=regression", "ENV=cases", "INPUT=data/demand/")

    # THEN the entry has each of them, and the next steps are printed
    assert done.returncode == 0, done.stderr
    assert _context(cdk_json)["environments"]["cases"]["useCases"]["demand"] == {
        "targetColumn": "units sold",
        "problemType": "regression",
        "inputPrefix": "data/demand/",
    }
    assert f"{PROJECT}-cases-demand-models" in done.stdout

    # ... and without its required arguments it prints the usage and changes nothing
    before = cdk_json.read_text(encoding="utf-8")
    refused = make("NAME=other")
    assert refused.returncode == 2
    assert "usage: make use-case" in refused.stdout
    assert cdk_json.read_text(encoding="utf-8") == before
