"""The MLflow REST client without a server: SigV4 signing, error messages, retries, batch limits,
artifact stores (the calls against a real server: test_track.py)."""

from __future__ import annotations

import io
import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.credentials import Credentials
from moto import mock_aws

from ml_code.errors import DataValidationError
from ml_code.tracking import artifacts, runs
from ml_code.tracking.client import MlflowRest, TrackingError
from ml_code.tracking.runs import Metric
from ml_code.tracking.sigv4 import ARN_HEADER, ServerArn, SigV4Signer

ARN = "arn:aws:sagemaker:eu-west-1:123456789012:mlflow-tracking-server/mlops-dev-mlflow"


class Answer(io.BytesIO):
    """What urlopen returns (a context manager with read())."""

    status = 200


class Opener:
    """Records each request instead of sending it; answers from a list (an exception is raised)."""

    def __init__(self, *answers: Any) -> None:
        self.requests: list[urllib.request.Request] = []
        self.answers = list(answers)

    def __call__(self, request: urllib.request.Request, timeout: float) -> Answer:
        self.requests.append(request)
        answer = self.answers.pop(0) if self.answers else {}
        if isinstance(answer, Exception):
            raise answer
        return Answer(json.dumps(answer).encode())


def http_error(status: int, body: bytes) -> urllib.error.HTTPError:
    return urllib.error.HTTPError("http://x", status, "error", {}, io.BytesIO(body))  # type: ignore[arg-type]


def test_a_sagemaker_server_gets_signed_requests_at_its_regional_endpoint() -> None:
    # GIVEN the tracking server's ARN and (fake) job credentials
    server = ServerArn.parse(ARN)
    signer = SigV4Signer(server.region, Credentials("AKIDEXAMPLE", "secret", "session-token"))
    opener = Opener({"experiment": {"experiment_id": "7"}})
    rest = MlflowRest(server.url, ARN, signer, opener=opener)

    # WHEN a call is made
    rest.call("GET", "experiments/get-by-name", query={"experiment_name": "my pipeline"})

    # THEN it goes to the experiments endpoint of the ARN's region, SigV4-signed for sagemaker-mlflow
    (request,) = opener.requests
    assert request.full_url == (
        "https://eu-west-1.experiments.sagemaker.aws/api/2.0/mlflow/experiments/get-by-name"
        "?experiment_name=my%20pipeline"
    )
    headers = {name.lower(): value for name, value in request.header_items()}
    authorization = headers["authorization"]
    assert authorization.startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/eu-west-1/sagemaker-mlflow/aws4_request" in authorization
    assert ARN_HEADER in authorization.split("SignedHeaders=")[1].split(",")[0].split(";")
    assert headers[ARN_HEADER] == ARN
    assert headers["x-amz-security-token"] == "session-token"
    assert (
        headers["x-amz-content-sha256"] == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )


def test_a_signed_body_carries_its_hash() -> None:
    signer = SigV4Signer("eu-west-1", Credentials("AKIDEXAMPLE", "secret"))
    opener = Opener({"experiment_id": "1"})
    MlflowRest(ServerArn.parse(ARN).url, ARN, signer, opener=opener).call(
        "POST", "experiments/create", {"name": "p"}
    )
    headers = {name.lower(): value for name, value in opener.requests[0].header_items()}
    assert opener.requests[0].data == b'{"name": "p"}'
    assert (
        headers["x-amz-content-sha256"] != "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )
    assert "x-amz-content-sha256" in headers["authorization"]


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:sagemaker:eu-west-1:1:pipeline/p",
        "mlops-dev-mlflow",
        "arn:aws-cn:sagemaker:cn-north-1:1:mlflow-tracking-server/x",
    ],
)
def test_a_wrong_server_arn_is_named(arn: str) -> None:
    with pytest.raises(DataValidationError, match="arn"):
        ServerArn.parse(arn)


def test_an_mlflow_error_names_the_call_the_status_and_mlflows_words() -> None:
    body = json.dumps(
        {"error_code": "INVALID_PARAMETER_VALUE", "message": "Changing param values is not allowed"}
    )
    rest = MlflowRest("http://127.0.0.1:5000", ARN, opener=Opener(http_error(400, body.encode())))
    with pytest.raises(TrackingError) as caught:
        rest.call("POST", "runs/log-batch", {"run_id": "r"})
    assert str(caught.value) == (
        "MLflow runs/log-batch at http://127.0.0.1:5000: HTTP 400 INVALID_PARAMETER_VALUE: "
        "Changing param values is not allowed"
    )


