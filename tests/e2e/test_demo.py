"""`make demo` end to end: the synthesized pipeline definition run offline against moto.

One real `cdk synth` (the CLI, into a temporary cdk.out) feeds every test here; each test
then runs the demo (`demo.story`) on it with its own work folder and moto server. The release's
second synth runs in the test's process (tests/app_synth.py, held to the CLI's bytes by
tests/cdk/test_determinism.py). `dev` tracks
runs in MLflow: the first test's demo starts and stops its own server; the others share one
(`--mlflow-url`), a cold start being the slow part of a server.
"""

from __future__ import annotations

import json
import tarfile
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from app_synth import use_in_process_synth
from mlflow.tracking import MlflowClient
from mlflow_server import MlflowServer

from demo import story
from demo.synth import synth
from emulator.cfn import Assembly
from emulator.provision import pipeline_from
from emulator.standins import ACCOUNT
from ml_code import contract

pytestmark = [pytest.mark.slow, pytest.mark.cli]


@pytest.fixture(scope="module")
def cdk_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "cdk.out"
    synth("dev", out)
    return out


@pytest.fixture(scope="module")
def tracking_url(mlflow_shared: MlflowServer) -> str:
    """A tracking server the demos after the first log to (the test process's shared one)."""
    return mlflow_shared.url


def run_demo(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str]]:
    code = story.main(list(args))
    return code, capsys.readouterr().out.splitlines()


def artefact(lines: list[str], label: str) -> list[str]:
    return [line.split(":", 1)[1].strip() for line in lines if line.startswith(f"  {label}:")]


