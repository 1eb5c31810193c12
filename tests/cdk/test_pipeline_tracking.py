"""The Track steps in the training definition (issue 15): where they sit, what they run and read,
what Register takes from them, and that a definition without a tracking server is unchanged.

Each new request is checked against botocore's SageMaker model and rebuilt with the SageMaker
SDK's own classes (the helpers of tests/unit/test_pipeline_definition.py and test_definition_sdk.py).
"""

from __future__ import annotations

import copy
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))

from test_definition_sdk import _Rebuild, sdk  # noqa: F401 (sdk: the module fixture)
from test_pipeline_definition import _validate, props

from contracts.names import tracking_server_name
from ml_code import contract
from ml_code.steps.model_card import CARD_STATUS
from stacks.pipeline.definition import build_definition
from stacks.pipeline.props import TRAINING_HYPERPARAMETERS, DefinitionProps

SERVER = "arn:aws:sagemaker:eu-west-1:111122223333:mlflow-tracking-server/mlops-demo-dev-mlflow"
EXECUTION_ARN = {"Get": "Execution.PipelineExecutionArn"}


def tracked(base: DefinitionProps | None = None) -> DefinitionProps:
    return dataclasses.replace(base or props(), tracking_server_arn=SERVER)


def definition(p: DefinitionProps) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(build_definition(p, name="demo-dev-training"))
    return loaded


@pytest.fixture(scope="module")
def ours() -> dict[str, Any]:
    return definition(tracked())


def gate_of(d: dict[str, Any]) -> dict[str, Any]:
    [gate] = [s for s in d["Steps"] if s["Type"] == "Condition"]
    return gate


def branch_steps(d: dict[str, Any]) -> dict[str, dict[str, Any]]:
    arguments = gate_of(d)["Arguments"]
    return {s["Name"]: s for s in [*arguments["IfSteps"], *arguments["ElseSteps"]]}


def flags(arguments: list[Any], flag: str) -> list[Any]:
    return [arguments[i + 1] for i, word in enumerate(arguments) if word == flag]


def test_each_branch_logs_the_run_first(ours):
    arguments = gate_of(ours)["Arguments"]
    assert [s["Name"] for s in arguments["IfSteps"]] == ["Track", "Register", "LinkRun"]
    assert [s["Name"] for s in arguments["ElseSteps"]] == ["TrackRejected", "QualityGateFailed"]
    steps = branch_steps(ours)
    # the Fail step has no data reference to TrackRejected, so it says it waits for it
    assert steps["QualityGateFailed"]["DependsOn"] == ["TrackRejected"]
    assert "DependsOn" not in steps["Register"]  # it reads Track's property file: an implicit edge
    assert "DependsOn" not in steps["LinkRun"]  # it reads Register's ModelPackageArn: the same


def test_register_names_the_run_track_logged(ours):
    steps = branch_steps(ours)
    metadata = steps["Register"]["Arguments"]["CustomerMetadataProperties"]
    tracking_run = {"Get": "Steps.Track.PropertyFiles.TrackingRun"}
    assert metadata[contract.MLFLOW_RUN_ID_METADATA_KEY] == {
        "Std:JsonGet": {"PropertyFile": tracking_run, "Path": contract.TRACKING_RUN_ID_PATH}
    }
    assert metadata[contract.MLFLOW_EXPERIMENT_ID_METADATA_KEY] == {
        "Std:JsonGet": {"PropertyFile": tracking_run, "Path": contract.TRACKING_EXPERIMENT_ID_PATH}
    }
    assert metadata[contract.MLFLOW_SERVER_METADATA_KEY] == SERVER
    assert steps["Track"]["PropertyFiles"] == [
        {
            "PropertyFileName": "TrackingRun",
            "OutputName": contract.TRACKING_OUTPUT,
            "FilePath": contract.TRACKING_FILE,
        }
    ]


def test_the_registered_version_carries_the_card_track_wrote_pending_review(ours):
    steps = branch_steps(ours)
    # THEN Register's ModelCard is tracking.json's model_card, for a reviewer like the version
    assert steps["Register"]["Arguments"]["ModelCard"] == {
        "ModelCardContent": {
            "Std:JsonGet": {
                "PropertyFile": {"Get": "Steps.Track.PropertyFiles.TrackingRun"},
                "Path": contract.TRACKING_MODEL_CARD_PATH,
            }
        },
        "ModelCardStatus": CARD_STATUS,
    }
    # ... and the card's artifact is Train's model, a param of the run
    arguments = steps["Track"]["Arguments"]["AppSpecification"]["ContainerArguments"]
    joined = [p["Std:Join"]["Values"] for p in flags(arguments, "--param") if isinstance(p, dict)]
    assert ["model_data_uri=", {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}] in joined


