"""The registry linked both ways (issue 15 point 3), against a real local MLflow server: the LinkRun
step tags the execution's run with the version Register created, and release.track_release marks
the shipped version's run and its experiment's live run; each refusal said, never a silent pass."""

from __future__ import annotations

import io
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import pytest
from mlflow_server import MlflowServer

from contracts.approved_model import ApprovedModel
from ml_code import contract
from ml_code.steps import link_run
from ml_code.tracking import lineage
from ml_code.tracking.runs import EXECUTION_TAG
from release import track_release

SERVER_ARN = "arn:aws:sagemaker:us-east-1:123456789012:mlflow-tracking-server/mlops-dev-mlflow"
PIPELINE = "mlops-dev-link-training"
GROUP = "mlops-dev-models"


def execution_arn(execution_id: str) -> str:
    return f"arn:aws:sagemaker:us-east-1:123456789012:pipeline/{PIPELINE}/execution/{execution_id}"


def package_arn(version: int) -> str:
    return f"arn:aws:sagemaker:us-east-1:123456789012:model-package/{GROUP}/{version}"


@pytest.fixture(scope="module")
def server(mlflow_shared: MlflowServer) -> MlflowServer:
    return mlflow_shared


def tracked_run(server: MlflowServer, execution_id: str) -> tuple[str, str]:
    """A run as the Track step leaves it (FINISHED, tagged with its execution); (run id, experiment id)."""
    client = server.client()
    found = client.get_experiment_by_name(PIPELINE)
    experiment = found.experiment_id if found else client.create_experiment(PIPELINE)
    run = client.create_run(
        experiment, tags={EXECUTION_TAG: execution_arn(execution_id)}, run_name=execution_id
    )
    client.set_terminated(run.info.run_id, "FINISHED")
    return run.info.run_id, experiment


@pytest.fixture
def job(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server: MlflowServer) -> Path:
    monkeypatch.setenv(contract.OPT_ML_ROOT_ENV, str(tmp_path / "opt_ml"))
    monkeypatch.setenv(contract.MLFLOW_URL_ENV, server.url)
    return tmp_path


def run_link(execution_id: str, package: str) -> int:
    return link_run.main(["--tracking-server-arn", SERVER_ARN, "--execution-arn", execution_arn(execution_id),
                          "--model-package-arn", package])  # fmt: skip


def test_link_run_tags_the_executions_run_with_the_version(server: MlflowServer, job: Path) -> None:
    # GIVEN the run the Track step logged for this execution, and another execution's run
    run_id, _ = tracked_run(server, "linkexec01")
    other, _ = tracked_run(server, "linkexec02")
    # WHEN LinkRun runs with the version Register created
    assert run_link("linkexec01", package_arn(4)) == 0
    # THEN that run names the version, pending approval; the other run is untouched
    tags = server.client().get_run(run_id).data.tags
    assert tags[lineage.MODEL_PACKAGE_ARN_TAG] == package_arn(4)
    assert tags[lineage.MODEL_PACKAGE_VERSION_TAG] == "4"
    assert tags[lineage.APPROVAL_TAG] == "PendingManualApproval"
    assert lineage.MODEL_PACKAGE_ARN_TAG not in server.client().get_run(other).data.tags
    assert server.client().get_run(run_id).info.status == "FINISHED"


def test_link_run_fails_naming_the_execution_without_a_run(server: MlflowServer, job: Path) -> None:
    tracked_run(server, "linkexec03")  # the experiment exists; this execution has no run
    assert run_link("neverlogged", package_arn(5)) == 1
    reason = (job / "opt_ml" / "output" / "message").read_text()
    assert reason.startswith("TrackingError: no MLflow run in experiment")
    assert execution_arn("neverlogged") in reason


@pytest.mark.parametrize(
    "arn",
    ["arn:aws:sagemaker:us-east-1:123456789012:model-package-group/g", "not-an-arn", package_arn(1) + "x"],
)
def test_link_run_refuses_what_is_not_a_version_arn(job: Path, arn: str) -> None:
    assert run_link("linkexec01", arn) == 1
    assert "is not a model package version ARN" in (job / "opt_ml" / "output" / "message").read_text()


# ------------------------------------------------------------------ release.track_release


def model_file(tmp_path: Path, version: int) -> Path:
    path = tmp_path / f"v{version}.json"
    ApprovedModel(
        model_package_arn=package_arn(version),
        model_package_group=GROUP,
        version=version,
        image_uri="683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:3.0-5",
        model_data_url=f"s3://bucket/pipeline-runs/x/train/v{version}/model.tar.gz",
    ).write(path)
    return path


class Registry:
    """DescribeModelPackage of a few versions (what the command asks the registry)."""

    def __init__(self, metadata: dict[int, dict[str, str]]) -> None:
        self.metadata = metadata

    def describe_model_package(self, ModelPackageName: str) -> dict[str, Any]:  # noqa: N803 (boto3's)
        version = int(ModelPackageName.rsplit("/", 1)[1])
        return {
            "ModelPackageArn": ModelPackageName,
            "ModelPackageVersion": version,
            "ModelApprovalStatus": "Approved",
            "CustomerMetadataProperties": self.metadata[version],
        }


