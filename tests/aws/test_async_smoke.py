"""release.smoke against an async endpoint: each sample put under ``async-inference/<endpoint>/input/``,
sent with InvokeEndpointAsync, its result polled at the answer's OutputLocation/FailureLocation; a
real-time endpoint (or one that cannot be described) is smoke-tested as before."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber
from moto import mock_aws
from serving_models import build_model

from contracts.approved_model import ApprovedModel
from emulator.local_aws import LocalAws, moto_server
from ml_code import contract
from ml_code.serving.async_invocations import AsyncSettings
from ml_code.serving.serve import serve_in_thread
from release import smoke
from release.invokers import AsyncWait, InvokeError, async_input_prefix, async_invoker

BUCKET = "artifacts"
ENDPOINT = "demo-staging"
PREFIX = f"s3://{BUCKET}/async-inference/{ENDPOINT}/"
ROLE = "arn:aws:iam::123456789012:role/model"


def create_endpoint(sagemaker: Any, name: str, *, asynchronous: bool) -> None:
    sagemaker.create_model(ModelName=f"{name}-m", ExecutionRoleArn=ROLE, PrimaryContainer={"Image": "i"})
    extra: dict[str, Any] = {}
    if asynchronous:
        output = {"S3OutputPath": f"{PREFIX}output/", "S3FailurePath": f"{PREFIX}failures/"}
        extra = {"AsyncInferenceConfig": {"OutputConfig": output}}
    variant = {"VariantName": "AllTraffic", "ModelName": f"{name}-m", "InstanceType": "ml.m5.large",
               "InitialInstanceCount": 1}  # fmt: skip
    sagemaker.create_endpoint_config(EndpointConfigName=f"{name}-c", ProductionVariants=[variant], **extra)
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=f"{name}-c")


@pytest.fixture
def moto(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        boto3.client("s3").create_bucket(Bucket=BUCKET)
        yield boto3.client("sagemaker")


def test_an_async_endpoints_callers_put_requests_under_its_input_folder(moto: Any) -> None:
    create_endpoint(moto, ENDPOINT, asynchronous=True)
    create_endpoint(moto, "demo-prod", asynchronous=False)
    assert async_input_prefix(moto, ENDPOINT) == f"{PREFIX}input/"
    assert async_input_prefix(moto, "demo-prod") is None
    assert async_input_prefix(moto, "no-such-endpoint") is None  # described or not, real time as before


class Runtime:
    """InvokeEndpointAsync's answer, and what the endpoint then writes (after ``polls`` looks)."""

    def __init__(self, s3: Any, write: str | None, body: bytes = b'{"predictions": []}') -> None:
        self.s3, self.write, self.body = s3, write, body
        self.sent: list[dict[str, Any]] = []

    def invoke_endpoint_async(self, **kwargs: Any) -> dict[str, Any]:
        self.sent.append(kwargs)
        locations = {"output": f"{PREFIX}output/x.out", "failure": f"{PREFIX}failures/x-error.out"}
        if self.write is not None:
            key = locations[self.write].removeprefix(f"s3://{BUCKET}/")
            self.s3.put_object(Bucket=BUCKET, Key=key, Body=self.body, ContentType="application/json")
        return {
            "InferenceId": "x",
            "OutputLocation": locations["output"],
            "FailureLocation": locations["failure"],
        }


def runtime_writing(s3: Any, write: str | None, body: bytes = b'{"predictions": []}') -> Any:
    """A :class:`Runtime`, typed as the boto3 client it stands in for."""
    return Runtime(s3, write, body)


def no_wait(timeout: float = 1.0) -> AsyncWait:
    ticks = iter(range(10_000))
    return AsyncWait(timeout=timeout, sleep=lambda _s: None, clock=lambda: float(next(ticks)))


def test_the_request_is_uploaded_then_sent_and_the_output_is_the_answer(moto: Any) -> None:
    s3 = boto3.client("s3")
    runtime = runtime_writing(s3, "output")
    result = async_invoker(runtime, s3, ENDPOINT, f"{PREFIX}input/", no_wait())(
        b'{"a": 1}', "application/json"
    )
    assert (result.status, result.body) == (200, b'{"predictions": []}')
    (sent,) = runtime.sent
    assert sent["InputLocation"].startswith(f"{PREFIX}input/")
    assert (sent["EndpointName"], sent["ContentType"], sent["Accept"]) == (ENDPOINT, "application/json",
                                                                             "application/json")  # fmt: skip
    key = sent["InputLocation"].removeprefix(f"s3://{BUCKET}/")
    assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == b'{"a": 1}'