def test_link_run_tags_the_run_with_registers_version_and_cannot_approve(ours):
    steps = branch_steps(ours)
    request, track = steps["LinkRun"]["Arguments"], steps["Track"]["Arguments"]
    # THEN it runs link_run.py from the bundle like Track, with the network, in the same VPC
    assert steps["LinkRun"]["Type"] == "Processing"
    assert request["AppSpecification"]["ContainerEntrypoint"][2].endswith('exec python3 link_run.py "$@"')
    assert request["AppSpecification"]["ImageUri"] == track["AppSpecification"]["ImageUri"]
    assert request["NetworkConfig"] == track["NetworkConfig"]
    assert request["RoleArn"] == track["RoleArn"]
    arguments = request["AppSpecification"]["ContainerArguments"]
    assert flags(arguments, "--tracking-server-arn") == [SERVER]
    assert flags(arguments, "--execution-arn") == [EXECUTION_ARN]
    assert flags(arguments, "--model-package-arn") == [{"Get": "Steps.Register.ModelPackageArn"}]
    # ... reading only the code bundle, writing nothing, and nothing in the definition approves
    assert [i["InputName"] for i in request["ProcessingInputs"]] == ["code"]
    assert request["ProcessingOutputConfig"]["Outputs"] == []
    assert "Approved" not in json.dumps(ours)


@pytest.mark.parametrize("name", ["Track", "TrackRejected"])
def test_track_runs_our_image_with_the_network_in_the_vpc_and_key_of_the_other_jobs(ours, name):
    step = branch_steps(ours)[name]
    [evaluate] = [s for s in ours["Steps"] if s["Name"] == "Evaluate"]
    request, other = step["Arguments"], evaluate["Arguments"]
    assert step["Type"] == "Processing"
    assert request["AppSpecification"]["ImageUri"] == other["AppSpecification"]["ImageUri"]
    assert request["AppSpecification"]["ContainerEntrypoint"][2].endswith('exec python3 track.py "$@"')
    assert request["NetworkConfig"] == other["NetworkConfig"]
    assert request["NetworkConfig"]["EnableNetworkIsolation"] is False
    assert request["ProcessingResources"] == other["ProcessingResources"]
    assert request["ProcessingOutputConfig"]["KmsKeyId"] == other["ProcessingOutputConfig"]["KmsKeyId"]
    assert request["RoleArn"] == other["RoleArn"]


@pytest.mark.parametrize("name", ["Track", "TrackRejected"])
def test_track_reads_the_report_the_model_and_the_baseline(ours, name):
    request = branch_steps(ours)[name]["Arguments"]
    inputs = {i["InputName"]: i["S3Input"] for i in request["ProcessingInputs"]}
    runs = "Steps.{}.ProcessingOutputConfig.Outputs['{}'].S3Output.S3Uri"
    assert inputs["evaluation"]["S3Uri"] == {"Get": runs.format("Evaluate", contract.EVALUATION_OUTPUT)}
    assert inputs["evaluation"]["LocalPath"] == contract.TRACK_EVALUATION_DIR
    assert inputs["model"]["S3Uri"] == {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}
    assert inputs["model"]["LocalPath"] == contract.TRACK_MODEL_DIR
    assert inputs["baseline"]["S3Uri"] == {"Get": runs.format("Preprocess", "baseline")}
    assert inputs["baseline"]["LocalPath"] == contract.TRACK_BASELINE_DIR
    assert inputs["code"]["LocalPath"] == contract.CODE_DIR
    [output] = request["ProcessingOutputConfig"]["Outputs"]
    assert (output["OutputName"], output["S3Output"]["LocalPath"]) == (
        contract.TRACKING_OUTPUT,
        contract.TRACKING_DIR,
    )


def test_track_arguments_name_the_server_the_execution_the_gate_params_and_steps(ours):
    steps = branch_steps(ours)
    passed, rejected = (
        steps[n]["Arguments"]["AppSpecification"]["ContainerArguments"] for n in ("Track", "TrackRejected")
    )
    for arguments in (passed, rejected):
        assert flags(arguments, "--tracking-server-arn") == [SERVER]
        assert flags(arguments, "--execution-arn") == [EXECUTION_ARN]
    assert flags(passed, "--gate") == [contract.GATE_PASSED]
    assert flags(passed, "--gate-message") == []
    assert flags(rejected, "--gate") == [contract.GATE_REJECTED]
    # the rejected run carries the Fail step's own message
    assert flags(rejected, "--gate-message") == [steps["QualityGateFailed"]["Arguments"]["ErrorMessage"]]
    params = flags(passed, "--param")
    assert [f"hp.{k}={v}" for k, v in TRAINING_HYPERPARAMETERS.items()] == params[
        : len(TRAINING_HYPERPARAMETERS)
    ]
    joined = {p["Std:Join"]["Values"][0]: p["Std:Join"]["Values"][1] for p in params if isinstance(p, dict)}
    assert joined["input_data_uri="] == {"Get": "Parameters.InputDataUri"}
    assert joined["threshold="] == {"Get": "Parameters.QualityThreshold"}
    assert joined["champion_margin="] == {"Get": "Parameters.ChampionMargin"}
    # the commit the build started the execution for: a parameter only a tracked pipeline has
    assert joined["git_commit="] == {"Get": "Parameters.SourceCommit"}
    parameters = {p["Name"]: p for p in ours["Parameters"]}
    assert parameters["SourceCommit"] == {"Name": "SourceCommit", "Type": "String", "DefaultValue": "unknown"}
    assert f"code_uri={props().code_uri}" in params
    assert "processing_instances=1" in params
    assert "training_instances=1" in params
    assert flags(passed, "--tag") == [
        "mlops.steps=Preprocess,Train,Evaluate,QualityGate,Track,Register,LinkRun"
    ]
    assert flags(rejected, "--tag") == [
        "mlops.steps=Preprocess,Train,Evaluate,QualityGate,TrackRejected,QualityGateFailed"
    ]


