"""The batch scoring definition: every request valid for botocore, isolated and encrypted, in order,
and exactly what the SageMaker Python SDK compiles (its typed properties walk every reference)."""

from __future__ import annotations

import dataclasses
import difflib
import json
from typing import Any

import botocore.session
import pytest
import test_definition_sdk as sdk_test
from botocore.validate import ParamValidator

from contracts.layout import BATCH_SCORES_PREFIX
from emulator.definition import dependencies, flatten
from ml_code import contract
from stacks.batch.definition import BatchDefinitionProps, build_batch_definition, definition_json
from stacks.batch.requests import RequestStep, TransformSettings
from stacks.pipeline.requests import JobSettings

sdk = sdk_test.sdk  # the SDK, imported offline (a module-scoped fixture)

_EXPRESSIONS = ("Get", "Std:Join")
KEY = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
PROPS = BatchDefinitionProps(
    job=JobSettings(
        role_arn="arn:aws:iam::111122223333:role/batch",
        kms_key_arn=KEY,
        image_uri="141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:3.0-5",
        subnet_ids=("subnet-0123456789abcdef0", "subnet-0123456789abcdef1"),
        security_group_ids=("sg-0123456789abcdef0",),
        max_runtime_seconds=3600,
    ),
    artifact_bucket="artifacts",
    code_uri="s3://cdk-assets/abc.tar.gz",
    resolve_function_arn="arn:aws:lambda:eu-west-1:111122223333:function:resolve",
    model_package_group_name="demo-dev-models",
    problem_type="binary",
    input_uri="s3://artifacts/data/batch/",
    transform=TransformSettings(
        instance_type="ml.m5.large", instance_count=2, max_payload_mb=6, max_concurrent_transforms=4
    ),
    report_instance_type="ml.m5.large",
    key_column="row_id",
    drift_check=True,
    threshold=0.2,
)
#: Step type -> the API its arguments are a request of (and the name the pipeline fills in).
_OPERATIONS = {
    "Model": ("CreateModel", {"ModelName": "pipelines-x"}),
    "Transform": ("CreateTransformJob", {"TransformJobName": "pipelines-x"}),
    "Processing": ("CreateProcessingJob", {"ProcessingJobName": "pipelines-x"}),
}


def _steps(props: BatchDefinitionProps = PROPS) -> dict[str, dict[str, Any]]:
    return {e.name: dict(e.step) for e in flatten(build_batch_definition(props)["Steps"])}


