"""Both pipeline definitions are exactly what the SageMaker Python SDK would compile.

``stacks/pipeline/steps.py`` writes the definition JSON itself, because importing the SDK costs
seconds of every ``cdk synth``. Here each definition is rebuilt from the SDK's own classes and
compiled by the SDK's ``Pipeline.definition()``: every ``{"Get": ...}`` becomes the SDK's
parameter, ``ExecutionVariables`` member or step ``Properties`` (walked attribute by attribute
through botocore's ``Describe*`` shape for that step type, so a property the API does not have
fails), ``Std:Join`` / ``Std:JsonGet`` become ``Join`` / ``JsonGet`` on a ``PropertyFile``, and
each step becomes the SDK step of its type. The SDK's JSON must equal ours: if an SDK release
writes definitions differently, this is where it shows.

What this cannot see is a value both sides agree on but is wrong (the rebuild starts from our
JSON): the values are what test_pipeline_definition.py, test_drift_definition.py and the offline
runner's tests check.
"""

from __future__ import annotations

import copy
import importlib
import json
import re
import socket
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from test_drift_definition import PROPS as DRIFT_PROPS
from test_pipeline_definition import props
from test_pipeline_scale import scaled_definition

from stacks.monitoring.definition import build_drift_definition, definition_json
from stacks.pipeline.definition import build_definition

_SDK_MODULES = {
    "session": "sagemaker.core.helper.session_helper",
    "conditions": "sagemaker.core.workflow.conditions",
    "execution": "sagemaker.core.workflow.execution_variables",
    "functions": "sagemaker.core.workflow.functions",
    "parameters": "sagemaker.core.workflow.parameters",
    "properties": "sagemaker.core.workflow.properties",
    "lambda_helper": "sagemaker.core.lambda_helper",
    "condition_step": "sagemaker.mlops.workflow.condition_step",
    "fail_step": "sagemaker.mlops.workflow.fail_step",
    "lambda_step": "sagemaker.mlops.workflow.lambda_step",
    "pipeline": "sagemaker.mlops.workflow.pipeline",
    "steps": "sagemaker.mlops.workflow.steps",
}
#: Job step type -> the botocore shape its properties follow (as the SDK's own job steps use).
_DESCRIBE_SHAPES = {
    "Processing": "DescribeProcessingJobResponse",
    "Training": "DescribeTrainingJobResponse",
    "RegisterModel": "DescribeModelPackageOutput",
}
_PATH_TOKEN = re.compile(r"\.?([A-Za-z0-9]+)|\['([^']*)'\]|\[(\d+)\]")
_PROPERTY_FILE = re.compile(r"Steps\.(\w+)\.PropertyFiles\.(\w+)")
_LAMBDA_OUTPUT = re.compile(r"OutputParameters\['([^']+)'\]")


def _member(enum: Any, value: str) -> Any:
    """The member of an SDK enum with ``value`` (calling the enum ignores a positional value)."""
    [member] = [m for m in enum if m.value == value]
    return member


def _refuse_network(*args: Any, **kwargs: Any) -> None:
    raise AssertionError(f"network call attempted: {args[1:]!r}")


@pytest.fixture(scope="module")
def sdk() -> Iterator[SimpleNamespace]:
    """The SDK modules, imported and used offline: no credentials lookup, no telemetry, no socket."""
    with pytest.MonkeyPatch.context() as patch:
        # The SDK reads these at import; importing sagemaker.mlops builds a boto3 client at
        # class-definition time, so boto3's default session is a throwaway with dummy credentials.
        patch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        patch.setenv("SAGEMAKER_VALIDATE_ROLE", "false")
        patch.setattr(socket.socket, "connect", _refuse_network)
        patch.setattr(boto3, "DEFAULT_SESSION", _throwaway_session())
        modules = {alias: importlib.import_module(name) for alias, name in _SDK_MODULES.items()}
        yield SimpleNamespace(**modules)


def _throwaway_session() -> boto3.Session:
    return boto3.Session(
        aws_access_key_id="offline-test", aws_secret_access_key="offline-test", region_name="us-east-1"
    )


def _offline_session(sdk: SimpleNamespace) -> Any:
    # Explicit SDK config: no admin/user config file is read, and telemetry is off.
    config = {"SchemaVersion": "1.0", "SageMaker": {"PythonSDK": {"Modules": {"TelemetryOptOut": True}}}}
    return sdk.session.Session(boto_session=_throwaway_session(), sagemaker_config=config)


