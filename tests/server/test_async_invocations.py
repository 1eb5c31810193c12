"""The local server's async route: boto3's ``invoke_endpoint_async`` against it, results in the
stand-in's S3 where SageMaker writes them (``<output path><id>.out``, ``<failure path><id>-error.out``)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from serving_models import build_model

from emulator.local_aws import LocalAws, moto_server
from ml_code import contract
from ml_code.serving import async_invocations
from ml_code.serving.async_invocations import AsyncSettings, RequestError, parse_request
from ml_code.serving.client import invoke
from ml_code.serving.serve import serve_in_thread

BUCKET = "artifacts"
ENDPOINT = "demo-staging"
OUTPUT = f"s3://{BUCKET}/async-inference/{ENDPOINT}/output/"
FAILURES = f"s3://{BUCKET}/async-inference/{ENDPOINT}/failures/"
SETTINGS = AsyncSettings(OUTPUT, FAILURES, endpoint_name=ENDPOINT)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    model: Path = build_model(tmp_path_factory.mktemp("binary"), "binary", rows=200)
    return model


@pytest.fixture(scope="module")
def record(model_dir: Path) -> dict[str, Any]:
    samples = json.loads((model_dir.parent / "pre" / "test" / contract.SMOKE_SAMPLES_FILE).read_text())
    first: dict[str, Any] = samples[0]
    return first


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAws]:
    with moto_server() as local:
        local.ensure_bucket(BUCKET)
        yield local


@pytest.fixture(scope="module")
def server(model_dir: Path, aws: LocalAws) -> Iterator[str]:
    settings = AsyncSettings(OUTPUT, FAILURES, endpoint_name=ENDPOINT, s3=aws.client("s3"))
    with serve_in_thread(model_dir, async_inference=settings) as url:
        yield url


@pytest.fixture(scope="module")
def runtime(server: str) -> Any:
    return boto3.client(
        "sagemaker-runtime", endpoint_url=server, region_name="us-east-1",
        aws_access_key_id="offline", aws_secret_access_key="offline",
    )  # fmt: skip


def wait_for(aws: LocalAws, *uris: str) -> dict[str, bytes]:
    """The objects among ``uris`` once one exists (the queue writes them soon after the 202)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = {}
        for uri in uris:
            try:
                found[uri] = aws.read_object(uri)
            except ClientError:
                continue
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"nothing written at {uris}")


def put(aws: LocalAws, key: str, body: bytes) -> str:
    aws.client("s3").put_object(Bucket=BUCKET, Key=key, Body=body)
    return f"s3://{BUCKET}/{key}"


