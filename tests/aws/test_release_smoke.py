"""release.smoke: a real local model server passes; 5xx, wrong schema, slow and moto's canned
endpoint fail, each naming the check and the sample."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.response import StreamingBody
from botocore.stub import Stubber
from moto import mock_aws
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.sagemaker.models import sagemaker_backends
from moto.sagemakerruntime.models import sagemakerruntime_backends
from moto.sts.models import sts_backends
from serving_models import build_model

from contracts.approved_model import ApprovedModel
from contracts.config import load_config
from contracts.names import endpoint_name
from contracts.prediction_schema import prediction_problem
from ml_code import contract
from ml_code.serving.serve import serve_in_thread
from release import smoke, stage_role
from release.invokers import InvokeError, Invoker, InvokeResult, endpoint_invoker, url_invoker
from release.smoke_report import p95

BUCKET = "artifacts"
SAMPLES_KEY = "run/test/smoke-samples.json"
OK = json.dumps({"predictions": [{"predicted_label": "yes", "probability": 0.25}]}).encode()


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    model: Path = build_model(tmp_path_factory.mktemp("binary"), "binary")
    return model


@pytest.fixture(scope="module")
def samples(model_dir: Path) -> list[dict[str, Any]]:
    """The samples preprocess wrote next to the test split of this model's run."""
    data: list[dict[str, Any]] = json.loads(
        (model_dir.parent / "pre" / "test" / contract.SMOKE_SAMPLES_FILE).read_text()
    )
    return data


def canned(status: int = 200, body: bytes = OK, latency_ms: float = 5.0) -> Invoker:
    def invoke(_body: bytes, _content_type: str) -> InvokeResult:
        return InvokeResult(status, body, "application/json", latency_ms)

    return invoke


def test_a_real_local_model_server_passes(model_dir: Path, samples: list[dict[str, Any]]) -> None:
    with serve_in_thread(model_dir) as url:
        report = smoke.run_smoke(
            url_invoker(url), samples[:10], max_latency_ms=60_000, target=url, problem_type="binary"
        )
    assert report.passed, report.summary()
    assert report.samples == 10
    assert len(report.latencies_ms) == 10
    assert "PASSED" in report.summary()


@pytest.mark.parametrize("problem_type", ["multiclass", "regression"])
def test_every_problem_types_output_passes_the_schema(tmp_path: Path, problem_type: str) -> None:
    model = build_model(tmp_path, problem_type, rows=200)
    records = json.loads((tmp_path / "pre" / "test" / contract.SMOKE_SAMPLES_FILE).read_text())
    with serve_in_thread(model) as url:
        report = smoke.run_smoke(
            url_invoker(url), records[:3], max_latency_ms=60_000, problem_type=problem_type
        )
    assert report.passed, report.summary()


def test_server_errors_fail_the_status_check_naming_the_sample() -> None:
    report = smoke.run_smoke(canned(503, b"overloaded"), [{"a": 1}, {"a": 2}], max_latency_ms=1000)
    assert not report.passed
    assert [(f.check, f.sample) for f in report.failures] == [("status", 0), ("status", 1)]
    assert str(report.failures[0]) == "status check failed for sample 0: HTTP 503: overloaded"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"predictions": [{"label": 1}]}', "unexpected keys"),
        (b'{"predictions": [{"predicted_label": 1, "probability": 1.5}]}', "not in [0, 1]"),
        (b'{"predictions": []}', "one record"),
        (b'{"predictions": [{"score": 1}, {"score": 2}]}', "one record"),
        (b"0.3\n", "one record"),
        (b"yes,0.3\n", "not JSON"),
    ],
)
def test_wrong_schema_fails_the_schema_check(body: bytes, reason: str) -> None:
    report = smoke.run_smoke(canned(body=body), [{"a": 1}], max_latency_ms=1000)
    assert [(f.check, f.sample) for f in report.failures] == [("schema", 0)]
    assert reason in report.failures[0].detail