def _placeholder(value: Any, shape: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1 and next(iter(value)) in _EXPRESSIONS:
        return {"string": "s3://placeholder/key", "integer": 1}[shape.type_name]
    if shape.type_name == "structure" and isinstance(value, dict):
        return {k: _placeholder(v, shape.members[k]) if k in shape.members else v for k, v in value.items()}
    if shape.type_name == "list" and isinstance(value, list):
        return [_placeholder(v, shape.member) for v in value]
    return value


@pytest.mark.parametrize("drift_check", [True, False])
@pytest.mark.parametrize("key_column", ["row_id", None])
def test_every_request_is_valid_for_botocore(drift_check: bool, key_column: str | None) -> None:
    # GIVEN each shape of the definition
    props = dataclasses.replace(PROPS, drift_check=drift_check, key_column=key_column)
    service = botocore.session.get_session().get_service_model("sagemaker")
    checked = []
    for name, step in _steps(props).items():
        if step["Type"] not in _OPERATIONS:
            continue
        operation, names = _OPERATIONS[step["Type"]]
        shape = service.operation_model(operation).input_shape
        # WHEN its request is validated as the API would (expressions stand for valid values)
        report = ParamValidator().validate({**_placeholder(step["Arguments"], shape), **names}, shape)
        # THEN botocore finds nothing wrong
        assert not report.has_errors(), f"{name}: {report.generate_report()}"
        checked.append(step["Type"])
    assert {"Model", "Transform", "Processing"} <= set(checked)


def test_the_steps_run_in_order() -> None:
    top = build_batch_definition(PROPS)["Steps"]
    assert [s["Name"] for s in top] == ["ResolveModel", "CreateModel", "Score", "NoBaseline"]
    needs = dependencies(flatten(top))
    assert needs["CreateModel"] == {"ResolveModel"}
    assert needs["Score"] == {"ResolveModel", "CreateModel"}
    assert needs["ScoreReport"] >= {"NoBaseline", "Score", "ResolveModel"}
    assert needs["ScoreReportNoBaseline"] >= {"NoBaseline", "Score", "ResolveModel"}


def test_resolve_model_is_asked_at_run_time() -> None:
    resolve = _steps()["ResolveModel"]
    assert resolve["Type"] == "Lambda"
    assert resolve["FunctionArn"] == PROPS.resolve_function_arn
    assert resolve["Arguments"] == {
        "group": "demo-dev-models",
        "problem_type": "binary",
        "key_column": "true",
    }
    assert [o["OutputName"] for o in resolve["OutputParameters"]] == [
        "model_package_arn",
        "version",
        "baseline_uri",
        "output_filter",
    ]
    no_key = _steps(dataclasses.replace(PROPS, key_column=None))["ResolveModel"]
    assert no_key["Arguments"]["key_column"] == "false"


def test_the_model_is_the_chosen_version_isolated_in_the_vpc() -> None:
    args = _steps()["CreateModel"]["Arguments"]
    assert args["PrimaryContainer"] == {
        "ModelPackageName": {"Get": "Steps.ResolveModel.OutputParameters['model_package_arn']"}
    }
    assert args["EnableNetworkIsolation"] is True
    assert args["ExecutionRoleArn"] == PROPS.job.role_arn
    assert args["VpcConfig"]["Subnets"] == list(PROPS.job.subnet_ids)


def test_score_batches_lines_encrypted_and_joins_the_key_back() -> None:
    args = _steps()["Score"]["Arguments"]
    assert args["ModelName"] == {"Get": "Steps.CreateModel.ModelName"}
    assert (args["BatchStrategy"], args["MaxPayloadInMB"], args["MaxConcurrentTransforms"]) == (
        "MultiRecord",
        6,
        4,
    )
    source = args["TransformInput"]
    assert source["DataSource"]["S3DataSource"] == {
        "S3DataType": "S3Prefix",
        "S3Uri": {"Get": "Parameters.InputDataUri"},
    }
    assert (source["ContentType"], source["SplitType"], source["CompressionType"]) == (
        "text/csv",
        "Line",
        "None",
    )
    output = args["TransformOutput"]
    assert (output["Accept"], output["AssembleWith"], output["KmsKeyId"]) == ("text/csv", "Line", KEY)
    execution = {"Get": "Execution.PipelineExecutionId"}
    folder = ["s3:/", "artifacts", BATCH_SCORES_PREFIX.rstrip("/"), execution]
    assert output["S3OutputPath"] == {"Std:Join": {"On": "/", "Values": [*folder, "predictions", ""]}}
    assert args["TransformResources"] == {
        "InstanceType": "ml.m5.large",
        "InstanceCount": 2,
        "VolumeKmsKeyId": KEY,
    }
    assert args["DataProcessing"] == {
        "InputFilter": "$[1:]",
        "OutputFilter": {"Get": "Steps.ResolveModel.OutputParameters['output_filter']"},
        "JoinSource": "Input",
    }
    assert "Environment" not in args


def test_without_a_key_column_nothing_is_filtered_or_joined() -> None:
    args = _steps(dataclasses.replace(PROPS, key_column=None))["Score"]["Arguments"]
    assert "DataProcessing" not in args


def _report_arguments(step: dict[str, Any]) -> list[Any]:
    arguments: list[Any] = step["Arguments"]["AppSpecification"]["ContainerArguments"]
    return arguments


def test_the_report_reads_predictions_input_and_baseline_and_writes_the_run_folder() -> None:
    steps = _steps()
    report, bare = steps["ScoreReport"], steps["ScoreReportNoBaseline"]
    condition = steps["NoBaseline"]["Arguments"]
    assert condition["Conditions"] == [
        {
            "Type": "Equals",
            "LeftValue": {"Get": "Steps.ResolveModel.OutputParameters['baseline_uri']"},
            "RightValue": "",
        }
    ]
    assert [s["Name"] for s in condition["IfSteps"]] == ["ScoreReportNoBaseline"]
    assert [s["Name"] for s in condition["ElseSteps"]] == ["ScoreReport"]
    local = {i["InputName"]: i["S3Input"]["LocalPath"] for i in report["Arguments"]["ProcessingInputs"]}
    assert local == {
        "code": contract.CODE_DIR,
        "predictions": contract.SCORE_PREDICTIONS_DIR,
        "scored": contract.SCORE_INPUT_DIR,
        "baseline": contract.SCORE_BASELINE_DIR,
    }
    assert "baseline" not in {i["InputName"] for i in bare["Arguments"]["ProcessingInputs"]}
    [out] = report["Arguments"]["ProcessingOutputConfig"]["Outputs"]
    assert (out["OutputName"], out["S3Output"]["LocalPath"]) == (
        contract.SCORE_REPORT_OUTPUT,
        contract.SCORE_REPORT_DIR,
    )
    assert out["S3Output"]["S3Uri"]["Std:Join"]["Values"][-2:] == [
        {"Get": "Execution.PipelineExecutionId"},
        "",
    ]
    network = report["Arguments"]["NetworkConfig"]
    assert network["EnableNetworkIsolation"] is True
    assert report["Arguments"]["ProcessingOutputConfig"]["KmsKeyId"] == KEY
    assert (
        "python3 -m ml_code.drift.score_report"
        in report["Arguments"]["AppSpecification"]["ContainerEntrypoint"][2]
    )
    arguments = _report_arguments(report)
    assert arguments[arguments.index("--key-column") + 1] == "row_id"
    assert arguments[arguments.index("--problem-type") + 1] == "binary"
    assert arguments[arguments.index("--threshold") + 1] == "0.2"
    assert arguments[arguments.index("--execution-arn") + 1] == {"Get": "Execution.PipelineExecutionArn"}
    assert arguments[arguments.index("--output-uri") + 1] == {
        "Get": "Steps.Score.TransformOutput.S3OutputPath"
    }
    assert "--drift-check" in arguments
    assert "--drift-check" in _report_arguments(bare)


def test_without_the_drift_check_one_report_and_no_baseline() -> None:
    steps = _steps(dataclasses.replace(PROPS, drift_check=False, key_column=None))
    assert list(steps) == ["ResolveModel", "CreateModel", "Score", "ScoreReport"]
    arguments = _report_arguments(steps["ScoreReport"])
    assert "--drift-check" not in arguments
    assert "--key-column" not in arguments
    assert "baseline" not in {i["InputName"] for i in steps["ScoreReport"]["Arguments"]["ProcessingInputs"]}


def test_an_unknown_problem_type_or_step_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="problem type"):
        build_batch_definition(dataclasses.replace(PROPS, problem_type="ranking"))
    with pytest.raises(ValueError, match="Model or Transform"):
        RequestStep(name="X", type="Processing", description="", arguments={})
    with pytest.raises(ValueError, match="not Transform"):
        RequestStep(name="X", type="Model", description="", arguments={}).output_path()


