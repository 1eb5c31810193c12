"""The runner's control flow against a moto server: property files and conditions, both
branches, register and fail steps, dependency order, and the errors that name a step."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from emulator.local_aws import LocalAws, moto_server
from emulator.report import summary_lines
from emulator.runner import PipelineDefinitionError, RunResult, run_pipeline

BUCKET = "flow-bucket"
GROUP = "flow-models"
ROLE = "arn:aws:iam::123456789012:role/r"

#: Writes {"gate": {"score": <--score>}} as report.json in the evaluation output dir.
SCORE_SCRIPT = """
import json, os, sys, pathlib
out = pathlib.Path(os.environ["MLOPS_OPT_ML_ROOT"]) / "processing" / "output" / "evaluation"
out.mkdir(parents=True, exist_ok=True)
(out / "report.json").write_text(json.dumps({"gate": {"score": float(sys.argv[2])}}))
"""


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAws]:
    with moto_server() as local:
        local.ensure_bucket(BUCKET)
        local.client("s3").put_object(Bucket=BUCKET, Key="code/score.py", Body=SCORE_SCRIPT.encode())
        local.client("sagemaker").create_model_package_group(ModelPackageGroupName=GROUP)
        yield local


def evaluate_step() -> dict[str, Any]:
    output_uri = {
        "Std:Join": {
            "On": "/",
            "Values": [f"s3://{BUCKET}", {"Get": "Execution.PipelineExecutionId"}, "evaluation"],
        }
    }
    return {
        "Name": "Evaluate",
        "Type": "Processing",
        "Arguments": {
            "AppSpecification": {
                "ImageUri": "image",
                "ContainerEntrypoint": ["python3", "/opt/ml/processing/input/code/score.py"],
                "ContainerArguments": ["--score", {"Get": "Parameters.Score"}],
            },
            "ProcessingInputs": [
                {
                    "InputName": "code",
                    "S3Input": {
                        "S3Uri": f"s3://{BUCKET}/code/score.py",
                        "LocalPath": "/opt/ml/processing/input/code",
                        "S3DataType": "S3Prefix",
                        "S3InputMode": "File",
                    },
                }
            ],
            "ProcessingOutputConfig": {
                "Outputs": [
                    {
                        "OutputName": "evaluation",
                        "S3Output": {
                            "S3Uri": output_uri,
                            "LocalPath": "/opt/ml/processing/output/evaluation",
                            "S3UploadMode": "EndOfJob",
                        },
                    }
                ]
            },
        },
        "PropertyFiles": [
            {"PropertyFileName": "Report", "OutputName": "evaluation", "FilePath": "report.json"}
        ],
    }


SCORE = {
    "Std:JsonGet": {"PropertyFile": {"Get": "Steps.Evaluate.PropertyFiles.Report"}, "Path": "gate.score"}
}
REPORT_URI = {
    "Std:Join": {
        "On": "/",
        "Values": [
            {"Get": "Steps.Evaluate.ProcessingOutputConfig.Outputs['evaluation'].S3Output.S3Uri"},
            "report.json",
        ],
    }
}
REGISTER = {
    "Name": "Register",
    "Type": "RegisterModel",
    "Arguments": {
        "ModelPackageGroupName": GROUP,
        "ModelApprovalStatus": "PendingManualApproval",
        "InferenceSpecification": {
            "Containers": [{"Image": "xgboost:3.0-5", "ModelDataUrl": f"s3://{BUCKET}/model.tar.gz"}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
        "ModelMetrics": {
            "ModelQuality": {"Statistics": {"ContentType": "application/json", "S3Uri": REPORT_URI}}
        },
        "CustomerMetadataProperties": {
            "Threshold": {"Std:Join": {"On": "", "Values": [{"Get": "Parameters.Threshold"}]}}
        },
    },
}
FAIL = {
    "Name": "GateFailed",
    "Type": "Fail",
    "Arguments": {
        "ErrorMessage": {
            "Std:Join": {"On": "", "Values": ["score ", SCORE, " is below ", {"Get": "Parameters.Threshold"}]}
        }
    },
}


def gated_definition(*, after_gate: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    gate = {
        "Name": "Gate",
        "Type": "Condition",
        "Arguments": {
            # a list of conditions is an AND, as the SDK serializes it
            "Conditions": [
                {
                    "Type": "GreaterThanOrEqualTo",
                    "LeftValue": SCORE,
                    "RightValue": {"Get": "Parameters.Threshold"},
                },
                {"Type": "Not", "Expression": {"Type": "Equals", "LeftValue": SCORE, "RightValue": 0.5}},
            ],
            "IfSteps": [REGISTER],
            "ElseSteps": [FAIL],
        },
    }
    return {
        "Version": "2020-12-01",
        "Parameters": [
            {"Name": "Score", "Type": "Float", "DefaultValue": 0.9},
            {"Name": "Threshold", "Type": "Float", "DefaultValue": 0.7},
        ],
        "Steps": [evaluate_step(), gate, *(after_gate or [])],
    }


LOG: list[str] = []


def run(aws: LocalAws, tmp_path: Path, definition: dict[str, Any], **overrides: Any) -> RunResult:
    """Run `definition`; its progress lines are in LOG afterwards."""
    LOG.clear()
    return run_pipeline(definition, aws, tmp_path, overrides=overrides, log=LOG.append)


def test_gate_true_registers_a_version_with_resolved_arguments(aws: LocalAws, tmp_path: Path) -> None:
    # WHEN the score clears the threshold
    result = run(aws, tmp_path, gated_definition())
    # THEN the if-branch registered a real model package in the stand-in and the else-branch was skipped
    assert result.status == "Succeeded", result.failure
    assert result.step("Gate").outputs == {"Outcome": "true"}
    assert (result.step("GateFailed").status, result.step("GateFailed").message) == (
        "Skipped",
        "branch of Gate not taken",
    )
    package = aws.client("sagemaker").describe_model_package(ModelPackageName=result.model_package_arn)
    assert package["ModelPackageGroupName"] == GROUP
    report_uri = package["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"]
    assert report_uri == f"s3://{BUCKET}/{result.execution_id}/evaluation/report.json"
    assert package["CustomerMetadataProperties"] == {"Threshold": "0.7"}
    # ... and the summary shows the version and the metrics it was registered with
    summary = "\n".join(summary_lines(result, aws))
    assert f"Registered: {GROUP} version" in summary
    assert "Skipped" in summary
    assert "skipped: branch of Gate not taken" in summary


def test_gate_false_ends_in_the_fail_step_with_its_resolved_message(aws: LocalAws, tmp_path: Path) -> None:
    result = run(aws, tmp_path, gated_definition(), Score=0.42)
    assert result.status == "Failed"
    assert result.step("Gate").outputs == {"Outcome": "false"}
    assert result.step("Register").status == "Skipped"
    assert result.step("GateFailed").status == "Failed"
    assert result.failure == "step 'GateFailed' (Fail) failed: score 0.42 is below 0.7"
    assert result.model_package_arn is None


def test_every_condition_of_the_list_must_hold(aws: LocalAws, tmp_path: Path) -> None:
    # 0.5 clears a 0.3 threshold but the second condition (not equal to 0.5) does not hold
    result = run(aws, tmp_path, gated_definition(), Score=0.5, Threshold=0.3)
    assert result.step("Gate").outputs == {"Outcome": "false"}
    assert result.status == "Failed"


def test_a_step_after_the_gate_needing_a_skipped_step_is_skipped(aws: LocalAws, tmp_path: Path) -> None:
    uses_register = {
        "Name": "Describe",
        "Type": "Model",
        "Arguments": {
            "ExecutionRoleArn": ROLE,
            "PrimaryContainer": {"Image": "x", "ModelPackageName": {"Get": "Steps.Register.ModelPackageArn"}},
        },
    }
    definition = gated_definition(after_gate=[uses_register])
    definition["Steps"][1]["Arguments"]["ElseSteps"] = []  # no fail step: the run goes on
    result = run(aws, tmp_path, definition, Score=0.1)
    assert result.status == "Succeeded"
    assert (result.step("Describe").status, result.step("Describe").message) == (
        "Skipped",
        "needs skipped step(s) Register",
    )


def test_missing_property_fails_naming_the_step_and_the_path(aws: LocalAws, tmp_path: Path) -> None:
    consumer = {
        "Name": "UseModel",
        "Type": "Model",
        "Arguments": {
            "ExecutionRoleArn": ROLE,
            "PrimaryContainer": {
                "Image": "x",
                "ModelDataUrl": {
                    "Get": "Steps.Evaluate.ProcessingOutputConfig.Outputs['model'].S3Output.S3Uri"
                },
            },
        },
    }
    definition = gated_definition()
    definition["Steps"] = [definition["Steps"][0], consumer]
    result = run(aws, tmp_path, definition)
    assert result.status == "Failed"
    assert result.failure == (
        "step 'UseModel' (Model) failed: step 'Evaluate' has no property "
        "\"ProcessingOutputConfig.Outputs['model'].S3Output.S3Uri\" (missing 'model')"
    )
    assert any("✗ UseModel" in line for line in LOG)


def test_a_step_type_that_cannot_run_locally_fails_the_run(aws: LocalAws, tmp_path: Path) -> None:
    emr_step = {
        "Name": "Crunch",
        "Type": "EMR",
        "Arguments": {"ClusterId": "j-1", "StepConfig": {"HadoopJarStep": {"Jar": "crunch.jar"}}},
        "DependsOn": ["Evaluate"],
    }
    definition = gated_definition()
    definition["Steps"][1]["DependsOn"] = ["Crunch"]
    definition["Steps"].insert(1, emr_step)
    result = run(aws, tmp_path, definition)
    assert result.status == "Failed"
    assert result.failure.startswith("step 'Crunch' (EMR) failed: step type 'EMR' cannot run locally")
    assert "Lambda" in result.failure  # the message lists what does run
    assert result.step("Evaluate").status == "Succeeded"
    assert result.step("Gate").status == "NotStarted"


def test_steps_run_in_dependency_order_not_listing_order(aws: LocalAws, tmp_path: Path) -> None:
    def model(name: str, **extra: Any) -> dict[str, Any]:
        return {
            "Name": name,
            "Type": "Model",
            "Arguments": {"ExecutionRoleArn": ROLE, "PrimaryContainer": {"Image": "x"}},
            **extra,
        }

    definition = {
        "Version": "2020-12-01",
        "Parameters": [],
        "Steps": [model("Third", DependsOn=["Second"]), model("Second", DependsOn=["First"]), model("First")],
    }
    result = run(aws, tmp_path, definition)
    started = [line.split()[1] for line in LOG if line.lstrip().startswith("●")]
    assert started == ["First", "Second", "Third"]
    assert result.status == "Succeeded"


def test_a_dependency_cycle_is_a_definition_error(aws: LocalAws, tmp_path: Path) -> None:
    definition = {
        "Version": "2020-12-01",
        "Parameters": [],
        "Steps": [
            {"Name": "A", "Type": "Fail", "DependsOn": ["B"]},
            {"Name": "B", "Type": "Fail", "DependsOn": ["A"]},
        ],
    }
    with pytest.raises(PipelineDefinitionError, match="steps A, B wait on each other"):
        run(aws, tmp_path, definition)


def test_unknown_parameter_override_is_refused_before_anything_runs(aws: LocalAws, tmp_path: Path) -> None:
    with pytest.raises(PipelineDefinitionError, match="unknown pipeline parameter"):
        run(aws, tmp_path, gated_definition(), Scroe=0.1)
    assert not list(tmp_path.iterdir())


def test_register_errors_from_the_service_name_the_step(aws: LocalAws, tmp_path: Path) -> None:
    definition = gated_definition()
    register = json.loads(json.dumps(REGISTER))
    definition["Steps"][1]["Arguments"]["IfSteps"] = [register]
    # a misspelt request parameter, as a hand-edited definition might carry
    register["Arguments"]["ModelPackageGroupNam"] = register["Arguments"].pop("ModelPackageGroupName")
    result = run(aws, tmp_path, definition)
    assert result.status == "Failed"
    assert result.failure.startswith("step 'Register' (RegisterModel) failed: ParamValidationError")
    assert "ModelPackageGroupNam" in result.failure


def test_settings_the_local_run_cannot_honour_are_reported(aws: LocalAws, tmp_path: Path) -> None:
    definition = gated_definition()
    evaluate = definition["Steps"][0]
    evaluate["CacheConfig"] = {"Enabled": True, "ExpireAfter": "P30D"}
    evaluate["RetryPolicies"] = [{"ExceptionType": ["Step.SERVICE_FAULT"], "MaxAttempts": 3}]
    evaluate["Arguments"]["ProcessingResources"] = {
        "ClusterConfig": {"InstanceCount": 2, "InstanceType": "x"}
    }
    result = run(aws, tmp_path, definition)
    assert result.status == "Succeeded", result.failure
    assert result.step("Evaluate").notes == [
        "step caching: not applied locally (the step always runs)",
        "retry policies: not applied locally (a failure fails the run at once)",
        "2 instances: algo-1, algo-2 (2 local processes)",
    ]
    assert "      note: step caching: not applied locally (the step always runs)" in LOG


def test_a_run_in_another_account_registers_there(aws: LocalAws, tmp_path: Path) -> None:
    # GIVEN the stand-in acting in a tooling account of its own, with the model package group there
    tooling = aws.in_account("111111111111")
    tooling.client("sagemaker").create_model_package_group(ModelPackageGroupName=GROUP)
    # WHEN the pipeline runs with those credentials
    result = run(tooling, tmp_path, gated_definition())
    # THEN the job, the execution and the registered version are that account's, not the default's
    assert result.status == "Succeeded", result.failure
    assert result.properties["Evaluate"]["ProcessingJobArn"].split(":")[4] == "111111111111"
    assert result.model_package_arn is not None
    assert result.model_package_arn.split(":")[4] == "111111111111"
    tooling.client("sagemaker").describe_model_package(ModelPackageName=result.model_package_arn)
    with pytest.raises(ClientError):
        aws.client("sagemaker").describe_model_package(ModelPackageName=result.model_package_arn)
