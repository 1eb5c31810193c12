"""The pipeline definition: valid API requests per step, contracts between steps, offline build.

Each job step's ``Arguments`` are checked against botocore's own SageMaker service model for the
API that step calls, with pipeline expressions (``Get``, ``Std:Join``, ``Std:JsonGet``) replaced by
a placeholder of the member's type: the public pipeline-definition JSON schema is stale.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.validate import ParamValidator

from ml_code import contract
from ml_code.container import decode_hyperparameter
from ml_code.steps.train import hyperparameters_from
from stacks.pipeline.definition import build_definition
from stacks.pipeline.expressions import PropertyFile
from stacks.pipeline.props import TRAINING_HYPERPARAMETERS, DefinitionProps
from stacks.pipeline.requests import JobSettings
from stacks.pipeline.source_bundle import SHIMS, build_bundle
from stacks.pipeline.steps import PROCESSING, ConditionStep, FailStep, JobStep, pipeline_definition

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "111122223333"
BUNDLE_URI = "s3://cdk-assets-111122223333-eu-west-1/0123abcd.gz"
_EXPRESSIONS = ("Get", "Std:Join", "Std:JsonGet")


def props(*, use_spot: bool = True) -> DefinitionProps:
    return DefinitionProps(
        job=JobSettings(
            role_arn=f"arn:aws:iam::{ACCOUNT}:role/pipeline",
            kms_key_arn=f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            image_uri="141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:3.0-5",
            subnet_ids=("subnet-0123456789abcdef0", "subnet-0123456789abcdef1"),
            security_group_ids=("sg-0123456789abcdef0",),
            max_runtime_seconds=3600,
        ),
        artifact_bucket="artifacts-bucket",
        code_uri=BUNDLE_URI,
        region="eu-west-1",
        model_package_group_name="demo-dev-models",
        processing_instance_type="ml.m5.large",
        training_instance_type="ml.m5.xlarge",
        endpoint_instance_type="ml.m5.large",
        quality_threshold=0.7,
        champion_margin=0.01,
        use_spot=use_spot,
    )


@pytest.fixture(scope="module")
def definition() -> dict[str, Any]:
    return json.loads(build_definition(props(), name="demo-dev-training"))


@pytest.fixture(scope="module")
def steps(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for step in definition["Steps"]:
        found[step["Name"]] = step
        for branch in ("IfSteps", "ElseSteps"):
            found.update({s["Name"]: s for s in step["Arguments"].get(branch, [])})
    return found


# ------------------------------------------------------------------ API validation


def _placeholder(value: Any, shape: Any) -> Any:
    """``value`` with every pipeline expression replaced by a value of ``shape``'s type."""
    if isinstance(value, dict) and len(value) == 1 and next(iter(value)) in _EXPRESSIONS:
        return {"string": "s3://placeholder/key", "integer": 1, "long": 1, "float": 0.5,
                "double": 0.5, "boolean": True}[shape.type_name]  # fmt: skip
    if shape.type_name == "structure" and isinstance(value, dict):
        return {k: _placeholder(v, shape.members[k]) if k in shape.members else v for k, v in value.items()}
    if shape.type_name == "list" and isinstance(value, list):
        return [_placeholder(v, shape.member) for v in value]
    if shape.type_name == "map" and isinstance(value, dict):
        return {k: _placeholder(v, shape.value) for k, v in value.items()}
    return value


def _validate(operation: str, arguments: dict[str, Any], **generated: str) -> str:
    model = botocore.session.get_session().get_service_model("sagemaker").operation_model(operation)
    params = {**_placeholder(arguments, model.input_shape), **generated}
    report = ParamValidator().validate(params, model.input_shape)
    return report.generate_report() if report.has_errors() else ""


@pytest.mark.parametrize(
    ("step", "operation", "generated"),
    [
        ("Preprocess", "CreateProcessingJob", {"ProcessingJobName": "pipelines-x-Preprocess"}),
        ("Evaluate", "CreateProcessingJob", {"ProcessingJobName": "pipelines-x-Evaluate"}),
        ("Train", "CreateTrainingJob", {"TrainingJobName": "pipelines-x-Train"}),
        ("Register", "CreateModelPackage", {}),
    ],
)
def test_step_arguments_are_a_valid_request_for_its_api(steps, step, operation, generated):
    # GIVEN the step's arguments (SageMaker Pipelines adds the job name itself)
    arguments = steps[step]["Arguments"]
    # WHEN botocore validates them against the operation's input shape
    errors = _validate(operation, arguments, **generated)
    # THEN there is nothing to report
    assert errors == ""


