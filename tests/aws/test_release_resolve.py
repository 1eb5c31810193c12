"""release.resolve / release.promote against moto: which version ships, and every refusal."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.sagemaker.models import sagemaker_backends

from contracts.approved_model import SMOKE_SAMPLES_METADATA_KEY, ApprovedModel
from contracts.config import load_config
from release import promote, resolve
from release.registry import ResolveError

GROUP = "mlops-demo-dev-models"
REGION = "us-east-1"
IMAGE = "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:3.0-5"


@pytest.fixture
def sagemaker() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("sagemaker", region_name=REGION)
        client.create_model_package_group(ModelPackageGroupName=GROUP)
        yield client


def register(sagemaker: Any, status: str, run: str, group: str = GROUP) -> str:
    """Register a version shaped like the pipeline's register step, then set its approval."""
    time.sleep(0.002)  # moto stamps CreationTime in milliseconds; keep the order unambiguous
    baseline = {
        "Statistics": {"ContentType": "application/json", "S3Uri": f"s3://art/{run}/statistics.json"},
        "Constraints": {"ContentType": "application/json", "S3Uri": f"s3://art/{run}/constraints.json"},
    }
    metadata = {SMOKE_SAMPLES_METADATA_KEY: f"s3://art/{run}/smoke-samples.json"}
    arn: str = sagemaker.create_model_package(
        ModelPackageGroupName=group,
        ModelApprovalStatus="PendingManualApproval",
        InferenceSpecification={
            "Containers": [{
                "Image": IMAGE, "ModelDataUrl": f"s3://art/{run}/model.tar.gz",
                "Environment": {"SAGEMAKER_PROGRAM": "inference.py"},
            }],
            "SupportedContentTypes": ["text/csv"], "SupportedResponseMIMETypes": ["text/csv"],
        },
        DriftCheckBaselines={"ModelDataQuality": baseline},
        CustomerMetadataProperties=metadata,
    )["ModelPackageArn"]  # fmt: skip
    if status != "PendingManualApproval":
        # moto 5.2.5's UpdateModelPackage overwrites CustomerMetadataProperties with None when the
        # request omits them (AWS keeps them), so the approval re-sends them.
        sagemaker.update_model_package(
            ModelPackageArn=arn, ModelApprovalStatus=status, CustomerMetadataProperties=metadata
        )
    return arn


def test_newest_approved_version_wins_and_carries_its_baseline_and_samples(sagemaker: Any) -> None:
    # GIVEN approved v1 and v2, then a pending v3 and a rejected v4
    register(sagemaker, "Approved", "r1")
    v2 = register(sagemaker, "Approved", "r2")
    register(sagemaker, "PendingManualApproval", "r3")
    register(sagemaker, "Rejected", "r4")
    # WHEN resolving without a version
    model = resolve.resolve(sagemaker, GROUP)
    # THEN v2 ships, with everything the endpoint and smoke test need
    assert (model.model_package_arn, model.version) == (v2, 2)
    assert model.image_uri == IMAGE
    assert model.model_data_url == "s3://art/r2/model.tar.gz"
    assert model.environment == {"SAGEMAKER_PROGRAM": "inference.py"}
    assert model.baseline_statistics_uri == "s3://art/r2/statistics.json"
    assert model.baseline_constraints_uri == "s3://art/r2/constraints.json"
    assert model.smoke_samples_uri == "s3://art/r2/smoke-samples.json"