def test_demo_registers_a_version_then_gates_a_second_against_it(
    cdk_out: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    use_in_process_synth(monkeypatch)  # the release's synth (app_synth.py; cdk_out is the CLI's)
    # WHEN the demo runs the synthesized definition twice on the sample data
    code, lines = run_demo(capsys, "--cdk-out", str(cdk_out), "--work-dir", str(tmp_path))
    # THEN both runs succeed and the registry holds v1 (approved between the runs) and v2
    assert code == 0, "\n".join(lines[-40:])
    start = next(i for i, line in enumerate(lines) if line.startswith("Release: "))
    lines, release = lines[:start], lines[start:]
    assert lines[-2:] == ["  result:            all runs succeeded", ""]
    registered = artefact(lines, "registered")
    assert len(registered) == 2
    assert registered[0].split()[1:3] == ["v1", "Approved"]
    assert registered[1].split()[1:3] == ["v2", "PendingManualApproval"]
    v1_arn = registered[0].split()[-1]
    # ... the first run had no champion; the second was compared with v1, rescored on its test rows
    assert lines.count("  Gate outcome: passed → registered") == 2
    gates = [line for line in lines if line.startswith("  Gate: ")]
    assert len(gates) == 2
    assert gates[0].startswith("  Gate: Passed: auc ")
    assert gates[0].endswith("; no approved champion yet.")
    assert "it is not worse than the approved champion (version 1), which scores " in gates[1]
    [report_path] = artefact(lines, "evaluation report")
    report = json.loads(Path(report_path).read_text())
    gate = report[contract.GATE_SECTION]
    assert (gate["champion_model_package_arn"], gate["passed"]) == (v1_arn, 1)
    assert gate["champion"]["error"] is None
    assert gate["champion"]["lower"] <= gate["champion"]["improvement"] <= gate["champion"]["upper"]
    assert gate["champion"]["lower"] >= -gate["champion"]["allowed"]
    # ... and the artefacts the last lines name are on disk: the model with its serving code, plots
    [model] = artefact(lines, "model")
    with tarfile.open(model) as tar:
        names = tar.getnames()
    assert contract.MODEL_FILE in names
    assert f"{contract.MODEL_CODE_DIR}/{contract.SERVING_PROGRAM}" in names
    plots = artefact(lines, "plot")
    assert plots
    assert all(Path(plot).stat().st_size > 0 for plot in plots)
    # ... the run folder is the execution moto recorded
    [run_folder] = artefact(lines, "run folder")
    assert Path(run_folder).parent == tmp_path / "runs"
    # ... v2 is approved and shipped: staging smoke-tested, the gate, prod smoke-tested
    v2_arn = registered[1].split()[-1]
    assert (
        release[0] == f"Release: a reviewer approves {v2_arn}; the approval event starts the deploy pipeline."
    )
    shipped = [line.split(":")[0].strip() for line in release if line.endswith(f": version 2 ({v2_arn})")]
    assert shipped == ["staging", "prod"]
    assert sum("(binary)" in line and line.endswith(": PASSED") for line in release) == 2
    assert "  manual gate: approved (in the deploy pipeline a person approves this action)" in release
    # ... drifted traffic to prod is captured and the drift check finds it, with a chart
    [check] = [line for line in release if line.startswith("  drift check of mlops-demo-dev-prod: ")]
    records, violations = (int(word) for word in check.replace(",", "").split() if word.isdigit())
    assert records >= 400
    assert violations >= 3
    [chart] = artefact(release, "drift chart")
    assert Path(chart).read_bytes().startswith(b"\x89PNG")
    # ... the alarm fires, the trigger starts one retraining run (and refuses the same alarm again)
    alarm = f"  alarm mlops-demo-dev-prod-drift (account {ACCOUNT}): ALARM ("
    assert any(line.startswith(alarm) for line in release)
    assert any(line.startswith("  retraining trigger: start — ") for line in release)
    assert any(
        line.startswith("  the same alarm again: no start — ") and "rate cap" in line for line in release
    )
    [reason] = [line.split(": ", 1)[1] for line in release if line.startswith("    reason recorded: ")]
    assert reason.startswith("drift: mlops-demo-dev-prod-drift — Violations Maximum = ")
    # ... and that run, on data that now includes the drifted population, registers v3 for review
    shadow_at = release.index(next(line for line in release if line.startswith("Shadow test: ")))
    release, shadow = release[:shadow_at], release[shadow_at:]
    assert release[-2] == (
        "  result:            released to staging and prod; drift detected on prod traffic; "
        "retraining registered v3 (PendingManualApproval) for review"
    )
    # ... then v3 is approved and shadow-tested beside prod's v2 (dev's prod.shadow), and the report
    # the gate would show is written: every request answered by production, copies captured apart
    assert any(line.endswith(": production v2, shadow v3") for line in shadow)
    assert "  200 of 200 requests answered by production; 200 copied to the shadow" in shadow
    [report_path] = [line.split(": ", 1)[1] for line in shadow if line.startswith("  report: ")]
    shadow_report = json.loads(Path(report_path).read_text())
    assert shadow_report["paired"] == 200, shadow_report
    assert shadow[-1] == (
        "  result:            the gate waits with this summary; approving ships the shadow version to prod"
    )
    # ... and every run, the retraining too, is an MLflow run in the demo's own store, whose server
    # the demo started, named and stopped
    [url] = [line.split(": ", 1)[1].split()[0] for line in lines if line.startswith("MLflow tracking server")]
    with pytest.raises(urllib.error.URLError, match="Connection refused"):
        urllib.request.urlopen(f"{url}/health", timeout=2)
    assert_tracked(tmp_path / "mlflow" / "mlflow.db", tmp_path / "runs")
    # ... and shipping v2 made its run the live one on both stages (release.track_release, as the
    # deploy build runs it), the run naming the version it produced
    assert_shipped(tmp_path / "mlflow" / "mlflow.db", v2_arn)
    # (the staging build's approval mark before it deploys, then two lines per stage shipped)
    marks = [line for line in release if line.startswith("    MLflow: ") and v2_arn in line]
    assert len(marks) == 5
    assert f"{v2_arn} approved, shipping to staging; run " in marks[0]


def assert_shipped(database: Path, arn: str) -> None:
    """The experiment's live run on staging and prod is the run that registered ``arn``, approved."""
    client = MlflowClient(tracking_uri=f"sqlite:///{database}")
    [experiment] = [e for e in client.search_experiments() if e.name.endswith("-training")]
    run_id = experiment.tags["mlops.live.prod"]
    assert experiment.tags["mlops.live.staging"] == run_id
    tags = client.get_run(run_id).data.tags
    version = arn.rsplit("/", 1)[1]
    assert (tags["mlops.model_package_arn"], tags["mlops.model_package_version"]) == (arn, version)
    assert tags["mlops.approval"] == "Approved"
    assert tags["mlops.shipped.staging"] == tags["mlops.shipped.prod"] == version


def assert_tracked(database: Path, runs: Path) -> None:
    """Each execution under ``runs`` is a FINISHED run, gate passed, in the store at ``database``."""
    client = MlflowClient(tracking_uri=f"sqlite:///{database}")
    [experiment] = [e for e in client.search_experiments() if e.name.endswith("-training")]
    found = {r.info.run_name: r for r in client.search_runs([experiment.experiment_id])}
    executions = sorted(p.name for p in runs.iterdir() if p.is_dir())
    assert len(executions) == 3  # v1, v2 and the drift-triggered retraining
    assert sorted(found) == executions
    assert {r.info.status for r in found.values()} == {"FINISHED"}
    assert {r.data.tags["mlops.gate"] for r in found.values()} == {contract.GATE_PASSED}


def test_the_demo_runs_the_definition_the_template_holds(cdk_out: Path) -> None:
    # GIVEN the pipeline's definition body as CloudFormation receives it (JSON with ${...} tokens)
    # (the training pipeline's; the monitoring stack holds the drift check's)
    [template] = [json.loads(p.read_text()) for p in cdk_out.glob("*-pipeline.template.json")]
    resource = template["Resources"]["Pipeline"]  # the training pipeline (beside it: BatchScore...)
    body = resource["Properties"]["PipelineDefinition"]["PipelineDefinitionBody"]
    raw = (
        body
        if isinstance(body, str)
        else body["Fn::Sub"]
        if isinstance(body["Fn::Sub"], str)
        else body["Fn::Sub"][0]
    )
    # WHEN the demo resolves it
    resolved = pipeline_from(Assembly.load(cdk_out)).definition
    # THEN it is the same document with only the tokens substituted
    assert_same_but_tokens(json.loads(raw), resolved, "definition")
    names = {p["Name"] for p in resolved["Parameters"]}
    assert {story.TARGET_PARAMETER, story.PROBLEM_PARAMETER, "InputDataUri"} <= names


def assert_same_but_tokens(raw: object, resolved: object, where: str) -> None:
    if isinstance(raw, dict):
        assert isinstance(resolved, dict), where
        assert raw.keys() == resolved.keys(), where
        for key in raw:
            assert_same_but_tokens(raw[key], resolved[key], f"{where}.{key}")
    elif isinstance(raw, list):
        assert isinstance(resolved, list), where
        assert len(raw) == len(resolved), where
        for i, (a, b) in enumerate(zip(raw, resolved, strict=True)):
            assert_same_but_tokens(a, b, f"{where}[{i}]")
    elif isinstance(raw, str) and "${" in raw:
        assert isinstance(resolved, str), where
        assert "${" not in resolved, where
    else:
        assert raw == resolved, where


def regression_csv(path: Path, *, signal: float, rows: int = 400) -> Path:
    """A small regression dataset: a numeric target driven by `signal` x its features."""
    rng = np.random.default_rng(3)
    x1, x2 = rng.normal(size=rows), rng.normal(size=rows)
    colour = rng.choice(["red", "green", "blue"], size=rows)
    noise = rng.normal(size=rows)
    target = signal * (3 * x1 - 2 * x2 + (colour == "red")) + noise
    pd.DataFrame({"x1": x1, "x2": x2, "colour": colour, "price": target}).to_csv(path, index=False)
    return path


def test_the_demo_takes_a_users_own_data(
    cdk_out: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    tracking_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_in_process_synth(monkeypatch)  # the release's synth in this process (app_synth.py says why)
    data = regression_csv(tmp_path / "houses.csv", signal=2.0)
    code, lines = run_demo(
        capsys,
        *("--cdk-out", str(cdk_out), "--work-dir", str(tmp_path / "work"), "--runs", "1"),
        *("--mlflow-url", tracking_url),
        *("--data", str(data), "--target", "price", "--problem-type", "regression"),
    )
    assert code == 0, "\n".join(lines[-40:])
    assert any(line.startswith("  Gate: Passed: rmse ") for line in lines)
    [registered] = artefact(lines, "registered")
    assert registered.split()[1:3] == ["v1", "PendingManualApproval"]
    # ... and the release path ships it (the smoke test checks regression answers), without the
    # drift act, which needs the sample generator
    assert sum("(regression)" in line and line.endswith(": PASSED") for line in lines) == 2
    assert lines[-1] == "  result:            released to staging and prod; both smoke tests passed"


def test_a_model_that_does_not_beat_the_mean_is_held_with_exit_code_3(
    cdk_out: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], tracking_url: str
) -> None:
    # GIVEN data whose target is noise: no model beats predicting the mean
    data = regression_csv(tmp_path / "noise.csv", signal=0.0)
    code, lines = run_demo(
        capsys,
        *("--cdk-out", str(cdk_out), "--work-dir", str(tmp_path / "work"), "--runs", "1"),
        *("--mlflow-url", tracking_url),
        *("--data", str(data), "--target", "price", "--problem-type", "regression"),
    )
    # THEN the gate holds it, saying why, nothing is registered, and the demo ends with exit code 3
    assert code == 3
    [gate] = [line for line in lines if line.startswith("  Gate: ")]
    assert gate.startswith("  Gate: Held: rmse ")
    assert " does not beat the naive baseline (the mean as every prediction: " in gate
    assert "  Gate outcome: held → not registered" in lines
    assert lines[-1] == "  result:            held by the quality gate, nothing registered (exit code 3)"
    assert not artefact(lines, "registered")
