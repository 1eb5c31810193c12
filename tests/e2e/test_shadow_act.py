"""The demo's shadow act on the stand-in: prod serves v1, the retrained v2 runs as its shadow, reported.

No training pipeline (two tiny models of the serving tests stand in for the two runs): the stand-in
holds the group with v1 Approved and served by prod's endpoint (model -> ModelPackageName), and v2
pending; the act approves v2, writes prod's file through release.shadow, serves prod with the shadow
locally, sends the traffic and writes the report the gate would show.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from serving_models import build_model, tar_model

from contracts.approved_model import ApprovedModel
from contracts.config import load_config
from contracts.names import endpoint_name, model_package_group_name
from demo import shadow_act
from demo.story import demo_config
from emulator.local_aws import LocalAws, moto_server

BUCKET = "artifacts"


def _register(aws: LocalAws, group: str, model: Path, run: str) -> str:
    uri = f"s3://{BUCKET}/pipeline-runs/{run}/train/output/model.tar.gz"
    aws.upload_file(model, uri)
    return str(aws.client("sagemaker").create_model_package(
        ModelPackageGroupName=group, ModelApprovalStatus="PendingManualApproval",
        InferenceSpecification={
            "Containers": [{"Image": "1.dkr.ecr.eu-west-1.amazonaws.com/xgb:1", "ModelDataUrl": uri}],
            "SupportedContentTypes": ["text/csv"], "SupportedResponseMIMETypes": ["text/csv"],
        },
    )["ModelPackageArn"])  # fmt: skip


def test_the_retrained_version_is_shadow_tested_and_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN dev with prod's shadow on (few requests needed) and two registered versions, v1 served
    monkeypatch.setattr(shadow_act, "TRAFFIC_ROWS", 30)
    base = demo_config("dev")
    context = copy.deepcopy(
        json.loads((Path(__file__).resolve().parents[2] / "cdk.json").read_text())["context"]
    )
    context["environments"]["dev"]["endpoints"]["prod"]["shadow"] = {"windowMinutes": 5, "minRequests": 20}
    config = load_config({k: context[k] for k in ("env", "project", "environments")}, base.env.name)
    group, endpoint = model_package_group_name(config.prefix), endpoint_name(config.prefix, "prod")
    models = [tar_model(build_model(tmp_path / f"m{n}", "binary", rows=rows), tmp_path / f"m{n}.tar.gz")
              for n, rows in ((1, 400), (2, 200))]  # fmt: skip
    with moto_server() as aws:
        aws.ensure_bucket(BUCKET)
        sagemaker = aws.client("sagemaker")
        sagemaker.create_model_package_group(ModelPackageGroupName=group)
        v1 = _register(aws, group, models[0], "r1")
        sagemaker.update_model_package(ModelPackageArn=v1, ModelApprovalStatus="Approved")
        _register(aws, group, models[1], "r2")
        role = "arn:aws:iam::123456789012:role/m"
        sagemaker.create_model(ModelName=f"{endpoint}-v1", ExecutionRoleArn=role,
                               Containers=[{"ModelPackageName": v1}])  # fmt: skip
        sagemaker.create_endpoint_config(EndpointConfigName=f"{endpoint}-v1", ProductionVariants=[{
            "VariantName": "AllTraffic", "ModelName": f"{endpoint}-v1", "InitialInstanceCount": 2,
            "InstanceType": "ml.m5.large"}])  # fmt: skip
        sagemaker.create_endpoint(EndpointName=endpoint, EndpointConfigName=f"{endpoint}-v1")
        # WHEN the act runs
        code = shadow_act.shadow_test(aws, config, tmp_path / "work")
    # THEN prod's file keeps v1 as production with v2 as its shadow
    assert code == 0, capsys.readouterr().out
    written = ApprovedModel.read(tmp_path / "work" / "project" / config.env.endpoints.prod.model_file)
    assert written.version == 1
    assert written.shadow is not None
    assert written.shadow.version == 2
    # AND the report compared every copied request, paired by payload and time
    report = json.loads((tmp_path / "work" / "shadow" / "shadow-report.json").read_text())
    assert report["requests"] == {"AllTraffic": 30, "Shadow": 30}
    assert report["paired"] == 30
    assert report["verdict"] == "compared"
    assert 0 <= report["agreement"] <= 1
    assert report["latency_ms"]["Shadow"]["p90"] > 0
    out = capsys.readouterr().out
    assert "shadow v2 vs prod v1: 30 paired of 30 shadow requests" in out