class _Rebuild:
    """Our definition JSON -> the SDK objects that compile to it (if the SDK agrees)."""

    def __init__(self, sdk: SimpleNamespace, definition: dict[str, Any]) -> None:
        self.sdk = sdk
        self.session = _offline_session(sdk)
        self.parameters = {p["Name"]: self._parameter(p) for p in definition["Parameters"]}
        self.steps: dict[str, Any] = {}
        self.property_files: dict[tuple[str, str], Any] = {}
        top = [self.step(s) for s in definition["Steps"]]
        self.pipeline = sdk.pipeline.Pipeline(
            name="sdk-rebuild",
            parameters=list(self.parameters.values()),
            steps=top,
            sagemaker_session=self.session,
            pipeline_experiment_config=None,
        )

    def _parameter(self, declared: dict[str, Any]) -> Any:
        known = {"Name", "Type", "DefaultValue", "EnumValues"}
        assert set(declared) <= known, f"parameter keys the rebuild does not know: {set(declared) - known}"
        default = declared.get("DefaultValue")
        if declared["Type"] == "String":
            return self.sdk.parameters.ParameterString(
                declared["Name"], default_value=default, enum_values=declared.get("EnumValues")
            )
        assert declared["Type"] == "Float", f"no rebuild for parameter type {declared['Type']}"
        return self.sdk.parameters.ParameterFloat(declared["Name"], default_value=default)

    # ---------------------------------------------------------------- expressions

    def value(self, value: Any) -> Any:
        """JSON -> the same JSON with every expression replaced by its SDK object."""
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if not isinstance(value, dict):
            return value
        if set(value) == {"Get"}:
            return self._get(value["Get"])
        if set(value) == {"Std:Join"}:
            join = value["Std:Join"]
            return self.sdk.functions.Join(on=join["On"], values=[self.value(v) for v in join["Values"]])
        if set(value) == {"Std:JsonGet"}:
            return self._json_get(value["Std:JsonGet"])
        assert not any(k == "Get" or k.startswith("Std:") for k in value), f"unknown expression {value}"
        return {k: self.value(v) for k, v in value.items()}

    def _get(self, path: str) -> Any:
        root, _, rest = path.partition(".")
        if root == "Parameters":
            return self.parameters[rest]
        if root == "Execution":
            variables = vars(self.sdk.execution.ExecutionVariables).values()
            [variable] = [v for v in variables if getattr(v, "name", None) == rest]
            return variable
        assert root == "Steps", f"no rebuild for {path}"
        name, _, member = rest.partition(".")
        step = self.steps[name]  # KeyError: a reference to a step not defined before it
        if isinstance(step, self.sdk.lambda_step.LambdaStep):
            [output] = _LAMBDA_OUTPUT.fullmatch(member).groups()
            return step.properties.Outputs[output]
        found = step.properties
        for attribute, key, index in _PATH_TOKEN.findall(member):
            # AttributeError / KeyError here: the Describe* shape has no such member
            found = getattr(found, attribute) if attribute else found[key or int(index)]
        return found

    def _json_get(self, json_get: dict[str, Any]) -> Any:
        assert set(json_get) == {"PropertyFile", "Path"}, json_get
        step_name, file_name = _PROPERTY_FILE.fullmatch(json_get["PropertyFile"]["Get"]).groups()
        return self.sdk.functions.JsonGet(
            step_name=step_name,
            property_file=self.property_files[(step_name, file_name)],
            json_path=json_get["Path"],
        )

    def _condition(self, condition: dict[str, Any]) -> Any:
        classes = {
            "GreaterThan": self.sdk.conditions.ConditionGreaterThan,
            "GreaterThanOrEqualTo": self.sdk.conditions.ConditionGreaterThanOrEqualTo,
        }
        assert set(condition) == {"Type", "LeftValue", "RightValue"}, condition
        return classes[condition["Type"]](
            left=self.value(condition["LeftValue"]), right=self.value(condition["RightValue"])
        )

    # ---------------------------------------------------------------- steps

    def step(self, step: dict[str, Any]) -> Any:
        common = {"name": step["Name"], "description": step.get("Description")}
        kind = step["Type"]
        if kind in _DESCRIBE_SHAPES:
            built = self._job_step(step, common)
        elif kind == "Lambda":
            built = self.sdk.lambda_step.LambdaStep(
                **common,
                lambda_func=self.sdk.lambda_helper.Lambda(
                    function_arn=step["FunctionArn"], session=self.session
                ),
                inputs=self.value(step["Arguments"]),
                outputs=[
                    self.sdk.lambda_step.LambdaOutput(
                        output_name=o["OutputName"],
                        output_type=_member(self.sdk.lambda_step.LambdaOutputTypeEnum, o["OutputType"]),
                    )
                    for o in step["OutputParameters"]
                ],
                depends_on=step.get("DependsOn"),
            )
        elif kind == "Condition":
            arguments = step["Arguments"]
            conditions = [self._condition(c) for c in arguments["Conditions"]]
            built = self.sdk.condition_step.ConditionStep(
                **common,
                conditions=conditions,
                if_steps=[self.step(s) for s in arguments["IfSteps"]],
                else_steps=[self.step(s) for s in arguments["ElseSteps"]],
            )
        else:
            assert kind == "Fail", f"no rebuild for step type {kind}"
            built = self.sdk.fail_step.FailStep(
                **common,
                error_message=self.value(step["Arguments"]["ErrorMessage"]),
                depends_on=step.get("DependsOn"),
            )
        self.steps[step["Name"]] = built
        return built

    def _job_step(self, step: dict[str, Any], common: dict[str, Any]) -> Any:
        sdk = self.sdk
        files = [
            sdk.properties.PropertyFile(
                name=f["PropertyFileName"], output_name=f["OutputName"], path=f["FilePath"]
            )
            for f in step.get("PropertyFiles", [])
        ]
        for file in files:
            self.property_files[(step["Name"], file.name)] = file

        class RequestStep(sdk.steps.ConfigurableRetryStep):
            """A job step whose Arguments are an API request (what our JobStep writes)."""

            def __init__(self, arguments: Any) -> None:
                step_type = _member(sdk.steps.StepTypeEnum, step["Type"])
                super().__init__(step_type=step_type, depends_on=step.get("DependsOn"), **common)
                self._arguments = arguments
                self._properties = sdk.properties.Properties(
                    step_name=step["Name"], step=self, shape_name=_DESCRIBE_SHAPES[step["Type"]]
                )
                self.property_files = files

            @property
            def arguments(self) -> Any:
                return self._arguments

            @property
            def properties(self) -> Any:
                return self._properties

            def to_request(self) -> dict[str, Any]:
                request: dict[str, Any] = super().to_request()
                if self.property_files:
                    request["PropertyFiles"] = [f.expr for f in self.property_files]
                return request

        return RequestStep(self.value(step["Arguments"]))

    def compiled(self) -> dict[str, Any]:
        definition: dict[str, Any] = json.loads(self.pipeline.definition())
        return definition


