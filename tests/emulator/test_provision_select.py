"""`pipeline_from` picks a pipeline of a multi-pipeline assembly by name suffix; the training
pipeline stays the default, so `make demo` runs it whatever else the assembly holds."""

from __future__ import annotations

import json
from typing import Any

import pytest

from contracts.names import DRIFT_CHECK_SUFFIX
from emulator.cfn import Assembly
from emulator.local_aws import moto_server
from emulator.provision import ProvisionError, create_pipeline, pipeline_from


def pipeline(name: Any, marker: str) -> dict[str, Any]:
    body = {"Version": "2020-12-01", "Parameters": [], "Steps": [{"Name": marker, "Type": "Fail"}]}
    return {
        "Type": "AWS::SageMaker::Pipeline",
        "Properties": {
            "PipelineName": name,
            "PipelineDefinition": {"PipelineDefinitionBody": json.dumps(body)},
            "RoleArn": {"Fn::GetAtt": ["Role", "Arn"]},
        },
    }


def stack(**pipelines: dict[str, Any]) -> dict[str, Any]:
    return {"Resources": {"Role": {"Type": "AWS::IAM::Role", "Properties": {}}, **pipelines}}


DATA = {
    "Resources": {
        "Group": {
            "Type": "AWS::SageMaker::ModelPackageGroup",
            "Properties": {"ModelPackageGroupName": "models"},
        }
    }
}
#: Like the synthesized app: the training pipeline in one stack, the drift check in the monitoring
#: stack, its name an intrinsic (sorted first, so order cannot be what picks the training one).
PLATFORM = {
    "data": DATA,
    "a-monitoring": stack(DriftCheck=pipeline({"Fn::Join": ["-", ["p", "drift-check"]]}, "drift")),
    "pipeline": stack(Training=pipeline("p-training", "training")),
}


def test_the_default_is_the_training_pipeline() -> None:
    chosen = pipeline_from(Assembly(templates=PLATFORM))
    assert chosen.name == "p-training"
    assert chosen.definition["Steps"][0]["Name"] == "training"
    assert chosen.role_arn == "arn:aws:iam::123456789012:role/local-pipeline-role"


def test_the_drift_check_pipeline_by_its_suffix() -> None:
    chosen = pipeline_from(Assembly(templates=PLATFORM), name_suffix=DRIFT_CHECK_SUFFIX)
    assert chosen.name == "p-drift-check"
    assert chosen.definition["Steps"][0]["Name"] == "drift"
    assert chosen.role_arn == "arn:aws:iam::123456789012:role/local-a-monitoring-role"
    assert chosen.model_package_group == "models"


def test_a_lone_pipeline_is_the_default_whatever_its_name() -> None:
    assembly = Assembly(templates={"data": DATA, "pipeline": stack(Only=pipeline("custom-name", "only"))})
    assert pipeline_from(assembly).name == "custom-name"
    with pytest.raises(
        ProvisionError,
        match=r"expected one AWS::SageMaker::Pipeline named \*-drift-check in the assembly, found 0 "
        r"\(its pipelines: custom-name\)",
    ):
        pipeline_from(assembly, DRIFT_CHECK_SUFFIX)


def test_several_pipelines_and_none_training_is_named() -> None:
    templates = {"data": DATA, "s": stack(A=pipeline("p-a", "a"), B=pipeline("p-b", "b"))}
    with pytest.raises(
        ProvisionError, match=r"named \*-training in the assembly, found 0 \(its pipelines: p-a, p-b\)"
    ):
        pipeline_from(Assembly(templates=templates))


def test_two_pipelines_with_the_same_suffix_are_refused() -> None:
    templates = {"data": DATA, "s": stack(A=pipeline("a-training", "a"), B=pipeline("b-training", "b"))}
    with pytest.raises(ProvisionError, match=r"found 2 \(its pipelines: a-training, b-training\)"):
        pipeline_from(Assembly(templates=templates))


def test_both_pipelines_are_created_in_the_stand_in() -> None:
    assembly = Assembly(templates=PLATFORM)
    with moto_server() as aws:
        for chosen in (pipeline_from(assembly), pipeline_from(assembly, DRIFT_CHECK_SUFFIX)):
            create_pipeline(aws, chosen)
        listed = aws.client("sagemaker").list_pipelines()["PipelineSummaries"]
        assert sorted(p["PipelineName"] for p in listed) == ["p-drift-check", "p-training"]