def test_slow_responses_fail_the_latency_check() -> None:
    # GIVEN 19 fast answers and 1 slow one the p95 ignores, then a second slow one it does not
    fast = [5.0] * 18
    latencies = iter([*fast, 900.0, 2500.0])

    def invoke(_body: bytes, _content_type: str) -> InvokeResult:
        return InvokeResult(200, OK, "application/json", next(latencies))

    report = smoke.run_smoke(invoke, [{"a": i} for i in range(20)], max_latency_ms=800)
    assert report.p95_ms == 900.0
    assert [f.check for f in report.failures] == ["latency"]
    assert "p95 900.0 ms > bound 800 ms (slowest: sample 19, 2500.0 ms)" in str(report.failures[0])


def test_p95_is_the_nearest_rank() -> None:
    assert p95([float(i) for i in range(1, 101)]) == 95.0
    assert p95([3.0]) == 3.0


def test_an_unreachable_server_is_a_setup_error() -> None:
    with pytest.raises(smoke.SmokeSetupError, match="cannot reach"):
        smoke.run_smoke(url_invoker("http://127.0.0.1:9", timeout=2), [{"a": 1}], max_latency_ms=1000)


@pytest.mark.parametrize(
    ("record", "ok"),
    [
        ({"score": 3.5}, True),
        ({"score": float("nan")}, False),
        ({"predicted_label": "b", "probabilities": {"a": 0.25, "b": 0.75}}, True),
        ({"predicted_label": "c", "probabilities": {"a": 0.25, "b": 0.75}}, False),
        ({"predicted_label": "a", "probabilities": {"a": 0.5, "b": 0.75}}, False),
        ({"predicted_label": True, "probability": 0.9}, True),
        ({"predicted_label": None, "probability": 0.9}, False),
        ([0.3], False),
    ],
)
def test_prediction_schema(record: Any, ok: bool) -> None:
    assert (prediction_problem(record) is None) is ok


# ----------------------------------------------------------------- SageMaker endpoint, under moto
def approved_model_file(path: Path, metadata: dict[str, str]) -> Path:
    """Register a version with ``metadata`` in (moto's) registry; write its approved-model file."""
    sagemaker = boto3.client("sagemaker")
    sagemaker.create_model_package_group(ModelPackageGroupName="g")
    arn = sagemaker.create_model_package(
        ModelPackageGroupName="g",
        ModelApprovalStatus="Approved",
        InferenceSpecification={
            "Containers": [{"Image": "image", "ModelDataUrl": f"s3://{BUCKET}/run/model.tar.gz"}],
            "SupportedContentTypes": ["application/json"], "SupportedResponseMIMETypes": ["application/json"],
        },
        CustomerMetadataProperties=metadata,
    )["ModelPackageArn"]  # fmt: skip
    ApprovedModel(
        model_package_arn=arn,
        model_package_group="g",
        version=1,
        image_uri="image",
        model_data_url=f"s3://{BUCKET}/run/model.tar.gz",
        smoke_samples_uri=f"s3://{BUCKET}/{SAMPLES_KEY}",
    ).write(path)
    return path


@pytest.fixture
def moto(samples: list[dict[str, Any]]) -> Iterator[None]:
    """moto with the binary model's samples in S3."""
    with mock_aws():
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key=SAMPLES_KEY, Body=json.dumps(samples).encode())
        yield


@pytest.fixture
def aws(moto: None, tmp_path: Path) -> Path:
    """The approved-model file of a registered binary version whose samples are in S3."""
    return approved_model_file(tmp_path / "staging.json", {"ProblemType": "binary"})


