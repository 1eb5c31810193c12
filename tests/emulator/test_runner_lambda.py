"""Lambda steps: the runner calls the synthesized function's own code against a moto server.

The fixture is a tiny cloud assembly on ``tmp_path`` in the shapes CDK writes: a template with
``AWS::Lambda::Function`` resources whose code is a CDK asset folder (``asset.<hash>``, named in
``*.assets.json``), and a hand-written pipeline definition whose ``FunctionArn`` is the resolved
``Fn::GetAtt … Arn``, as in the synthesized drift-check pipeline.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from emulator.cfn import Assembly
from emulator.lambdas import LocalFunction, function_by_id, functions_from, invoke
from emulator.local_aws import LocalAws, moto_server
from emulator.runner import RunResult, run_pipeline

BUCKET = "lambda-steps"
ASSETS_BUCKET = "cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}"

#: The asset folder: a handler module that imports a sibling, reads S3, and reads its environment.
CHECKER = """
import json, os
import boto3
import helper

SEEN = ("THRESHOLD", "BUCKET", "AWS_ENDPOINT_URL", "AWS_REGION")
CALLS = []  # module state: a fresh module per call keeps this at one entry

def prepare(event, context):
    body = json.dumps({"violations": event["violations"]})
    boto3.client("s3").put_object(Bucket=os.environ["BUCKET"], Key="report.json", Body=body)
    return {}

def handler(event, context):
    CALLS.append(event)
    print("checking", event["report_uri"])
    if event.get("explode"):
        raise RuntimeError("the report is unreadable")
    bucket, key = event["report_uri"][len("s3://"):].split("/", 1)
    report = json.loads(boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())
    return {
        "violations": report["violations"], "label": helper.label(report), "calls": len(CALLS),
        "env": json.dumps({k: os.environ.get(k) for k in SEEN}),
        "function": context.function_name,
    }

def echo(event, context):
    return {"seen": json.dumps(event, sort_keys=True)}

def bad_type(event, context):
    return {"violations": "many"}
