"""Pipeline expressions and conditions as the offline runner evaluates them.

Shapes are the SageMaker SDK's serialization: `{"Get": ...}`, `Std:Join`, `Std:JsonGet`
(property file or S3 URI), and condition objects keyed by `Type`.
"""

from __future__ import annotations

from typing import Any

import pytest

from emulator.definition import PipelineDefinitionError, coerce_parameters, dependencies, flatten
from emulator.expressions import ExpressionError, Scope, parse_path

REPORT = {"quality_gate": {"metric": "auc", "value": 0.83, "champion_floor": -1e9}, "list": [10, 20]}


def scope() -> Scope:
    reads: dict[tuple[str, str], Any] = {("Evaluate", "EvaluationReport"): REPORT}
    return Scope(
        parameters={"Threshold": 0.8, "Target": "churn", "Rounds": 300, "Flag": True},
        execution={"PipelineExecutionId": "abc123def456"},
        properties={
            "Preprocess": {
                "ProcessingOutputConfig": {
                    "Outputs": {
                        "train": {"OutputName": "train", "S3Output": {"S3Uri": "s3://b/run/train"}},
                        "test": {"OutputName": "test", "S3Output": {"S3Uri": "s3://b/run/test"}},
                    }
                }
            },
            "Train": {"ModelArtifacts": {"S3ModelArtifacts": "s3://b/run/model.tar.gz"}},
        },
        read_property_file=lambda step, name: reads[(step, name)],
        read_s3_json=lambda uri: {"uri": uri, "nested": {"v": 7}},
    )


JSON_GET = {
    "Std:JsonGet": {
        "PropertyFile": {"Get": "Steps.Evaluate.PropertyFiles.EvaluationReport"},
        "Path": "quality_gate.value",
    }
}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ({"Get": "Parameters.Threshold"}, 0.8),
        ({"Get": "Execution.PipelineExecutionId"}, "abc123def456"),
        ({"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}, "s3://b/run/model.tar.gz"),
        (
            {"Get": "Steps.Preprocess.ProcessingOutputConfig.Outputs['test'].S3Output.S3Uri"},
            "s3://b/run/test",
        ),
        (
            {"Get": 'Steps.Preprocess.ProcessingOutputConfig.Outputs["train"].S3Output.S3Uri'},
            "s3://b/run/train",
        ),
        # by position, in definition order, as SageMaker's property lists allow
        ({"Get": "Steps.Preprocess.ProcessingOutputConfig.Outputs[1].S3Output.S3Uri"}, "s3://b/run/test"),
        (
            {"Std:Join": {"On": "/", "Values": ["s3:/", "b", {"Get": "Execution.PipelineExecutionId"}, "x"]}},
            "s3://b/abc123def456/x",
        ),
        # typed values join as SageMaker renders them (floats, ints, booleans lower-case)
        (
            {
                "Std:Join": {
                    "On": ",",
                    "Values": [{"Get": "Parameters.Threshold"}, {"Get": "Parameters.Rounds"}],
                }
            },
            "0.8,300",
        ),
        ({"Std:Join": {"On": "", "Values": ["flag=", {"Get": "Parameters.Flag"}]}}, "flag=true"),
        (JSON_GET, 0.83),
        (
            {
                "Std:JsonGet": {
                    "PropertyFile": {"Get": "Steps.Evaluate.PropertyFiles.EvaluationReport"},
                    "Path": "list[1]",
                }
            },
            20,
        ),
        (
            {
                "Std:JsonGet": {
                    "S3Uri": {"Std:Join": {"On": "/", "Values": ["s3://b", "r.json"]}},
                    "Path": "nested.v",
                }
            },
            7,
        ),
        # expressions nest inside plain structures, which are otherwise kept
        ({"A": [{"Get": "Parameters.Target"}, 1], "B": None}, {"A": ["churn", 1], "B": None}),
    ],
)
def test_expressions_resolve_to_values(expression: Any, expected: Any) -> None:
    assert scope().resolve(expression) == expected


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ({"Get": "Parameters.Nope"}, "unknown pipeline parameter 'Nope'"),
        ({"Get": "Execution.Nope"}, "unknown execution variable 'Nope'"),
        ({"Get": "Steps.Later.ModelArtifacts.S3ModelArtifacts"}, "step 'Later' has not run"),
        (
            {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifact"},
            "step 'Train' has no property 'ModelArtifacts.S3ModelArtifact'",
        ),
        (
            {"Get": "Steps.Preprocess.ProcessingOutputConfig.Outputs['model'].S3Output.S3Uri"},
            "step 'Preprocess' has no property \"ProcessingOutputConfig.Outputs['model'].S3Output.S3Uri\"",
        ),
        (
            {
                "Std:JsonGet": {
                    "PropertyFile": {"Get": "Steps.Evaluate.PropertyFiles.EvaluationReport"},
                    "Path": "quality_gate.nope",
                }
            },
            "property file 'EvaluationReport' of step 'Evaluate' has no property 'quality_gate.nope'",
        ),
        ({"Std:Select": {"Index": 0}}, "pipeline function Std:Select is not supported offline"),
        ({"Get": "Other.X"}, "unknown reference 'Other.X'"),
    ],
)
def test_bad_expressions_fail_naming_what_is_missing(expression: Any, message: str) -> None:
    with pytest.raises(ExpressionError) as raised:
        scope().resolve(expression)
    assert message in str(raised.value)