def test_moto_endpoint_canned_body_fails_the_schema_check(
    aws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # moto's InvokeEndpoint answers every request with the static body "body": not a prediction
    code = smoke.main(["--model-file", str(aws), "--endpoint", "demo-staging", "--samples", "3"])
    out = capsys.readouterr().out
    assert code == 1
    assert "FAILED (3 failure(s))" in out
    assert "schema check failed for sample 0: body is not JSON: b'body'" in out


def test_samples_are_loaded_from_the_model_versions_uri(aws: Path, samples: list[dict[str, Any]]) -> None:
    loaded = smoke.load_samples(boto3.client("s3"), f"s3://{BUCKET}/{SAMPLES_KEY}", 5)
    assert loaded == samples[:5]


def test_missing_samples_exit_2(aws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    boto3.client("s3").delete_object(Bucket=BUCKET, Key=SAMPLES_KEY)
    assert smoke.main(["--model-file", str(aws), "--endpoint", "demo-staging"]) == 2
    assert "cannot read smoke samples" in capsys.readouterr().err


def test_a_model_error_keeps_the_containers_status() -> None:
    class Runtime:
        def invoke_endpoint(self, **_: Any) -> Any:
            error = {"Error": {"Code": "ModelError", "Message": "boom"}, "OriginalStatusCode": 500,
                     "OriginalMessage": "predict failed"}  # fmt: skip
            raise ClientError(error, "InvokeEndpoint")

    result = endpoint_invoker(Runtime(), "e")(b"{}", "application/json")
    assert (result.status, result.body) == (500, b"predict failed")


def test_a_missing_endpoint_is_an_invoke_error() -> None:
    class Runtime:
        def invoke_endpoint(self, **_: Any) -> Any:
            raise ClientError({"Error": {"Code": "ValidationError", "Message": "no such endpoint"}}, "Invoke")

    with pytest.raises(InvokeError, match="ValidationError: no such endpoint"):
        endpoint_invoker(Runtime(), "e")(b"{}", "application/json")


def test_cli_against_a_local_model_server_passes(
    aws: Path, model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN the model served locally and its approved-model file pointing at its own samples (moto S3)
    with serve_in_thread(model_dir) as url:
        code = smoke.main(
            ["--model-file", str(aws), "--url", url, "--samples", "5", "--max-latency-ms", "60000"]
        )
    assert code == 0, capsys.readouterr()
    assert f"smoke test of {url} (binary): 5 sample(s)" in capsys.readouterr().out


def test_cli_checks_the_problem_type_recorded_with_the_version(
    moto: None, tmp_path: Path, model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN the binary model served, but its version recorded as a regression model
    model_file = approved_model_file(tmp_path / "staging.json", {"ProblemType": "regression"})
    with serve_in_thread(model_dir) as url:
        code = smoke.main(["--model-file", str(model_file), "--url", url, "--samples", "2"])
    out = capsys.readouterr().out
    assert code == 1
    assert "(regression): 2 sample(s)" in out
    assert "schema check failed for sample 0: a binary prediction" in out
    assert "from a regression model" in out


def test_cli_problem_type_flag_wins_and_unrecorded_type_compares_shapes(
    moto: None, tmp_path: Path, model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model_file = approved_model_file(tmp_path / "staging.json", {})
    with serve_in_thread(model_dir) as url:
        unrecorded = smoke.main(["--model-file", str(model_file), "--url", url, "--samples", "2"])
        assert "(problem type not recorded): 2 sample(s)" in capsys.readouterr().out
        flagged = ["--model-file", str(model_file), "--url", url, "--samples", "2", "--problem-type"]
        assert smoke.main([*flagged, "binary"]) == 0
        assert smoke.main([*flagged, "multiclass"]) == 1
    assert unrecorded == 0


def test_cli_with_a_deleted_version_exits_2(aws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    arn = ApprovedModel.read(aws).model_package_arn
    sagemaker_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].model_packages.pop(arn)
    assert smoke.main(["--model-file", str(aws), "--url", "http://127.0.0.1:9"]) == 2
    assert f"release.smoke: {arn}: cannot describe it" in capsys.readouterr().err


# ----------------------------------------------------------------- checks across predictions
def sequence(*bodies: dict[str, Any]) -> Invoker:
    replies = iter(bodies)

    def invoke(_body: bytes, _content_type: str) -> InvokeResult:
        return InvokeResult(200, json.dumps({"predictions": [next(replies)]}).encode(), "", 1.0)

    return invoke


def test_a_model_answering_in_two_shapes_fails_without_a_recorded_type() -> None:
    invoker = sequence({"score": 1.5}, {"predicted_label": "a", "probability": 0.2})
    report = smoke.run_smoke(invoker, [{"a": 1}, {"a": 2}], max_latency_ms=1000)
    assert [(f.check, f.sample) for f in report.failures] == [("schema", 1)]
    assert "a binary prediction" in report.failures[0].detail


def test_binary_labels_must_follow_the_probability() -> None:
    invoker = sequence(
        {"predicted_label": "yes", "probability": 0.9},
        {"predicted_label": "no", "probability": 0.1},
        {"predicted_label": "no", "probability": 0.7},  # the other label above 0.5
        {"predicted_label": "yes", "probability": 0.2},  # the same label on both sides
    )
    report = smoke.run_smoke(
        invoker, [{"a": i} for i in range(4)], max_latency_ms=1000, problem_type="binary"
    )
    assert [f.sample for f in report.failures] == [2, 3]
    assert "'no' at probability >= 0.5, 'yes' for sample 0" in report.failures[0].detail
    assert "'yes' at probability < 0.5, 'no' for sample 1" in report.failures[1].detail


def test_an_unknown_problem_type_cannot_run() -> None:
    with pytest.raises(smoke.SmokeSetupError, match="'ranking' is not one of"):
        smoke.run_smoke(canned(), [{"a": 1}], max_latency_ms=1000, problem_type="ranking")


@pytest.mark.parametrize(
    ("record", "expected", "problem"),
    [
        ({"score": 2.0}, "regression", None),
        ({"score": 2.0}, "binary", "a regression prediction"),
        ({"predicted_label": "a", "probabilities": {"a": 0.25, "b": 0.75}}, "multiclass", "most probable"),
        ({"predicted_label": "a", "probabilities": {"a": 0.5, "b": 0.5}}, "multiclass", None),
    ],
)
def test_prediction_against_the_expected_problem_type(
    record: dict[str, Any], expected: str, problem: str | None
) -> None:
    found = prediction_problem(record, expected)
    assert found is None if problem is None else problem in str(found)


# ----------------------------------------------------------------- a stage from cdk.json (make promote)
@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "cdk.json").write_text(Path("cdk.json").read_text())
    return tmp_path


def test_a_stage_brings_its_endpoint_model_file_and_bounds_from_config(project: Path) -> None:
    args = smoke.parse_args(["--env", "dev", "--stage", "prod"], project)
    config = load_config(json.loads((project / "cdk.json").read_text())["context"], "dev")
    prod = config.env.stage("prod")
    assert args.endpoint == endpoint_name(config.prefix, "prod")
    assert args.model_file == project / prod.model_file
    assert (args.samples, args.max_latency_ms) == (prod.smoke_test.samples, prod.smoke_test.max_latency_ms)
    explicit = smoke.parse_args(["--env", "dev", "--stage", "prod", "--samples", "3"], project)
    assert explicit.samples == 3


def test_an_additional_use_cases_stage_brings_its_own_endpoint_and_model_file(project: Path) -> None:
    cdk_json = json.loads((project / "cdk.json").read_text())
    cdk_json["context"]["environments"]["dev"]["useCases"] = {
        "fraud": {"targetColumn": "is_fraud", "problemType": "binary"}
    }
    (project / "cdk.json").write_text(json.dumps(cdk_json))
    args = smoke.parse_args(["--env", "dev", "--stage", "prod", "--use-case", "fraud"], project)
    assert args.endpoint == "mlops-demo-dev-fraud-prod"
    assert args.model_file == project / ".build/release/dev-fraud-prod.json"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--stage", "prod"], "--env and --stage go together"),
        (["--endpoint", "e"], "--model-file is required"),
        (["--endpoint", "e", "--model-file", "m.json", "--samples", "0"], "expected a number > 0"),
        (["--url", "u", "--model-file", "m.json", "--role-arn", "r"], "--role-arn goes with --endpoint"),
        (["--endpoint", "e", "--model-file", "m.json", "--use-case", "f"], "--use-case goes with --env"),
    ],
)
def test_incomplete_arguments_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        smoke.parse_args(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_an_unknown_stage_exits_2(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert smoke.main(["--env", "dev", "--stage", "qa"], project) == 2
    assert capsys.readouterr().err.startswith("release.smoke: unknown stage 'qa'")


def test_a_stage_without_a_resolved_model_file_exits_2(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert smoke.main(["--env", "dev", "--stage", "staging"], project) == 2
    assert "dev-staging.json: no approved-model file" in capsys.readouterr().err


def test_an_endpoint_reply_reaches_the_smoke_test_as_sent() -> None:
    # GIVEN a sagemaker-runtime client whose InvokeEndpoint is stubbed: botocore's Stubber checks
    # the request against the service model, so the parameters must be exactly what AWS accepts
    runtime = boto3.client("sagemaker-runtime", region_name="us-east-1")
    body = b'[{"predicted_label": 1, "probability": 0.9}]'
    with Stubber(runtime) as stub:
        stub.add_response(
            "invoke_endpoint",
            {"Body": StreamingBody(io.BytesIO(body), len(body)), "ContentType": "application/json"},
            {"EndpointName": "mlops-demo-dev-prod", "Body": b"[{}]", "ContentType": "application/json",
             "Accept": "application/json"},
        )  # fmt: skip
        # WHEN the smoke test's endpoint invoker sends one sample
        result = endpoint_invoker(runtime, "mlops-demo-dev-prod")(b"[{}]", "application/json")
        stub.assert_no_pending_responses()
    # THEN the reply is the endpoint's own status, body and content type, timed
    assert (result.status, result.body, result.content_type) == (200, body, "application/json")
    assert result.latency_ms >= 0


# ----------------------------------------------------------------- a stage in another account
STAGE_ACCOUNT = "222222222222"
STAGE_ENDPOINT = "mlops-demo-dev-staging"
SMOKE_ROLE = f"arn:aws:iam::{STAGE_ACCOUNT}:role/mlops-demo-dev-staging-smoke"


def _stage_endpoint_answers(account: str, count: int) -> None:
    """``account``'s endpoint answers the next ``count`` distinct requests with a valid prediction.

    moto keys sagemaker-runtime state by account: only a caller acting in ``account`` gets these.
    """
    backend = sagemakerruntime_backends[account]["us-east-1"]
    backend.results_queue.extend([(OK.decode(), "application/json", "AllTraffic", "")] * count)


def _invoked(account: str) -> int:
    """How many distinct requests ``account``'s sagemaker-runtime answered (moto records no endpoint name)."""
    return sum(len(answered) for answered in sagemakerruntime_backends[account]["us-east-1"].results.values())


def test_through_the_stage_role_the_smoke_test_reaches_the_stage_accounts_endpoint(
    aws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN samples and the registry in the tooling (caller's) account, and the endpoint in the
    # stage account answering valid predictions
    _stage_endpoint_answers(STAGE_ACCOUNT, 3)
    argv = ["--model-file", str(aws), "--endpoint", STAGE_ENDPOINT, "--samples", "3"]
    # WHEN the smoke test runs through the stage's smoke role
    code = smoke.main([*argv, "--role-arn", SMOKE_ROLE])
    # THEN it passes: every request reached the stage account's endpoint, none the caller's account
    assert code == 0, capsys.readouterr()
    assert f"smoke test of endpoint {STAGE_ENDPOINT} (binary): 3 sample(s)" in capsys.readouterr().out
    assert (_invoked(STAGE_ACCOUNT), _invoked(DEFAULT_ACCOUNT_ID)) == (3, 0)
    # ... as one session of the smoke role, named after the stage's endpoint
    (session,) = sts_backends[STAGE_ACCOUNT]["aws"].assumed_roles
    assert (session.role_arn, session.session_name) == (SMOKE_ROLE, f"smoke-{STAGE_ENDPOINT}")


def test_without_the_role_the_stage_accounts_endpoint_is_out_of_reach(
    aws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN the same stage endpoint WHEN the smoke test runs with the caller's own credentials
    _stage_endpoint_answers(STAGE_ACCOUNT, 3)
    code = smoke.main(["--model-file", str(aws), "--endpoint", STAGE_ENDPOINT, "--samples", "3"])
    # THEN it reached the caller's account (moto's canned non-prediction there), not the stage's
    assert code == 1
    assert "schema check failed for sample 0: body is not JSON" in capsys.readouterr().out
    assert (_invoked(STAGE_ACCOUNT), _invoked(DEFAULT_ACCOUNT_ID)) == (0, 3)
    assert not sts_backends[STAGE_ACCOUNT]["aws"].assumed_roles


def test_a_role_the_caller_may_not_assume_exits_2_naming_it(
    aws: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN STS refusing (the smoke role trusts only the stage's deploy role); botocore's Stubber
    # checks the request against the STS service model
    sts = boto3.client("sts")
    stub = Stubber(sts)
    stub.add_client_error(
        "assume_role",
        "AccessDenied",
        "not authorized to perform: sts:AssumeRole",
        expected_params={"RoleArn": SMOKE_ROLE, "RoleSessionName": f"smoke-{STAGE_ENDPOINT}"},
    )
    real_client = boto3.client
    monkeypatch.setattr(
        boto3, "client", lambda service, **kw: sts if service == "sts" else real_client(service, **kw)
    )
    with stub:
        code = smoke.main(["--model-file", str(aws), "--endpoint", STAGE_ENDPOINT, "--role-arn", SMOKE_ROLE])
        stub.assert_no_pending_responses()
    # THEN the test cannot run, and says which role it could not assume
    assert code == 2
    assert f"release.smoke: cannot assume {SMOKE_ROLE}: " in capsys.readouterr().err
    assert _invoked(STAGE_ACCOUNT) == 0


def test_a_session_name_fits_sts(aws: Path) -> None:
    assert stage_role.session_name(STAGE_ENDPOINT) == "smoke-mlops-demo-dev-staging"
    assert len(stage_role.session_name("e" * 63)) == stage_role.MAX_SESSION_NAME


@pytest.fixture
def multi_account_project(tmp_path: Path) -> Path:
    """This repository's cdk.json with staging in another account (tooling account and region set)."""
    document = json.loads(Path("cdk.json").read_text())
    env = document["context"]["environments"]["dev"]
    env.update({"account": "111111111111", "region": "eu-west-1"})
    env.setdefault("endpoints", {}).setdefault("staging", {})["account"] = STAGE_ACCOUNT
    (tmp_path / "cdk.json").write_text(json.dumps(document))
    return tmp_path


def test_a_stage_in_another_account_brings_its_smoke_role_from_config(multi_account_project: Path) -> None:
    # `make promote` runs `release.smoke --env ENV --stage STAGE`: the role comes from the config
    staging = smoke.parse_args(["--env", "dev", "--stage", "staging"], multi_account_project)
    assert (staging.endpoint, staging.role_arn, staging.region) == (STAGE_ENDPOINT, SMOKE_ROLE, "eu-west-1")
    # ... a stage in the tooling account is invoked with the caller's own credentials, as before
    prod = smoke.parse_args(["--env", "dev", "--stage", "prod"], multi_account_project)
    assert (prod.role_arn, prod.region) == (None, None)
    # ... and a role given on the command line wins
    mine = f"arn:aws:iam::{STAGE_ACCOUNT}:role/mine"
    given = smoke.parse_args(
        ["--env", "dev", "--stage", "staging", "--role-arn", mine], multi_account_project
    )
    assert given.role_arn == mine


def test_the_smoke_role_is_named_in_the_regions_partition(multi_account_project: Path) -> None:
    document = json.loads((multi_account_project / "cdk.json").read_text())
    document["context"]["environments"]["dev"]["region"] = "cn-north-1"
    (multi_account_project / "cdk.json").write_text(json.dumps(document))
    staging = smoke.parse_args(["--env", "dev", "--stage", "staging"], multi_account_project)
    assert staging.role_arn == SMOKE_ROLE.replace("arn:aws:", "arn:aws-cn:")