def test_named_older_approved_version_is_resolved(
    sagemaker: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    register(sagemaker, "Approved", "r1")
    register(sagemaker, "Approved", "r2")
    out = tmp_path / "models" / "prod.json"
    assert resolve.main(["--group", GROUP, "--out", str(out), "--version", "1"], sagemaker) == 0
    printed = capsys.readouterr().out
    assert f"{out}: {GROUP} version 1 (" in printed
    assert "model data s3://art/r1/model.tar.gz; smoke samples s3://art/r1/smoke-samples.json" in printed
    written = ApprovedModel.read(out)
    assert written.version == 1
    assert written.model_data_url == "s3://art/r1/model.tar.gz"


@pytest.mark.parametrize("status", ["PendingManualApproval", "Rejected"])
def test_named_version_that_is_not_approved_is_refused(sagemaker: Any, status: str) -> None:
    register(sagemaker, "Approved", "r1")
    register(sagemaker, status, "r2")
    with pytest.raises(ResolveError, match=rf"version 2 of '{GROUP}' is {status}, not Approved"):
        resolve.resolve(sagemaker, GROUP, 2)


def test_no_approved_version_exits_2_and_writes_nothing(
    sagemaker: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    register(sagemaker, "PendingManualApproval", "r1")
    register(sagemaker, "Rejected", "r2")
    out = tmp_path / "staging.json"
    assert resolve.main(["--group", GROUP, "--out", str(out)], sagemaker) == 2
    err = capsys.readouterr().err
    assert err == f"release.resolve: model package group '{GROUP}' has no Approved version to deploy\n"
    assert not out.exists()


def test_deleted_version_is_reported_missing(sagemaker: Any) -> None:
    # GIVEN v1 approved, then deleted (moto has no DeleteModelPackage: drop it from its backend)
    arn = register(sagemaker, "Approved", "r1")
    sagemaker_backends[DEFAULT_ACCOUNT_ID][REGION].model_packages.pop(arn)
    with pytest.raises(ResolveError, match=r"version 1 of .* does not exist \(never registered or deleted\)"):
        resolve.resolve(sagemaker, GROUP, 1)
    with pytest.raises(ResolveError, match="has no Approved version"):
        resolve.resolve(sagemaker, GROUP)


def test_version_never_registered_is_reported_missing(sagemaker: Any) -> None:
    register(sagemaker, "Approved", "r1")
    with pytest.raises(ResolveError, match=r"version 7 of .* does not exist"):
        resolve.resolve(sagemaker, GROUP, 7)


def test_other_groups_versions_are_not_considered(sagemaker: Any) -> None:
    sagemaker.create_model_package_group(ModelPackageGroupName="someone-else")
    register(sagemaker, "Approved", "x", group="someone-else")
    with pytest.raises(ResolveError, match="has no Approved version"):
        resolve.resolve(sagemaker, GROUP)


def test_missing_group_is_named(sagemaker: Any) -> None:
    with pytest.raises(ResolveError, match=r"model package group 'nope' does not exist"):
        resolve.resolve(sagemaker, "nope")


def test_version_must_be_positive(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        resolve.parse_args(["--group", GROUP, "--out", "x.json", "--version", "0"])
    assert exit_info.value.code == 2
    assert "expected a version number >= 1" in capsys.readouterr().err


# ----------------------------------------------------------------- promote
def test_promote_writes_the_stage_model_file_and_names_the_stack(
    sagemaker: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a project root with this repository's cdk.json and two approved versions
    (tmp_path / "cdk.json").write_text(Path("cdk.json").read_text())
    register(sagemaker, "Approved", "r1")
    register(sagemaker, "Approved", "r2")
    # WHEN promoting version 1 to prod in dev
    code = promote.main(["--env", "dev", "--stage", "prod", "--version", "1"], sagemaker, root=tmp_path)
    # THEN prod's model file (from config) holds v1 and the stack to deploy is printed
    assert code == 0
    target = promote.release_target(tmp_path, "dev", "prod")
    assert target.model_file.is_relative_to(tmp_path)
    assert ApprovedModel.read(target.model_file).version == 1
    context = json.loads((tmp_path / "cdk.json").read_text())["context"]
    config = load_config({k: context[k] for k in promote.CONTEXT_KEYS}, project_root=tmp_path)
    approved = config.env.stage("prod").approved_model
    assert approved is not None  # the endpoint stack will read this version
    assert approved.version == 1
    assert capsys.readouterr().out.strip().splitlines()[-1] == "mlops-demo-dev-endpoint-prod"


def test_promote_refuses_an_unknown_stage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "cdk.json").write_text(Path("cdk.json").read_text())
    assert promote.main(["--env", "dev", "--stage", "qa"], object(), root=tmp_path) == 2
    assert "qa" in capsys.readouterr().err


def test_promote_with_nothing_approved_exits_2(sagemaker: Any, tmp_path: Path) -> None:
    (tmp_path / "cdk.json").write_text(Path("cdk.json").read_text())
    register(sagemaker, "Rejected", "r1")
    assert promote.main(["--env", "dev", "--stage", "staging"], sagemaker, root=tmp_path) == 2


def _cross_account_root(tmp_path: Path) -> None:
    """This repository's cdk.json with dev's prod stage in another account."""
    cdk_json = json.loads(Path("cdk.json").read_text())
    env = cdk_json["context"]["environments"]["dev"]
    env.update({"account": "111111111111", "region": REGION})
    env["endpoints"]["prod"]["account"] = "333333333333"
    del env["endpoints"]["prod"]["shadow"]  # dev's prod shadow-tests, which a stage elsewhere cannot
    (tmp_path / "cdk.json").write_text(json.dumps(cdk_json))


def _objects_of(run: str) -> list[str]:
    return [f"{run}/model.tar.gz", f"{run}/statistics.json", f"{run}/constraints.json"]


def test_promote_into_another_account_refuses_a_version_never_shipped_there(
    sagemaker: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN prod in another account, and v1 (shipped to prod: its objects carry prod's release tag)
    # and v2 (shipped to staging only)
    _cross_account_root(tmp_path)
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="art")
    for run, stage in (("r1", "prod"), ("r2", "staging")):
        register(sagemaker, "Approved", run)
        for key in _objects_of(run):
            s3.put_object(Bucket="art", Key=key, Body=b"x")
            tag = {"Key": f"mlops:released-{stage}", "Value": "true"}
            s3.put_object_tagging(Bucket="art", Key=key, Tagging={"TagSet": [tag]})
    target = promote.release_target(tmp_path, "dev", "prod")
    # WHEN promoting v2 by hand THEN it is refused, naming why, and prod's model file is not written
    code = promote.main(
        ["--env", "dev", "--stage", "prod", "--version", "2"], sagemaker, root=tmp_path, s3=s3
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "version 2 was never shipped to prod by its deploy build" in err
    assert "s3://art/r2/model.tar.gz" in err
    assert not target.model_file.exists()
    # ... while rolling back to v1, which prod already served, goes ahead
    code = promote.main(
        ["--env", "dev", "--stage", "prod", "--version", "1"], sagemaker, root=tmp_path, s3=s3
    )
    assert code == 0
    assert ApprovedModel.read(target.model_file).version == 1


def test_promote_an_additional_use_case_writes_its_own_file_and_names_its_stack(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN dev with the use case fraud, and two approved versions in fraud's own group
    cdk_json = json.loads(Path("cdk.json").read_text())
    cdk_json["context"]["environments"]["dev"]["useCases"] = {
        "fraud": {"targetColumn": "is_fraud", "problemType": "binary"}
    }
    (tmp_path / "cdk.json").write_text(json.dumps(cdk_json))
    with mock_aws():
        sagemaker = boto3.client("sagemaker", region_name=REGION)
        sagemaker.create_model_package_group(ModelPackageGroupName="mlops-demo-dev-fraud-models")
        register(sagemaker, "Approved", "f1", group="mlops-demo-dev-fraud-models")
        register(sagemaker, "Approved", "f2", group="mlops-demo-dev-fraud-models")
        # WHEN promoting fraud's v1 to prod
        argv = ["--env", "dev", "--stage", "prod", "--version", "1", "--use-case", "fraud"]
        assert promote.main(argv, sagemaker, root=tmp_path) == 0
    # THEN fraud's own model file holds it, and fraud's endpoint stack is the one to deploy
    target = promote.release_target(tmp_path, "dev", "prod", "fraud")
    assert target.model_file == tmp_path / ".build/release/dev-fraud-prod.json"
    assert ApprovedModel.read(target.model_file).model_package_group == "mlops-demo-dev-fraud-models"
    assert capsys.readouterr().out.strip().splitlines()[-1] == "mlops-demo-dev-fraud-endpoint-prod"
    assert (target.endpoint, target.group) == ("mlops-demo-dev-fraud-prod", "mlops-demo-dev-fraud-models")
    # ... the project's own file is not written
    assert not promote.release_target(tmp_path, "dev", "prod").model_file.exists()


def test_promote_refuses_an_unknown_use_case_naming_the_known_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "cdk.json").write_text(Path("cdk.json").read_text())
    assert (
        promote.main(["--env", "dev", "--stage", "prod", "--use-case", "fraud"], object(), root=tmp_path) == 2
    )
    assert (
        "environment 'dev' has no additional use case 'fraud' (its use cases: none" in capsys.readouterr().err
    )