def compare(kind: str, left: Any, right: Any) -> dict[str, Any]:
    return {"Type": kind, "LeftValue": left, "RightValue": right}


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (compare("GreaterThanOrEqualTo", JSON_GET, {"Get": "Parameters.Threshold"}), True),
        (compare("GreaterThanOrEqualTo", 0.8, {"Get": "Parameters.Threshold"}), True),
        (compare("GreaterThan", 0.8, {"Get": "Parameters.Threshold"}), False),
        (compare("GreaterThan", JSON_GET, 0.82), True),
        (compare("LessThan", JSON_GET, 0.83), False),
        (compare("LessThan", JSON_GET, 0.84), True),
        (compare("LessThanOrEqualTo", JSON_GET, 0.83), True),
        (compare("LessThanOrEqualTo", JSON_GET, 0.82), False),
        (compare("Equals", {"Get": "Parameters.Target"}, "churn"), True),
        (compare("Equals", {"Get": "Parameters.Target"}, "label"), False),
        (compare("Equals", {"Get": "Parameters.Rounds"}, 300.0), True),
        ({"Type": "In", "QueryValue": {"Get": "Parameters.Target"}, "Values": ["x", "churn"]}, True),
        ({"Type": "In", "QueryValue": {"Get": "Parameters.Target"}, "Values": ["x", "y"]}, False),
        ({"Type": "Not", "Expression": compare("Equals", 1, 1)}, False),
        ({"Type": "Not", "Expression": compare("Equals", 1, 2)}, True),
        ({"Type": "Or", "Conditions": [compare("Equals", 1, 2), compare("LessThan", 1, 2)]}, True),
        ({"Type": "Or", "Conditions": [compare("Equals", 1, 2), compare("LessThan", 3, 2)]}, False),
    ],
)
def test_conditions(condition: dict[str, Any], expected: bool) -> None:
    assert scope().condition(condition) is expected


def test_comparing_text_with_a_number_names_the_condition() -> None:
    with pytest.raises(ExpressionError, match="GreaterThan compares numbers, got 'churn'"):
        scope().condition(compare("GreaterThan", {"Get": "Parameters.Target"}, 1))


def test_unknown_condition_type_is_an_error() -> None:
    with pytest.raises(ExpressionError, match="condition type 'Between' is not supported"):
        scope().condition(compare("Between", 1, 2))


def test_property_paths_parse_names_quoted_keys_and_indexes() -> None:
    assert parse_path("A.B['x y'][2].C") == ["A", "B", "x y", 2, "C"]
    with pytest.raises(ExpressionError, match="cannot parse property path"):
        parse_path("A.B[")


PARAMETERS = {
    "Parameters": [
        {"Name": "Threshold", "Type": "Float", "DefaultValue": 0.7},
        {"Name": "Rounds", "Type": "Integer", "DefaultValue": 10},
        {"Name": "Flag", "Type": "Boolean", "DefaultValue": False},
        {
            "Name": "Problem",
            "Type": "String",
            "DefaultValue": "binary",
            "EnumValues": ["binary", "regression"],
        },
    ]
}


def test_parameter_overrides_are_typed_as_declared() -> None:
    values = coerce_parameters(PARAMETERS, {"Threshold": "0.9", "Rounds": "20", "Flag": "TRUE"})
    assert values == {"Threshold": 0.9, "Rounds": 20, "Flag": True, "Problem": "binary"}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"Treshold": 1}, "unknown pipeline parameter(s) Treshold; the definition has Flag, Problem"),
        ({"Rounds": "many"}, "pipeline parameter 'Rounds' is Integer, got 'many'"),
        ({"Rounds": 2.5}, "pipeline parameter 'Rounds' is Integer, got 2.5"),
        ({"Flag": "yes"}, "pipeline parameter 'Flag' is Boolean, got 'yes'"),
        ({"Problem": "ranking"}, "pipeline parameter 'Problem' must be one of binary, regression"),
    ],
)
def test_bad_parameter_overrides_are_named(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(PipelineDefinitionError) as raised:
        coerce_parameters(PARAMETERS, overrides)
    assert message in str(raised.value)


def test_dependencies_come_from_references_depends_on_and_branches() -> None:
    # GIVEN a condition whose branch step refers to a step declared after it, and a DependsOn
    steps = [
        {
            "Name": "Gate",
            "Type": "Condition",
            "Arguments": {
                "Conditions": [compare("Equals", {"Get": "Steps.Eval.ProcessingJobStatus"}, "Completed")],
                "IfSteps": [
                    {
                        "Name": "Register",
                        "Type": "RegisterModel",
                        "Arguments": {"X": {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}},
                    }
                ],
                "ElseSteps": [],
            },
        },
        {"Name": "Eval", "Type": "Processing", "Arguments": {}, "DependsOn": ["Train"]},
        {"Name": "Train", "Type": "Training", "Arguments": {}},
    ]
    # WHEN the dependencies are computed
    depends = dependencies(flatten(steps))
    # THEN the branch step waits for its condition and what it refers to; the condition does not
    # inherit its branches' references
    assert depends == {"Gate": {"Eval"}, "Register": {"Gate", "Train"}, "Eval": {"Train"}, "Train": set()}


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        (
            [{"Name": "A", "Type": "Fail"}, {"Name": "A", "Type": "Fail"}],
            "step names must be unique; repeated: A",
        ),
        ([{"Name": "A", "Type": "Fail", "DependsOn": ["Ghost"]}], "step 'A' refers to unknown step(s) Ghost"),
        ([{"Type": "Fail"}], "a step needs a Name and a Type"),
    ],
)
def test_unusable_definitions_are_named(steps: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(PipelineDefinitionError) as raised:
        dependencies(flatten(steps))
    assert message in str(raised.value)