def test_a_busy_server_is_tried_again_and_a_4xx_is_not() -> None:
    opener = Opener(http_error(503, b"<html>busy</html>"), {"experiment_id": "3"})
    rest = MlflowRest("http://127.0.0.1:5000", ARN, opener=opener, backoff=0)
    assert rest.call("POST", "experiments/create", {"name": "p"}) == {"experiment_id": "3"}
    assert len(opener.requests) == 2

    refusing = Opener(http_error(403, b"Forbidden"), {})
    with pytest.raises(TrackingError, match=r"HTTP 403: Forbidden"):
        MlflowRest("http://127.0.0.1:5000", ARN, opener=refusing, backoff=0).call("GET", "experiments/search")
    assert len(refusing.requests) == 1


def test_an_unreachable_server_fails_after_the_retries_naming_the_call() -> None:
    opener = Opener(*[urllib.error.URLError(ConnectionRefusedError(111, "Connection refused"))] * 3)
    rest = MlflowRest("http://127.0.0.1:9", ARN, opener=opener, retries=2, backoff=0)
    with pytest.raises(
        TrackingError,
        match=r"MLflow runs/create at http://127.0.0.1:9: cannot reach the server .*"
        r"Connection refused.* \(gave up after 3 attempts\)",
    ):
        rest.call("POST", "runs/create", {})
    assert len(opener.requests) == 3


def test_batches_keep_within_mlflows_limits_and_log_everything_once() -> None:
    metrics = [Metric(f"m{i}", float(i), i) for i in range(2500)]
    params = {f"p{i}": str(i) for i in range(250)}
    tags = {f"t{i}": str(i) for i in range(150)}
    batches = list(runs.batches(metrics, params, tags))
    for some_metrics, some_params, some_tags in batches:
        assert len(some_metrics) <= runs.MAX_METRICS
        assert len(some_params) <= runs.MAX_PARAMS
        assert len(some_tags) <= runs.MAX_TAGS
        assert len(some_metrics) + len(some_params) + len(some_tags) <= runs.MAX_ENTITIES
    assert [m for b in batches for m in b[0]] == metrics
    assert dict(p for b in batches for p in b[1]) == params
    assert dict(t for b in batches for t in b[2]) == tags
    assert len(batches) == 3  # (100 p + 100 t + 800 m), (100 p + 50 t + 850 m), (50 p + 850 m)


def test_artifacts_go_to_the_runs_s3_store_under_its_prefix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a run whose artifact store is S3 (a SageMaker tracking server's), in moto
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "eu-west-1"}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    (tmp_path / "evaluation.json").write_text("{}")
    opener = Opener()
    rest = MlflowRest("https://eu-west-1.experiments.sagemaker.aws", ARN, opener=opener)
    with mock_aws():
        s3 = boto3.client("s3", region_name="eu-west-1")
        s3.create_bucket(
            Bucket="mlops-dev-artifacts", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )

        # WHEN the files are uploaded
        uri = "s3://mlops-dev-artifacts/mlflow/7/abc/artifacts"
        artifacts.upload(rest, uri, {"evaluation/evaluation.json": tmp_path / "evaluation.json"})

        # THEN each is an object under the run's prefix; a missing bucket is a TrackingError naming it
        listed = s3.list_objects_v2(Bucket="mlops-dev-artifacts")["Contents"]
        assert [o["Key"] for o in listed] == ["mlflow/7/abc/artifacts/evaluation/evaluation.json"]
        with pytest.raises(TrackingError, match=r"S3 PutObject s3://gone/x/a: HTTP 404 NoSuchBucket"):
            artifacts.upload(rest, "s3://gone/x", {"a": tmp_path / "evaluation.json"})
    assert not opener.requests  # nothing went to the tracking server


def test_artifacts_go_to_a_local_server_by_http_put(tmp_path: Path) -> None:
    (tmp_path / "roc.png").write_bytes(b"\x89PNG")
    opener = Opener()
    rest = MlflowRest("http://127.0.0.1:5000", ARN, opener=opener)
    artifacts.upload(
        rest, "mlflow-artifacts:/1/abc/artifacts", {"evaluation/roc curve.png": tmp_path / "roc.png"}
    )
    (request,) = opener.requests
    assert request.get_method() == "PUT"
    assert request.full_url == (
        "http://127.0.0.1:5000/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/evaluation/roc%20curve.png"
    )
    assert request.data == b"\x89PNG"
    assert request.get_header("Content-type") == "image/png"


def test_an_unknown_artifact_store_is_named(tmp_path: Path) -> None:
    rest = MlflowRest("http://127.0.0.1:5000", ARN, opener=Opener())
    with pytest.raises(TrackingError, match="file:///tmp/store"):
        artifacts.upload(rest, "file:///tmp/store", {"a": tmp_path})