def _training() -> dict[str, Any]:
    definition: dict[str, Any] = json.loads(build_definition(props(), name="demo-dev-training"))
    return definition


@pytest.mark.parametrize("use_spot", [True, False])
def test_training_definition_is_what_the_sdk_compiles(sdk, use_spot):
    # GIVEN our training definition (both shapes of the training request)
    ours = json.loads(build_definition(props(use_spot=use_spot), name="demo-dev-training"))
    # WHEN the SDK's own classes are built from it and compiled
    theirs = _Rebuild(sdk, ours).compiled()
    # THEN the SDK writes the very same definition
    assert theirs == ours


def test_scaled_training_definition_is_what_the_sdk_compiles(sdk):
    # GIVEN the definition with a Profile step and jobs on several instances (pipeline.scale)
    ours = scaled_definition(processing=2, training=3)
    # THEN the SDK compiles the same JSON from its own classes
    assert _Rebuild(sdk, ours).compiled() == ours


@pytest.mark.filterwarnings("ignore:Lambda function won't be updated:UserWarning")  # it is given an ARN only
def test_drift_definition_is_what_the_sdk_compiles(sdk):
    ours = build_drift_definition(DRIFT_PROPS)
    theirs = _Rebuild(sdk, ours).compiled()
    assert theirs == ours
    # the CfnPipeline body drops only the top-level keys the SDK writes as null
    assert json.loads(definition_json(DRIFT_PROPS)) == {k: v for k, v in theirs.items() if v is not None}


def test_a_property_the_api_does_not_have_is_refused(sdk):
    # GIVEN the training definition with one property path misspelt
    broken = json.loads(
        build_definition(props(), name="x").replace(
            "ModelArtifacts.S3ModelArtifacts", "ModelArtifacts.S3Model"
        )
    )
    # THEN walking it through the SDK's typed Properties fails
    with pytest.raises(AttributeError, match="S3Model"):
        _Rebuild(sdk, broken)


def test_json_the_sdk_would_write_differently_is_a_difference(sdk):
    # GIVEN a definition where a step carries an empty description (the SDK leaves it out)
    ours = copy.deepcopy(_training())
    ours["Steps"][0]["Description"] = ""
    # THEN the comparison sees it
    assert _Rebuild(sdk, ours).compiled() != ours