"""
HELPER = "def label(report):\n    return 'drifted' if report['violations'] else 'steady'\n"


def _function(handler: str, **extra: Any) -> dict[str, Any]:
    props = {
        "Code": {"S3Bucket": {"Fn::Sub": ASSETS_BUCKET}, "S3Key": "abc123.zip"},
        "Handler": handler,
        "Runtime": "python3.13",
        "Role": {"Fn::GetAtt": ["Role", "Arn"]},
        "Environment": {"Variables": {"THRESHOLD": "1", "BUCKET": {"Ref": "Reports"}}},
    }
    return {"Type": "AWS::Lambda::Function", "Properties": {**props, **extra}}


TEMPLATE = {
    "Resources": {
        "Role": {"Type": "AWS::IAM::Role", "Properties": {}},
        "Reports": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": BUCKET}},
        "Checker": _function("checker.handler"),
        "Prepare": _function("checker.prepare"),
        "Echo": _function("checker.echo"),
        "BadType": _function("checker.bad_type"),
        "Missing": _function("nowhere.handler"),
        "Node": _function("index.handler", Runtime="nodejs20.x"),
        "Inline": _function("index.handler", Code={"ZipFile": "def handler(e, c): return {}"}),
    }
}


@pytest.fixture(scope="module")
def assembly(tmp_path_factory: pytest.TempPathFactory) -> Assembly:
    out = tmp_path_factory.mktemp("cdk.out")
    (out / "fn.template.json").write_text(json.dumps(TEMPLATE))
    code = out / "asset.abc123"
    code.mkdir()
    (code / "checker.py").write_text(CHECKER)
    (code / "helper.py").write_text(HELPER)
    destination = {"bucketName": ASSETS_BUCKET, "objectKey": "abc123.zip"}
    asset = {"source": {"path": "asset.abc123", "packaging": "zip"}, "destinations": {"d": destination}}
    (out / "fn.assets.json").write_text(json.dumps({"version": "48.0.0", "files": {"abc123": asset}}))
    return Assembly.load(out)


@pytest.fixture(scope="module")
def functions(assembly: Assembly) -> dict[str, LocalFunction]:
    return functions_from(assembly)


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAws]:
    with moto_server() as local:
        local.ensure_bucket(BUCKET)
        yield local


def arn(assembly: Assembly, logical_id: str) -> str:
    return str(assembly.resolve("fn", {"Fn::GetAtt": [logical_id, "Arn"]}))


def lambda_step(
    name: str, function_arn: str, arguments: dict[str, Any], *outputs: tuple[str, str]
) -> dict[str, Any]:
    return {
        "Name": name,
        "Type": "Lambda",
        "Arguments": arguments,
        "FunctionArn": function_arn,
        "OutputParameters": [{"OutputName": n, "OutputType": t} for n, t in outputs],
    }


def drift_definition(assembly: Assembly, checker: str = "Checker") -> dict[str, Any]:
    """Publish (listed first, DependsOn Prepare) → Gate on its output → Alert in the if-branch."""
    violations = {"Get": "Steps.Publish.OutputParameters['violations']"}
    publish = lambda_step(
        "Publish",
        arn(assembly, checker),
        {"report_uri": {"Std:Join": {"On": "/", "Values": ["s3:/", BUCKET, "report.json"]}},
         "explode": {"Get": "Parameters.Explode"}},
        ("violations", "Integer"), ("label", "String"),
    )  # fmt: skip
    publish["DependsOn"] = ["Prepare"]
    alert = lambda_step("Alert", arn(assembly, "Echo"), {"violations": violations}, ("seen", "String"))
    gate = {
        "Name": "Gate",
        "Type": "Condition",
        "Arguments": {
            "Conditions": [{"Type": "GreaterThanOrEqualTo", "LeftValue": violations, "RightValue": 1}],
            "IfSteps": [alert],
            "ElseSteps": [],
        },
    }
    prepare = lambda_step(
        "Prepare", arn(assembly, "Prepare"), {"violations": {"Get": "Parameters.Violations"}}
    )
    return {
        "Version": "2020-12-01",
        "Parameters": [
            {"Name": "Violations", "Type": "Integer", "DefaultValue": 0},
            {"Name": "Explode", "Type": "Boolean", "DefaultValue": False},
        ],
        "Steps": [publish, gate, prepare],
    }


def run(
    aws: LocalAws, tmp_path: Path, definition: dict[str, Any], functions: Any, **overrides: Any
) -> RunResult:
    return run_pipeline(
        definition, aws, tmp_path, overrides=overrides, functions=functions, log=lambda _: None
    )


def test_output_parameters_reach_a_condition_and_later_steps(
    aws: LocalAws, tmp_path: Path, assembly: Assembly, functions: dict[str, LocalFunction]
) -> None:
    # GIVEN a report with 3 violations written by the Prepare step (which Publish DependsOn)
    # WHEN the pipeline runs
    result = run(aws, tmp_path, drift_definition(assembly), functions, Violations=3)
    # THEN the Lambda's typed output drove the condition and reached the branch step's event
    assert result.status == "Succeeded", result.failure
    assert [s.name for s in result.steps if s.status == "Succeeded"] == [
        "Publish",
        "Gate",
        "Alert",
        "Prepare",
    ]
    publish = result.step("Publish")
    assert publish.outputs == {"violations": "3", "label": "drifted"}
    assert result.properties["Publish"] == {"OutputParameters": {"violations": 3, "label": "drifted"}}
    assert result.step("Gate").outputs["Outcome"] == "true"
    assert json.loads(result.properties["Alert"]["OutputParameters"]["seen"]) == {"violations": 3}
    # and the handler's prints are in the step's log
    assert publish.log_path is not None
    assert "checking s3://lambda-steps/report.json" in publish.log_path.read_text()


def test_no_violations_takes_the_else_branch(
    aws: LocalAws, tmp_path: Path, assembly: Assembly, functions: dict[str, LocalFunction]
) -> None:
    result = run(aws, tmp_path, drift_definition(assembly), functions, Violations=0)
    assert result.status == "Succeeded", result.failure
    assert result.step("Gate").outputs["Outcome"] == "false"
    assert result.step("Alert").status == "Skipped"


def test_the_handler_runs_with_its_environment_against_the_stand_in_and_leaves_no_trace(
    aws: LocalAws, tmp_path: Path, assembly: Assembly, functions: dict[str, LocalFunction]
) -> None:
    # GIVEN this process's own environment and modules
    before_env = dict(os.environ)
    definition = drift_definition(assembly)
    definition["Steps"][0]["OutputParameters"].append({"OutputName": "calls", "OutputType": "Integer"})
    # WHEN the checker runs twice (two executions)
    results = [run(aws, tmp_path, definition, functions, Violations=1) for _ in range(2)]
    # THEN each call saw the template's resolved variables, the stand-in and a fresh module
    for result in results:
        assert result.status == "Succeeded", result.failure
        assert result.properties["Publish"]["OutputParameters"]["calls"] == 1
    [checker] = [f for f in functions.values() if f.where == "fn/Checker"]
    assert checker.environment == {"THRESHOLD": "1", "BUCKET": BUCKET}
    # and nothing of the function's environment or modules stayed behind
    assert dict(os.environ) == before_env
    assert not {"checker", "helper"} & set(sys.modules)


def test_the_event_and_context_are_what_lambda_passes(
    aws: LocalAws, tmp_path: Path, assembly: Assembly, functions: dict[str, LocalFunction]
) -> None:
    step = lambda_step("Check", arn(assembly, "Checker"), {"report_uri": f"s3://{BUCKET}/report.json"})
    step["OutputParameters"] = [
        {"OutputName": "env", "OutputType": "String"},
        {"OutputName": "function", "OutputType": "String"},
    ]
    aws.client("s3").put_object(Bucket=BUCKET, Key="report.json", Body=b'{"violations": 0}')
    result = run(aws, tmp_path, {"Version": "2020-12-01", "Steps": [step]}, functions)
    assert result.status == "Succeeded", result.failure
    outputs = result.properties["Check"]["OutputParameters"]
    assert json.loads(outputs["env"]) == {
        "THRESHOLD": "1", "BUCKET": BUCKET, "AWS_ENDPOINT_URL": aws.endpoint_url, "AWS_REGION": "us-east-1"
    }  # fmt: skip
    assert outputs["function"] == "Checker"


def test_an_unknown_function_arn_fails_the_step_naming_it(
    aws: LocalAws, tmp_path: Path, functions: dict[str, LocalFunction]
) -> None:
    step = lambda_step("Publish", "arn:aws:lambda:us-east-1:123456789012:function:gone", {})
    result = run(aws, tmp_path, {"Version": "2020-12-01", "Steps": [step]}, functions)
    assert result.status == "Failed"
    assert result.failure.startswith(
        "step 'Publish' (Lambda) failed: FunctionArn 'arn:aws:lambda:us-east-1:123456789012:function:gone' "
        "is not a function of the assembly; known: arn:aws:lambda:us-east-1:123456789012:function:local-fn-"
    )


def test_without_functions_the_runner_says_none_were_given(aws: LocalAws, tmp_path: Path) -> None:
    step = lambda_step("Publish", "arn:aws:lambda:us-east-1:123456789012:function:x", {})
    result = run(aws, tmp_path, {"Version": "2020-12-01", "Steps": [step]}, None)
    assert "known: none (no functions were given to the runner)" in result.failure


@pytest.mark.parametrize(
    ("logical_id", "outputs", "message"),
    [
        ("Checker", [("missing", "String")], "has no output parameter 'missing' (keys: ['calls', 'env',"),
        ("BadType", [("violations", "Integer")], "'violations' is Integer, the function returned 'many'"),
        ("Missing", [], "function fn/Missing (nowhere.handler): no module 'nowhere' in"),
        ("Node", [], "function fn/Node cannot run locally: runtime nodejs20.x cannot run locally"),
        ("Inline", [], "function fn/Inline cannot run locally: only code from a CDK asset runs locally"),
    ],
)  # fmt: skip
def test_a_function_that_cannot_answer_fails_the_step_naming_why(
    aws: LocalAws,
    tmp_path: Path,
    assembly: Assembly,
    functions: dict[str, LocalFunction],
    logical_id: str,
    outputs: list[tuple[str, str]],
    message: str,
) -> None:
    aws.client("s3").put_object(Bucket=BUCKET, Key="report.json", Body=b'{"violations": 0}')
    step = lambda_step(
        "Publish", arn(assembly, logical_id), {"report_uri": f"s3://{BUCKET}/report.json"}, *outputs
    )
    result = run(aws, tmp_path, {"Version": "2020-12-01", "Steps": [step]}, functions)
    assert result.status == "Failed"
    assert message in result.failure


def test_a_handler_that_raises_fails_the_step_with_its_error_and_traceback(
    aws: LocalAws, tmp_path: Path, assembly: Assembly, functions: dict[str, LocalFunction]
) -> None:
    result = run(aws, tmp_path, drift_definition(assembly), functions, Violations=2, Explode=True)
    assert result.status == "Failed"
    assert (
        "function fn/Checker (checker.handler) raised RuntimeError: the report is unreadable"
        in result.failure
    )
    assert result.step("Gate").status == "NotStarted"
    log = result.step("Publish").log_path
    assert log is not None
    assert 'raise RuntimeError("the report is unreadable")' in log.read_text()


def test_a_function_is_found_by_its_logical_id_and_invoked_directly(
    aws: LocalAws, tmp_path: Path, functions: dict[str, LocalFunction]
) -> None:
    # GIVEN the function CDK named Echo<hash> (here: Echo)
    echo = function_by_id(functions, "Echo")
    # WHEN it is invoked outside a pipeline (as the demo calls the retraining trigger)
    response = invoke(echo, {"detail": {"state": {"value": "ALARM"}}}, aws, tmp_path / "echo.log")
    # THEN it answers like the Lambda would
    assert json.loads(response["seen"]) == {"detail": {"state": {"value": "ALARM"}}}
    with pytest.raises(KeyError, match="expected one Lambda function Nope\\* in the assembly, found 0"):
        function_by_id(functions, "Nope")
