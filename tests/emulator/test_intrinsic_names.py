"""A resource named by an intrinsic (`BucketName: {"Fn::Sub": "...-${AWS::AccountId}"}`, the
way CDK renders `f"...-{Aws.ACCOUNT_ID}"`) has that resolved name as its `Ref`, like a literal one.

Otherwise a template that names the resource both ways (a `Ref` in one place, the same
expression spelt out in another, as a pipeline definition does with the model package group)
would point at two different stand-ins.
"""

from __future__ import annotations

from typing import Any

import pytest

from emulator.cfn import Assembly

TEMPLATE: dict[str, Any] = {
    "Parameters": {"Stage": {"Type": "String", "Default": "dev"}},
    "Resources": {
        "Data": {
            "Type": "AWS::S3::Bucket",
            "Properties": {"BucketName": {"Fn::Sub": "data-${AWS::AccountId}-${AWS::Region}"}},
        },
        "Group": {
            "Type": "AWS::SageMaker::ModelPackageGroup",
            "Properties": {"ModelPackageGroupName": {"Fn::Join": ["-", ["models", {"Ref": "Stage"}]]}},
        },
    },
}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"Ref": "Data"}, "data-123456789012-us-east-1"),
        ({"Fn::GetAtt": ["Data", "Arn"]}, "arn:aws:s3:::data-123456789012-us-east-1"),
        ({"Ref": "Group"}, "models-dev"),
        (
            {"Fn::GetAtt": ["Group", "ModelPackageGroupArn"]},
            "arn:aws:sagemaker:us-east-1:123456789012:model-package-group/models-dev",
        ),
        ({"Fn::Sub": "s3://${Data}/raw/"}, "s3://data-123456789012-us-east-1/raw/"),
    ],
)
def test_a_name_given_as_an_intrinsic_is_the_resources_ref(value: Any, expected: str) -> None:
    assembly = Assembly(templates={"stack": TEMPLATE})
    assert assembly.resolve("stack", value) == expected
    # ... the same name the template's own expression gives, wherever it is spelt out
    name_property = TEMPLATE["Resources"]["Group"]["Properties"]["ModelPackageGroupName"]
    assert assembly.resolve("stack", name_property) == "models-dev"