def test_definition_text_is_deterministic() -> None:
    assert definition_json(PROPS) == definition_json(PROPS)
    assert json.loads(definition_json(PROPS))["Version"] == "2020-12-01"


# ------------------------------------------------------------------ what the SDK compiles


def _difference(theirs: Any, ours: Any) -> str:
    lines = [json.dumps(d, indent=1, sort_keys=True).splitlines() for d in (ours, theirs)]
    return "\n".join(difflib.unified_diff(*lines, "ours", "the SDK's", n=1, lineterm=""))


class _BatchRebuild(sdk_test._Rebuild):
    """The rebuild of tests/unit/test_definition_sdk.py, with the conditions this definition uses."""

    def _condition(self, condition: dict[str, Any]) -> Any:
        if condition["Type"] == "Equals":
            return self.sdk.conditions.ConditionEquals(
                left=self.value(condition["LeftValue"]), right=self.value(condition["RightValue"])
            )
        return super()._condition(condition)


@pytest.mark.filterwarnings("ignore:Lambda function won't be updated:UserWarning")  # it is given an ARN only
@pytest.mark.parametrize("drift_check", [True, False])
def test_batch_definition_is_what_the_sdk_compiles(sdk, monkeypatch, drift_check):
    # GIVEN the SDK's typed properties for the Model and Transform steps (DescribeModel, DescribeTransformJob)
    monkeypatch.setitem(sdk_test._DESCRIBE_SHAPES, "Model", "DescribeModelOutput")
    monkeypatch.setitem(sdk_test._DESCRIBE_SHAPES, "Transform", "DescribeTransformJobResponse")
    ours = build_batch_definition(dataclasses.replace(PROPS, drift_check=drift_check))
    # WHEN the SDK's own classes are built from it (every Get walked through those shapes) and compiled
    theirs = _BatchRebuild(sdk, ours).compiled()
    # THEN the SDK writes the very same definition
    assert theirs == ours, _difference(theirs, ours)
    assert json.loads(definition_json(PROPS)) == {
        k: v for k, v in build_batch_definition(PROPS).items() if v is not None
    }


def test_a_transform_property_the_api_does_not_have_is_refused(sdk, monkeypatch):
    monkeypatch.setitem(sdk_test._DESCRIBE_SHAPES, "Model", "DescribeModelOutput")
    monkeypatch.setitem(sdk_test._DESCRIBE_SHAPES, "Transform", "DescribeTransformJobResponse")
    broken = json.loads(
        json.dumps(build_batch_definition(PROPS)).replace(
            "TransformOutput.S3OutputPath", "TransformOutput.S3Path"
        )
    )
    with pytest.raises(AttributeError, match="S3Path"):
        _BatchRebuild(sdk, broken)