def test_a_request_in_s3_is_answered_202_and_its_predictions_land_at_the_output_location(
    aws: LocalAws, runtime: Any, record: dict[str, Any]
) -> None:
    # GIVEN a JSON request uploaded where the async endpoint's callers put them
    location = put(
        aws, f"async-inference/{ENDPOINT}/input/one.json", json.dumps({"instances": [record]}).encode()
    )
    # WHEN it is sent through boto3's InvokeEndpointAsync with an inference id
    reply = runtime.invoke_endpoint_async(
        EndpointName=ENDPOINT, InputLocation=location, ContentType="application/json",
        Accept="application/json", InferenceId="req-1",
    )  # fmt: skip
    # THEN the answer names SageMaker's locations and the output holds one binary prediction
    assert reply["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert reply["InferenceId"] == "req-1"
    assert reply["OutputLocation"] == f"{OUTPUT}req-1.out"
    assert reply["FailureLocation"] == f"{FAILURES}req-1-error.out"
    found = wait_for(aws, reply["OutputLocation"], reply["FailureLocation"])
    assert list(found) == [reply["OutputLocation"]]
    predictions = json.loads(found[reply["OutputLocation"]])["predictions"]
    assert len(predictions) == 1
    assert set(predictions[0]) == {"predicted_label", "probability"}
    head = aws.client("s3").head_object(Bucket=BUCKET, Key=f"async-inference/{ENDPOINT}/output/req-1.out")
    assert head["ContentType"] == "application/json"


def test_an_inline_body_and_csv_accept_are_served_and_an_id_is_made_up(
    aws: LocalAws, runtime: Any, record: dict[str, Any]
) -> None:
    reply = runtime.invoke_endpoint_async(
        EndpointName=ENDPOINT, Body=json.dumps([record]).encode(), ContentType="application/json",
        Accept="text/csv",
    )  # fmt: skip
    inference_id = reply["InferenceId"]
    assert inference_id
    assert reply["OutputLocation"] == f"{OUTPUT}{inference_id}.out"
    body = wait_for(aws, reply["OutputLocation"])[reply["OutputLocation"]]
    _label, probability = body.decode().strip().split(",")
    assert 0.0 <= float(probability) <= 1.0


def test_a_request_the_model_refuses_writes_its_error_text_to_the_failure_location(
    aws: LocalAws, runtime: Any
) -> None:
    location = put(aws, f"async-inference/{ENDPOINT}/input/bad.csv", b"not,a,row,of,this,model\n")
    reply = runtime.invoke_endpoint_async(
        EndpointName=ENDPOINT, InputLocation=location, ContentType="text/csv", InferenceId="bad-1"
    )
    found = wait_for(aws, reply["OutputLocation"], reply["FailureLocation"])
    assert list(found) == [f"{FAILURES}bad-1-error.out"]
    # the handler's 400 text, as the container answered it
    assert found[reply["FailureLocation"]].startswith(b"row 0 has 6 values; expected 10")


def test_a_missing_input_object_fails_naming_it(aws: LocalAws, runtime: Any) -> None:
    missing = f"s3://{BUCKET}/async-inference/{ENDPOINT}/input/nothing.json"
    reply = runtime.invoke_endpoint_async(EndpointName=ENDPOINT, InputLocation=missing, InferenceId="gone")
    found = wait_for(aws, reply["OutputLocation"], reply["FailureLocation"])
    assert found[reply["FailureLocation"]].decode().startswith(f"cannot read {missing}")


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        (
            {"EndpointName": "someone-else", "InputLocation": f"s3://{BUCKET}/x"},
            "Endpoint someone-else not found",
        ),
        ({"EndpointName": ENDPOINT, "InputLocation": f"s3://{BUCKET}/x", "Body": b"{}"}, "exactly one"),
        ({"EndpointName": ENDPOINT}, "exactly one"),
        ({"EndpointName": ENDPOINT, "InputLocation": "https://example.com/x"}, "s3://"),
    ],
)
def test_requests_the_api_refuses_are_validation_errors(
    runtime: Any, kwargs: dict[str, Any], reason: str
) -> None:
    with pytest.raises(ClientError) as raised:
        runtime.invoke_endpoint_async(**kwargs)
    assert raised.value.response["Error"]["Code"] == "ValidationError"
    assert reason in raised.value.response["Error"]["Message"]
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_the_real_time_route_answers_as_before_beside_the_async_one(
    server: str, record: dict[str, Any]
) -> None:
    reply = invoke(server, json.dumps({"instances": [record]}).encode(), "application/json")
    assert reply.status == 200
    assert len(json.loads(reply.body)["predictions"]) == 1


def test_an_extension_and_a_filename_shape_the_locations() -> None:
    headers = {
        "x-amzn-sagemaker-inputlocation": f"s3://{BUCKET}/in.csv",
        "x-amzn-sagemaker-inference-id": "abc",
        "x-amzn-sagemaker-s3outputpathextension": "team/a",
        "x-amzn-sagemaker-filename": "scores.csv",
        "x-amzn-sagemaker-content-type": "text/csv",
    }
    request = parse_request(headers, b"", SETTINGS, "application/json")
    assert request.output_location == f"{OUTPUT}team/a/scores.csv"
    assert request.failure_location == f"{FAILURES}team/a/abc-error.out"
    assert (request.content_type, request.accept) == ("text/csv", "application/json")


def test_an_inline_body_over_the_api_limit_is_refused() -> None:
    with pytest.raises(RequestError, match="128000"):
        parse_request({}, b"x" * (async_invocations.MAX_INLINE_BYTES + 1), SETTINGS, "application/json")


def test_the_cli_reads_its_async_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert async_invocations.settings_from_env() is None
    monkeypatch.setenv(async_invocations.OUTPUT_ENV, OUTPUT)
    monkeypatch.setenv(async_invocations.FAILURE_ENV, FAILURES)
    monkeypatch.setenv(async_invocations.ENDPOINT_ENV, ENDPOINT)
    assert async_invocations.settings_from_env() == SETTINGS
