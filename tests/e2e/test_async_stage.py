"""An async staging stage end to end, offline: synth -> emulator deploy -> the local server with the
async route on the deployed config's paths -> release.smoke passes through InvokeEndpointAsync, and
the results are where the endpoint config says."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from serving_models import build_model

from contracts.approved_model import ApprovedModel
from contracts.config import load_config
from contracts.names import endpoint_name, endpoint_stack_name
from emulator.cfn import Assembly
from emulator.deploy import deploy_endpoint_stack
from emulator.local_aws import LocalAws, moto_server, split_s3_uri
from ml_code import contract
from ml_code.serving.async_invocations import AsyncSettings
from ml_code.serving.serve import serve_in_thread
from release import smoke
from stacks.application import build_platform

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def approved(samples_uri: str) -> ApprovedModel:
    return ApprovedModel(
        model_package_arn="arn:aws:sagemaker:eu-west-1:111122223333:model-package/mlops-demo-dev-models/3",
        model_package_group="mlops-demo-dev-models", version=3,
        image_uri="141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:3.0-5",
        model_data_url="s3://artifacts-bucket/pipeline-runs/exec-1/train/output/model.tar.gz",
        environment={"SAGEMAKER_PROGRAM": "inference.py", "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code"},
        smoke_samples_uri=samples_uri,
    )  # fmt: skip


def synth_async_staging(outdir: Path, model: ApprovedModel) -> tuple[Assembly, str]:
    """cdk.json's dev environment with staging served asynchronously, synthesized in process."""
    context: dict[str, Any] = copy.deepcopy(json.loads((ROOT / "cdk.json").read_text())["context"])
    context["environments"]["dev"]["endpoints"]["staging"] = {
        "instanceType": "ml.m5.large", "async": {"maxConcurrentInvocationsPerInstance": 2},
        "smokeTest": {"samples": 3, "maxLatencyMs": 3000},
    }  # fmt: skip
    project = outdir / "project"
    for stage in load_config(context, "dev").env.endpoints:
        model.write(project / stage.model_file)
    config = load_config(context, "dev", project_root=project)
    app = cdk.App(context={**context, "env": "dev"}, outdir=str(outdir / "cdk.out"))
    build_platform(app, config)
    app.synth()
    return Assembly.load(outdir / "cdk.out"), config.prefix


@pytest.fixture
def stand_in(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalAws]:
    with moto_server() as aws:
        for name, value in {"AWS_ACCESS_KEY_ID": "offline", "AWS_SECRET_ACCESS_KEY": "offline",
                            "AWS_ENDPOINT_URL_S3": aws.endpoint_url,
                            "AWS_ENDPOINT_URL_SAGEMAKER": aws.endpoint_url}.items():  # fmt: skip
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
        monkeypatch.delenv("AWS_SECURITY_TOKEN", raising=False)
        yield aws


def test_an_async_staging_stage_is_deployed_served_and_smoke_tested_offline(
    stand_in: LocalAws, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN the app synthesized with an async staging stage, and that stack deployed to the stand-in
    model_dir = build_model(tmp_path / "model", "binary", rows=200)
    samples_uri = "s3://samples-bucket/smoke-samples.json"
    model = approved(samples_uri)
    assembly, prefix = synth_async_staging(tmp_path / "synth", model)
    deployed = deploy_endpoint_stack(assembly, endpoint_stack_name(prefix, "staging"), stand_in)
    assert deployed.dropped == ()
    sagemaker = stand_in.client("sagemaker")
    name = endpoint_name(prefix, "staging")
    config_name = sagemaker.describe_endpoint(EndpointName=name)["EndpointConfigName"]
    output = sagemaker.describe_endpoint_config(EndpointConfigName=config_name)["AsyncInferenceConfig"][
        "OutputConfig"
    ]
    assert output["S3OutputPath"].endswith(f"/async-inference/{name}/output/")
    assert output["S3FailurePath"].endswith(f"/async-inference/{name}/failures/")
    bucket = split_s3_uri(output["S3OutputPath"])[0]
    stand_in.ensure_bucket(bucket)
    stand_in.ensure_bucket("samples-bucket")
    samples = (model_dir.parent / "pre" / "test" / contract.SMOKE_SAMPLES_FILE).read_bytes()
    stand_in.client("s3").put_object(Bucket="samples-bucket", Key="smoke-samples.json", Body=samples)
    model_file = tmp_path / "staging.json"
    model.write(model_file)
    # WHEN the model is served with the async route on the deployed config's paths, and the
    # deploy build's smoke test runs against it
    settings = AsyncSettings(output["S3OutputPath"], output["S3FailurePath"], name, s3=stand_in.client("s3"))
    with serve_in_thread(model_dir, async_inference=settings) as url:
        monkeypatch.setenv("AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME", url)
        argv = [
            "--model-file",
            str(model_file),
            "--endpoint",
            name,
            "--samples",
            "3",
            "--problem-type",
            "binary",
        ]
        code = smoke.main(argv)
    # THEN it passed through InvokeEndpointAsync, each result under the config's S3OutputPath
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"smoke test of async endpoint {name} (binary): 3 sample(s)" in out
    results = stand_in.list_prefix(output["S3OutputPath"])
    assert len(results) == 3
    assert stand_in.list_prefix(output["S3FailurePath"]) == []
    for _, name_below in results:
        assert name_below.endswith(".out")
        body = json.loads(stand_in.read_object(f"{output['S3OutputPath']}{name_below}"))
        assert len(body["predictions"]) == 1