def test_a_failure_object_is_a_500_naming_where_it_is(moto: Any) -> None:
    s3 = boto3.client("s3")
    runtime = runtime_writing(s3, "failure", b"row 0 has 6 values")
    result = async_invoker(runtime, s3, ENDPOINT, f"{PREFIX}input/", no_wait())(b"1,2", "text/csv")
    assert result.status == 500
    assert result.body == f"failed ({PREFIX}failures/x-error.out): row 0 has 6 values".encode()


def test_no_result_within_the_wait_is_an_invoke_error_naming_both_locations(moto: Any) -> None:
    s3 = boto3.client("s3")
    with pytest.raises(InvokeError, match=r"no result at .*output/x.out or .*x-error.out after 5 s"):
        async_invoker(runtime_writing(s3, None), s3, ENDPOINT, f"{PREFIX}input/", no_wait(5))(
            b"{}", "application/json"
        )


def test_the_request_fits_botocores_invoke_endpoint_async_shape() -> None:
    # GIVEN a real sagemaker-runtime client whose answer is stubbed: Stubber validates the request
    runtime = boto3.client("sagemaker-runtime", region_name="us-east-1", aws_access_key_id="x",
                           aws_secret_access_key="x")  # fmt: skip
    s3 = boto3.client("s3", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    reply = {"InferenceId": "x", "OutputLocation": f"{PREFIX}output/x.out"}
    with Stubber(runtime) as stub_runtime, Stubber(s3) as stub_s3:
        stub_s3.add_response("put_object", {})
        stub_runtime.add_response("invoke_endpoint_async", reply)
        body = StreamingBody(io.BytesIO(b"{}"), 2)
        stub_s3.add_response("get_object", {"Body": body, "ContentType": "application/json"})
        result = async_invoker(runtime, s3, ENDPOINT, f"{PREFIX}input/", no_wait())(b"{}", "application/json")
    assert result.status == 200


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    model: Path = build_model(tmp_path_factory.mktemp("binary"), "binary", rows=200)
    return model


@pytest.fixture
def stand_in(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalAws]:
    """The moto server as every client's AWS (fake credentials), the runtime aside."""
    with moto_server() as aws:
        for name, value in {"AWS_ACCESS_KEY_ID": "offline", "AWS_SECRET_ACCESS_KEY": "offline",
                            "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL_S3": aws.endpoint_url,
                            "AWS_ENDPOINT_URL_SAGEMAKER": aws.endpoint_url}.items():  # fmt: skip
            monkeypatch.setenv(name, value)
        aws.ensure_bucket(BUCKET)
        yield aws


def test_cli_smoke_tests_an_async_endpoint_through_the_local_servers_async_route(
    stand_in: LocalAws, model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    # GIVEN an async endpoint in the stand-in, its model served locally as sagemaker-runtime
    create_endpoint(stand_in.client("sagemaker"), ENDPOINT, asynchronous=True)
    samples = json.loads((model_dir.parent / "pre" / "test" / contract.SMOKE_SAMPLES_FILE).read_text())
    stand_in.client("s3").put_object(Bucket=BUCKET, Key="run/samples.json", Body=json.dumps(samples).encode())
    model_file = tmp_path / "staging.json"
    ApprovedModel(model_package_arn="arn:aws:sagemaker:us-east-1:123456789012:model-package/g/1",
                  model_package_group="g", version=1, image_uri="image", model_data_url=f"s3://{BUCKET}/m.tar.gz",
                  smoke_samples_uri=f"s3://{BUCKET}/run/samples.json").write(model_file)  # fmt: skip
    settings = AsyncSettings(f"{PREFIX}output/", f"{PREFIX}failures/", ENDPOINT, s3=stand_in.client("s3"))
    with serve_in_thread(model_dir, async_inference=settings) as url:
        monkeypatch.setenv("AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME", url)
        # WHEN the smoke test runs as the deploy build runs it
        argv = [
            "--model-file",
            str(model_file),
            "--endpoint",
            ENDPOINT,
            "--samples",
            "3",
            "--problem-type",
            "binary",
        ]
        code = smoke.main([*argv, "--async-wait-s", "60"])
    # THEN it passed through the async API, and the results are where the endpoint config says
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"smoke test of async endpoint {ENDPOINT} (binary): 3 sample(s)" in out
    listed = stand_in.list_prefix(f"{PREFIX}output/")
    assert len(listed) == 3
    assert all(key.endswith(".out") for key, _ in listed)
    assert len(stand_in.list_prefix(f"{PREFIX}input/")) == 3