def test_the_steps_tag_names_profile_when_the_pipeline_scales():
    scaled = definition(tracked(dataclasses.replace(props(), processing_instances=2, training_instances=2)))
    arguments = branch_steps(scaled)["Track"]["Arguments"]["AppSpecification"]["ContainerArguments"]
    assert flags(arguments, "--tag") == [
        "mlops.steps=Profile,Preprocess,Train,Evaluate,QualityGate,Track,Register,LinkRun"
    ]
    assert "processing_instances=2" in flags(arguments, "--param")
    assert "training_instances=2" in flags(arguments, "--param")


@pytest.mark.parametrize(
    ("step", "operation", "generated"),
    [
        ("Track", "CreateProcessingJob", {"ProcessingJobName": "pipelines-x-Track"}),
        ("TrackRejected", "CreateProcessingJob", {"ProcessingJobName": "pipelines-x-TrackRejected"}),
        ("Register", "CreateModelPackage", {}),
        ("LinkRun", "CreateProcessingJob", {"ProcessingJobName": "pipelines-x-LinkRun"}),
    ],
)
def test_new_requests_are_valid_for_their_api(ours, step, operation, generated):
    assert _validate(operation, branch_steps(ours)[step]["Arguments"], **generated) == ""


def test_the_tracked_definition_is_what_the_sdk_compiles(sdk, ours):  # noqa: F811 (the fixture)
    assert _Rebuild(sdk, ours).compiled() == ours


def _untracked(d: dict[str, Any]) -> dict[str, Any]:
    """``d`` with the Track and LinkRun steps, Fail's wait for one, Register's run metadata and
    model card, and the SourceCommit parameter taken out."""
    d = copy.deepcopy(d)
    arguments = gate_of(d)["Arguments"]
    for branch in ("IfSteps", "ElseSteps"):
        arguments[branch] = [
            s for s in arguments[branch] if not s["Name"].startswith("Track") and s["Name"] != "LinkRun"
        ]
    arguments["ElseSteps"][0].pop("DependsOn")
    arguments["IfSteps"][0]["Arguments"].pop("ModelCard")
    metadata = arguments["IfSteps"][0]["Arguments"]["CustomerMetadataProperties"]
    for key in (
        contract.MLFLOW_RUN_ID_METADATA_KEY,
        contract.MLFLOW_EXPERIMENT_ID_METADATA_KEY,
        contract.MLFLOW_SERVER_METADATA_KEY,
    ):
        metadata.pop(key)
    d["Parameters"] = [p for p in d["Parameters"] if p["Name"] != "SourceCommit"]
    return d


@pytest.mark.parametrize("scale", [1, 2])
def test_without_a_server_the_definition_is_the_tracked_one_minus_tracking(ours, scale):
    base = dataclasses.replace(props(), processing_instances=scale, training_instances=scale)
    plain = build_definition(base, name="demo-dev-training")
    # the untracked definition is the tracked one with exactly the tracking parts removed
    assert json.loads(plain) == _untracked(definition(tracked(base)))
    # ... and holds no trace of tracking (byte-identical to the definition before issue 15)
    assert "Track" not in plain
    assert "Mlflow" not in plain.replace('"MlflowConfig":null', "")


def test_the_stack_names_this_environments_server_in_the_definition(synthesized):
    # GIVEN cdk.json's dev, which tracks runs
    assert synthesized.config.env.tracking.enabled
    path = synthesized.outdir / f"{synthesized.config.prefix}-pipeline.template.json"
    template = json.loads(path.read_text())
    pipeline = template["Resources"]["Pipeline"]  # the training pipeline (beside it: BatchScore...)
    body, variables = pipeline["Properties"]["PipelineDefinition"]["PipelineDefinitionBody"]["Fn::Sub"]
    # THEN the definition's ${TrackingServerArn} is the server's ARN in this account and region
    arn = json.dumps(variables["TrackingServerArn"])
    assert "mlflow-tracking-server/" + tracking_server_name(synthesized.config.prefix) in arn
    assert all(ref in arn for ref in ('"AWS::Partition"', '"AWS::Region"', '"AWS::AccountId"'))
    steps = branch_steps(json.loads(body))
    arguments = steps["Track"]["Arguments"]["AppSpecification"]["ContainerArguments"]
    assert flags(arguments, "--tracking-server-arn") == ["${TrackingServerArn}"]
    metadata = steps["Register"]["Arguments"]["CustomerMetadataProperties"]
    assert metadata[contract.MLFLOW_SERVER_METADATA_KEY] == "${TrackingServerArn}"
