"""release.shadow against moto: prod keeps what it serves now, the new version becomes its shadow."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from test_release_resolve import GROUP, REGION, register

from contracts.approved_model import ApprovedModel
from release import shadow

ENDPOINT = "mlops-demo-dev-prod"


@pytest.fixture
def sagemaker() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("sagemaker", region_name=REGION)
        client.create_model_package_group(ModelPackageGroupName=GROUP)
        yield client


def serve(sagemaker: Any, package_arn: str) -> None:
    """A prod endpoint as our endpoint stack builds it: a model whose container names the package."""
    sagemaker.create_model(
        ModelName="prod-v1",
        ExecutionRoleArn="arn:aws:iam::123456789012:role/model",
        Containers=[{"ModelPackageName": package_arn}],
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName="prod-config",
        ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": "prod-v1",
                             "InitialInstanceCount": 2, "InstanceType": "ml.m5.large"}],
    )  # fmt: skip
    sagemaker.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName="prod-config")


def _main(sagemaker: Any, out: Path, version: int) -> int:
    argv = ["--group", GROUP, "--stage-file", str(out), "--endpoint", ENDPOINT, "--version", str(version)]
    return shadow.main(argv, sagemaker=sagemaker)


def test_prod_keeps_its_served_version_and_the_new_one_is_its_shadow(sagemaker: Any, tmp_path: Path) -> None:
    # GIVEN prod serving v1 while v2 (newer, Approved) passed staging
    v1 = register(sagemaker, "Approved", "r1")
    v2 = register(sagemaker, "Approved", "r2")
    serve(sagemaker, v1)
    out = tmp_path / "prod.json"
    # WHEN the Shadow build writes prod's file
    assert _main(sagemaker, out, 2) == 0
    # THEN production is what prod serves, not the newest version, and v2 is the shadow
    written = json.loads(out.read_text())
    assert (written["model_package_arn"], written["version"]) == (v1, 1)
    assert (written["shadow"]["model_package_arn"], written["shadow"]["version"]) == (v2, 2)
    assert written["shadow"]["model_data_url"] == "s3://art/r2/model.tar.gz"


def test_the_file_is_one_the_endpoint_stack_reads(sagemaker: Any, tmp_path: Path) -> None:
    serve(sagemaker, register(sagemaker, "Approved", "r1"))
    register(sagemaker, "Approved", "r2")
    out = tmp_path / "prod.json"
    assert _main(sagemaker, out, 2) == 0
    read = ApprovedModel.read(out)
    assert read.version == 1
    assert read.shadow is not None
    assert read.shadow.version == 2


def test_no_prod_endpoint_yet_means_no_shadow(sagemaker: Any, tmp_path: Path, capsys: Any) -> None:
    register(sagemaker, "Approved", "r1")
    out = tmp_path / "prod.json"
    assert _main(sagemaker, out, 1) == 0
    assert not out.exists()
    assert "no shadow test for the first release" in capsys.readouterr().out


def test_prod_already_serving_the_version_means_no_shadow(
    sagemaker: Any, tmp_path: Path, capsys: Any
) -> None:
    serve(sagemaker, register(sagemaker, "Approved", "r1"))
    assert _main(sagemaker, tmp_path / "prod.json", 1) == 0
    assert not (tmp_path / "prod.json").exists()
    assert "already serves version 1" in capsys.readouterr().out


def test_a_version_rejected_meanwhile_is_refused(sagemaker: Any, tmp_path: Path, capsys: Any) -> None:
    serve(sagemaker, register(sagemaker, "Approved", "r1"))
    register(sagemaker, "Rejected", "r2")
    assert _main(sagemaker, tmp_path / "prod.json", 2) == 2
    assert "not Approved" in capsys.readouterr().err