def test_api_validation_catches_a_wrong_member_name(steps):
    broken = dict(steps["Train"]["Arguments"], TrainingInstanceTyp="ml.m5.large")
    assert "Unknown parameter" in _validate("CreateTrainingJob", broken, TrainingJobName="x")


def test_step_types_are_the_apis_validated(steps):
    assert {name: s["Type"] for name, s in steps.items()} == {
        "Preprocess": "Processing",
        "Train": "Training",
        "Evaluate": "Processing",
        "QualityGate": "Condition",
        "Register": "RegisterModel",
        "QualityGateFailed": "Fail",
    }


# ------------------------------------------------------------------ contracts between steps


def _get(name: str) -> dict[str, str]:
    return {"Get": name}


def _outputs(step: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {o["OutputName"]: o["S3Output"] for o in step["Arguments"]["ProcessingOutputConfig"]["Outputs"]}


def _inputs(step: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {i["InputName"]: i["S3Input"] for i in step["Arguments"]["ProcessingInputs"]}


def test_preprocess_outputs_are_the_contract_outputs(steps):
    outputs = _outputs(steps["Preprocess"])
    assert {name: out["LocalPath"] for name, out in outputs.items()} == contract.PREPROCESS_OUTPUTS


def test_training_channels_read_the_preprocess_outputs_of_the_same_name(steps):
    channels = {
        c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3Uri"]
        for c in steps["Train"]["Arguments"]["InputDataConfig"]
    }
    for channel in (contract.TRAIN_CHANNEL, contract.VALIDATION_CHANNEL):
        assert channel in contract.PREPROCESS_OUTPUTS
        assert channels[channel] == _get(
            f"Steps.Preprocess.ProcessingOutputConfig.Outputs['{channel}'].S3Output.S3Uri"
        )
    assert channels["code"] == BUNDLE_URI


def test_evaluate_reads_the_model_and_test_split_at_the_contract_paths(steps):
    inputs = _inputs(steps["Evaluate"])
    assert inputs["model"]["S3Uri"] == _get("Steps.Train.ModelArtifacts.S3ModelArtifacts")
    assert inputs["model"]["LocalPath"] == contract.MODEL_INPUT_DIR
    assert inputs["test"]["S3Uri"] == _get(
        "Steps.Preprocess.ProcessingOutputConfig.Outputs['test'].S3Output.S3Uri"
    )
    assert inputs["test"]["LocalPath"] == contract.TEST_INPUT_DIR
    assert _outputs(steps["Evaluate"])[contract.EVALUATION_OUTPUT]["LocalPath"] == contract.EVALUATION_DIR


def test_evaluation_property_file_is_the_report_the_evaluate_step_writes(steps):
    [report] = steps["Evaluate"]["PropertyFiles"]
    assert report["OutputName"] == contract.EVALUATION_OUTPUT
    assert report["FilePath"] == contract.EVALUATION_FILE


def test_gate_reads_evaluates_decision(steps):
    conditions = steps["QualityGate"]["Arguments"]["Conditions"]
    report = _get(f"Steps.Evaluate.PropertyFiles.{steps['Evaluate']['PropertyFiles'][0]['PropertyFileName']}")
    passed = {"Std:JsonGet": {"PropertyFile": report, "Path": contract.GATE_PASSED_PATH}}
    assert conditions == [{"Type": "GreaterThanOrEqualTo", "LeftValue": passed, "RightValue": 1}]
    assert [s["Name"] for s in steps["QualityGate"]["Arguments"]["IfSteps"]] == ["Register"]
    assert [s["Name"] for s in steps["QualityGate"]["Arguments"]["ElseSteps"]] == ["QualityGateFailed"]


def test_fail_message_is_evaluates_sentence(steps):
    message = steps["QualityGateFailed"]["Arguments"]["ErrorMessage"]
    assert message["Std:JsonGet"]["Path"] == contract.GATE_MESSAGE_PATH
    assert "1e9" not in json.dumps(steps)


def test_register_step_registers_the_trained_model_with_its_report(steps):
    request = steps["Register"]["Arguments"]
    [container] = request["InferenceSpecification"]["Containers"]
    assert container["ModelDataUrl"] == _get("Steps.Train.ModelArtifacts.S3ModelArtifacts")
    assert container["Image"] == steps["Train"]["Arguments"]["AlgorithmSpecification"]["TrainingImage"]
    assert container["Environment"]["SAGEMAKER_PROGRAM"] == "inference.py"
    assert container["Environment"]["SAGEMAKER_SUBMIT_DIRECTORY"] == contract.MODEL_CODE_CONTAINER_DIR
    assert request["ModelApprovalStatus"] == "PendingManualApproval"
    assert request["ModelPackageGroupName"] == "demo-dev-models"
    assert request["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"] == {
        "Std:Join": {
            "On": "/",
            "Values": [
                _get(
                    f"Steps.Evaluate.ProcessingOutputConfig.Outputs['{contract.EVALUATION_OUTPUT}'].S3Output.S3Uri"
                ),
                contract.EVALUATION_FILE,
            ],
        }
    }
    baseline = request["DriftCheckBaselines"]["ModelDataQuality"]
    assert baseline["Statistics"]["S3Uri"]["Std:Join"]["Values"][1] == contract.BASELINE_STATISTICS_FILE
    assert baseline["Constraints"]["S3Uri"]["Std:Join"]["Values"][1] == contract.BASELINE_CONSTRAINTS_FILE


# ------------------------------------------------------------------ the step command lines (brief's contract)


def _command(step: dict[str, Any]) -> tuple[str, list[Any]]:
    spec = step["Arguments"]["AppSpecification"]
    entrypoint = spec["ContainerEntrypoint"]
    assert entrypoint[:2] == ["/bin/sh", "-c"]
    assert entrypoint[3:] == ["sh"]  # $0 of the inline script; the job arguments follow as "$@"
    return entrypoint[2], spec["ContainerArguments"]


def test_preprocess_command_line(steps):
    script, arguments = _command(steps["Preprocess"])
    assert script == f'cd {contract.CODE_DIR} && tar -xzf 0123abcd.gz && exec python3 preprocess.py "$@"'
    assert arguments == [
        "--target-column", _get("Parameters.TargetColumn"), "--problem-type", _get("Parameters.ProblemType"),
        "--chunk-rows", "100000", "--sample-rows", "100000", "--shards", "1",
    ]  # fmt: skip
    assert _inputs(steps["Preprocess"])["data"] == {
        "S3Uri": _get("Parameters.InputDataUri"),
        "LocalPath": contract.RAW_DATA_DIR,
        "S3DataType": "S3Prefix",
        "S3InputMode": "File",
        "S3DataDistributionType": "FullyReplicated",
    }
    assert _inputs(steps["Preprocess"])["code"]["LocalPath"] == contract.CODE_DIR


def test_evaluate_command_line(steps):
    script, arguments = _command(steps["Evaluate"])
    assert script.endswith('exec python3 evaluate.py "$@"')
    assert arguments == [
        "--problem-type", _get("Parameters.ProblemType"),
        "--model-package-group", "demo-dev-models",
        "--champion-margin", _get("Parameters.ChampionMargin"),
        "--threshold", _get("Parameters.QualityThreshold"),
        "--gate-metric", "auto", "--min-lift", "0.05", "--confidence", "0.95", "--resamples", "1000",
        "--min-test-rows", "50", "--min-class-rows", "10",
        "--seed", "42",
        "--chunk-rows", "100000",
    ]  # fmt: skip


def test_train_runs_train_py_under_its_own_entrypoint_with_the_brief_hyperparameters(steps):
    arguments = steps["Train"]["Arguments"]
    algorithm = arguments["AlgorithmSpecification"]
    # GIVEN the same command shape as processing, unpacking the bundle where the code channel lands
    # (network isolation: the bundle comes in through the channel, not from S3) ...
    assert algorithm["ContainerEntrypoint"] == [
        "/bin/sh", "-c",
        'cd /opt/ml/input/data/code && tar -xzf 0123abcd.gz && exec python3 train.py "$@"', "sh",
    ]  # fmt: skip
    assert algorithm["ContainerArguments"] == ["--chunk-rows", "100000"]
    assert {c["ChannelName"]: c for c in arguments["InputDataConfig"]}["code"]["DataSource"]["S3DataSource"][
        "S3Uri"
    ].endswith("/0123abcd.gz")
    # ... and only the user's hyperparameters: no toolkit runs, so none of its sagemaker_* settings
    assert arguments["HyperParameters"] == TRAINING_HYPERPARAMETERS
    assert TRAINING_HYPERPARAMETERS == {
        "num_round": "300", "max_depth": "5", "eta": "0.1", "subsample": "0.9",
        "early_stopping_rounds": "20", "seed": "42",
    }  # fmt: skip


def test_the_definition_hyperparameters_are_what_train_py_accepts(steps):
    decoded = {k: decode_hyperparameter(v) for k, v in steps["Train"]["Arguments"]["HyperParameters"].items()}
    assert asdict(hyperparameters_from(decoded)) == {
        "num_round": 300, "max_depth": 5, "eta": 0.1, "subsample": 0.9,
        "early_stopping_rounds": 20, "seed": 42,
    }  # fmt: skip


def test_parameters_and_their_defaults(definition):
    assert {p["Name"]: (p["Type"], p["DefaultValue"]) for p in definition["Parameters"]} == {
        "InputDataUri": ("String", "s3://artifacts-bucket/data/raw/"),
        "TargetColumn": ("String", contract.SAMPLE_TARGET_COLUMN),
        "ProblemType": ("String", "binary"),
        "ProcessingInstanceType": ("String", "ml.m5.large"),
        "TrainingInstanceType": ("String", "ml.m5.xlarge"),
        "QualityThreshold": ("String", "0.7"),
        "ChampionMargin": ("Float", 0.01),
    }


# ------------------------------------------------------------------ security settings


def test_network_isolation_everywhere_but_the_champion_lookup(steps):
    assert steps["Preprocess"]["Arguments"]["NetworkConfig"]["EnableNetworkIsolation"] is True
    assert steps["Train"]["Arguments"]["EnableNetworkIsolation"] is True
    assert steps["Evaluate"]["Arguments"]["NetworkConfig"]["EnableNetworkIsolation"] is False


def test_spot_switch(steps):
    # GIVEN a second definition with spot training off
    off = {s["Name"]: s for s in json.loads(build_definition(props(use_spot=False), name="x"))["Steps"]}
    on = steps["Train"]["Arguments"]
    # THEN only the spot definition waits for capacity and checkpoints
    assert on["EnableManagedSpotTraining"] is True
    assert on["StoppingCondition"] == {"MaxRuntimeInSeconds": 3600, "MaxWaitTimeInSeconds": 7200}
    assert on["CheckpointConfig"]["LocalPath"] == "/opt/ml/checkpoints"
    assert off["Train"]["Arguments"]["EnableManagedSpotTraining"] is False
    assert "CheckpointConfig" not in off["Train"]["Arguments"]
    assert off["Train"]["Arguments"]["StoppingCondition"] == {"MaxRuntimeInSeconds": 3600}


# ------------------------------------------------------------------ offline and deterministic

_OFFLINE_BUILD = """
import socket, sys
def refuse(*args, **kwargs):
    raise SystemExit(f"network call attempted: {args[1:]!r}")
socket.socket.connect = refuse
socket.create_connection = refuse
sys.path.insert(0, sys.argv[1])
sys.path.insert(0, sys.argv[2])
from test_pipeline_definition import props
from stacks.pipeline.definition import build_definition
sys.stdout.write(build_definition(props(), name="demo-dev-training"))
"""


def test_definition_builds_with_no_network_and_no_credentials_and_is_stable(definition):
    # GIVEN a fresh interpreter where every socket connect fails and AWS is unconfigured
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["AWS_EC2_METADATA_DISABLED"] = "false"
    # WHEN it builds the definition
    done = subprocess.run(
        [sys.executable, "-c", _OFFLINE_BUILD, str(ROOT), str(Path(__file__).parent)],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )  # fmt: skip
    # THEN it succeeds, byte-for-byte the same as this process's build
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout) == definition
    assert done.stdout == build_definition(props(), name="demo-dev-training")


# ------------------------------------------------------------------ the source bundle


def _members(path: Path) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(path) as tar:
        return {m.name: m for m in tar.getmembers()}


def test_source_bundle_is_byte_identical_across_builds(tmp_path):
    # GIVEN the package copied with different file times and a stray cache
    copy = tmp_path / "ml_code"
    shutil.copytree(ROOT / "ml_code", copy, ignore=shutil.ignore_patterns("__pycache__"))
    for i, path in enumerate(sorted(copy.rglob("*.py"))):
        os.utime(path, (1_000_000 + i, 1_000_000 + i))
    # WHEN the bundle is built from the original and from the copy
    first = build_bundle(ROOT / "ml_code", tmp_path / "a").read_bytes()
    second = build_bundle(copy, tmp_path / "b").read_bytes()
    # THEN the bytes are the same, and the gzip header carries no time
    assert first == second
    assert first[4:8] == b"\x00\x00\x00\x00"


def test_source_bundle_holds_the_package_and_the_shims_only(tmp_path):
    package = tmp_path / "ml_code"
    (package / "tests").mkdir(parents=True)
    (package / "__pycache__").mkdir()
    (package / "steps").mkdir()
    (package / "__init__.py").write_text("")
    (package / "steps" / "__init__.py").write_text("")
    (package / "steps" / "train.py").write_text("def main():\n    return 0\n")
    (package / "stale.pyc").write_bytes(b"\0")
    (package / "tests" / "test_x.py").write_text("")
    (package / "__pycache__" / "train.cpython-311.pyc").write_bytes(b"\0")

    members = _members(build_bundle(package, tmp_path / "out"))

    assert sorted(members) == sorted(
        [*SHIMS, "ml_code/__init__.py", "ml_code/steps/__init__.py", "ml_code/steps/train.py"]
    )
    assert {(m.mtime, m.uid, m.gid, m.mode, m.uname) for m in members.values()} == {
        (315532800, 0, 0, 0o644, "")
    }


def test_shims_run_the_package_entry_points(tmp_path):
    # GIVEN a bundle of a tiny package whose train.main reports that it ran
    package = tmp_path / "ml_code"
    (package / "steps").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "steps" / "__init__.py").write_text("")
    (package / "steps" / "train.py").write_text("def main():\n    print('trained')\n    return 3\n")
    with tarfile.open(build_bundle(package, tmp_path / "out")) as tar:
        tar.extractall(tmp_path / "extracted", filter="data")
    # WHEN the container runs `python3 train.py` in the extracted bundle
    done = subprocess.run(
        [sys.executable, "train.py"], cwd=tmp_path / "extracted", capture_output=True, text=True, check=False
    )
    # THEN ml_code.steps.train.main ran and its return code is the exit status
    assert (done.stdout, done.returncode) == ("trained\n", 3)
    assert SHIMS[contract.SERVING_PROGRAM] == contract.SERVING_SHIM_SOURCE