def ship(path: Path, stage: str, registry: Registry, url: str, *flags: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = track_release.main(
            ["--stage", stage, "--model-file", str(path), "--tracking-server-arn", SERVER_ARN, *flags],
            sagemaker=registry,  # type: ignore[arg-type]
            mlflow_url=url,
        )
    return code, out.getvalue(), err.getvalue()


def run_metadata(run_id: str, experiment: str, server: str = SERVER_ARN) -> dict[str, str]:
    return {
        contract.MLFLOW_RUN_ID_METADATA_KEY: run_id,
        contract.MLFLOW_EXPERIMENT_ID_METADATA_KEY: experiment,
        contract.MLFLOW_SERVER_METADATA_KEY: server,
    }


def test_shipping_marks_the_run_and_the_experiments_live_run(server: MlflowServer, tmp_path: Path) -> None:
    # GIVEN versions 6 and 7, each from its own run
    six, experiment = tracked_run(server, "shipexec06")
    seven, _ = tracked_run(server, "shipexec07")
    registry = Registry({6: run_metadata(six, experiment), 7: run_metadata(seven, experiment)})
    # WHEN 6 ships to staging and prod, then 7 to staging
    for version, stage in ((6, "staging"), (6, "prod"), (7, "staging")):
        code, out, err = ship(model_file(tmp_path, version), stage, registry, server.url)
        assert (code, err) == (0, ""), err
    # THEN each run says where it was shipped, approved
    client = server.client()
    assert {k: v for k, v in client.get_run(six).data.tags.items() if k.startswith("mlops.")} == {
        "mlops.approval": "Approved", "mlops.shipped.staging": "6", "mlops.shipped.prod": "6",
    }  # fmt: skip
    assert client.get_run(seven).data.tags["mlops.shipped.staging"] == "7"
    assert "mlops.shipped.prod" not in client.get_run(seven).data.tags
    # ... and "which run produced prod's model" is one lookup on the experiment (staging moved on to 7)
    tags = client.get_experiment_by_name(PIPELINE).tags
    assert (tags["mlops.live.prod"], tags["mlops.live.staging"]) == (six, seven)
    assert f"{package_arn(7)} shipped to staging; experiment {experiment}: mlops.live.staging={seven}" in out


def test_the_staging_build_shows_the_approval_before_it_ships(server: MlflowServer, tmp_path: Path) -> None:
    # GIVEN version 8's run, which LinkRun left pending
    run_id, experiment = tracked_run(server, "shipexec08")
    registry = Registry({8: run_metadata(run_id, experiment)})
    # WHEN the staging build marks the approval, right after resolving it
    code, out, err = ship(model_file(tmp_path, 8), "staging", registry, server.url, "--approval-only")
    # THEN the run says Approved, and nothing says shipped or live yet
    assert (code, err) == (0, "")
    assert out == f"{package_arn(8)} approved, shipping to staging; run {run_id}: mlops.approval=Approved\n"
    client = server.client()
    assert {k: v for k, v in client.get_run(run_id).data.tags.items() if k.startswith("mlops.")} == {
        "mlops.approval": "Approved"
    }
    assert client.get_experiment(experiment).tags.get("mlops.live.staging") != run_id


def test_a_version_without_a_run_is_reported_and_skipped(server: MlflowServer, tmp_path: Path) -> None:
    registry = Registry({2: {"ProblemType": "binary"}})
    code, out, err = ship(model_file(tmp_path, 2), "prod", registry, "http://127.0.0.1:9")  # never called
    assert (code, err) == (0, "")
    assert out == (
        f"release.track_release: skipped, {package_arn(2)} names no MLflow run "
        "(registered before the pipeline tracked runs)\n"
    )


def test_a_run_on_another_server_is_skipped_and_a_missing_run_fails(
    server: MlflowServer, tmp_path: Path
) -> None:
    elsewhere = SERVER_ARN.replace("mlops-dev-mlflow", "other-mlflow")
    registry = Registry({3: run_metadata("abc", "1", elsewhere), 4: run_metadata("0" * 32, "1")})
    code, out, _ = ship(model_file(tmp_path, 3), "prod", registry, server.url)
    assert code == 0
    assert f"is on {elsewhere}, not {SERVER_ARN}" in out
    # a run id the server does not know fails the build, naming the call and MLflow's answer
    code, out, err = ship(model_file(tmp_path, 4), "prod", registry, server.url)
    assert (code, out) == (2, "")
    assert err.startswith(f"release.track_release: {tmp_path / 'v4.json'} to prod: MLflow runs/set-tag at ")
    assert "HTTP 404 RESOURCE_DOES_NOT_EXIST" in err