def test_bundle_of_a_non_package_is_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a Python package"):
        build_bundle(tmp_path, tmp_path / "out")


# ------------------------------------------------------------------ what a synth imports

_BUILD_PLATFORM = """
import json, sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
import aws_cdk as cdk
from stacks.application import build_platform
from contracts.config import load_config
context = json.loads((Path(sys.argv[1]) / "cdk.json").read_text())["context"]
build_platform(cdk.App(context=context, outdir=sys.argv[2]), load_config(context))
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in ("sagemaker", "pandas"))))
"""


def test_a_synth_never_imports_the_sagemaker_sdk(tmp_path):
    # GIVEN a fresh process (nothing imported, whatever .build/ holds)
    # WHEN it builds the whole platform, both pipeline definitions included
    done = subprocess.run(
        [sys.executable, "-c", _BUILD_PLATFORM, str(ROOT), str(tmp_path)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    # THEN neither the SageMaker SDK (seconds to import) nor pandas, which it pulls in, was imported
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


# ------------------------------------------------------------------ references the steps refuse


def _processing_step(**overrides: Any) -> JobStep:
    arguments = {"ProcessingOutputConfig": {"Outputs": [{"OutputName": "report"}]}}
    return JobStep(
        **{"name": "Check", "type": PROCESSING, "description": "d", "arguments": arguments, **overrides}
    )


def test_a_step_refers_only_to_what_it_declares():
    report = PropertyFile(name="Report", output_name="report", path="report.json")
    check = _processing_step(property_files=(report,))
    # a declared output and property file are fine
    assert check.output_uri("report") == _get(
        "Steps.Check.ProcessingOutputConfig.Outputs['report'].S3Output.S3Uri"
    )
    assert check.json_get(report, "a.b")["Std:JsonGet"]["Path"] == "a.b"
    # anything else is refused at build time, naming what the step has
    with pytest.raises(ValueError, match=r"no processing output 'model' \(it has \['report'\]\)"):
        check.output_uri("model")
    with pytest.raises(ValueError, match="not Training"):
        check.model_artifacts()
    with pytest.raises(ValueError, match="no property file 'Other'"):
        check.json_get(PropertyFile(name="Other", output_name="report", path="x.json"), "a")
    with pytest.raises(ValueError, match="no processing output 'missing'"):
        _processing_step(property_files=(PropertyFile(name="R", output_name="missing", path="r.json"),))
    with pytest.raises(ValueError, match="Processing, Training or RegisterModel"):
        _processing_step(type="Transform")


def test_step_names_are_unique_across_branches():
    fail = FailStep(name="Check", error_message="no")
    gate = ConditionStep(name="Gate", description="d", conditions=[], if_steps=[], else_steps=[fail])
    with pytest.raises(ValueError, match="unique"):
        pipeline_definition([], [_processing_step(), gate])
