"""emulator.deploy and the UpdateEndpoint fake, on a hand-written endpoint stack and a moto server."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, ParamValidationError
from moto import mock_aws
from moto.core.models import DEFAULT_ACCOUNT_ID

from emulator.cfn import Assembly, StackTarget
from emulator.deploy import DeployError, deploy_endpoint_stack
from emulator.local_aws import LocalAws, moto_server
from emulator.sagemaker_fakes import update_endpoint
from emulator.standins import ACCOUNT

STACK = "demo-endpoint-staging"
FINGERPRINT = "0123abcd"
PACKAGE = "arn:aws:sagemaker:us-east-1:123456789012:model-package/demo-models/1"


def template(version: int, *, fingerprint: str = FINGERPRINT, instances: int = 2) -> dict[str, Any]:
    """The shape of the endpoint stack's SageMaker resources (names ``<endpoint>-v<N>-<fingerprint>``,
    as it names them; the fingerprint is a fixed stand-in here)."""
    return {
        "Resources": {
            "Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {}}},
            "Key": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": {}}},
            "Model": {
                "Type": "AWS::SageMaker::Model",
                "Properties": {
                    "ModelName": f"demo-staging-v{version}-{fingerprint}",
                    "ExecutionRoleArn": {"Fn::GetAtt": ["Role", "Arn"]},
                    "Containers": [{"ModelPackageName": PACKAGE.replace("/1", f"/{version}")}],
                    "EnableNetworkIsolation": True,
                    "VpcConfig": {"Subnets": ["subnet-1"], "SecurityGroupIds": ["sg-1"]},
                },
            },
            "EndpointConfig": {
                "Type": "AWS::SageMaker::EndpointConfig",
                "Properties": {
                    "EndpointConfigName": f"demo-staging-v{version}-{fingerprint}",
                    "ProductionVariants": [{
                        "ModelName": {"Fn::GetAtt": ["Model", "ModelName"]}, "VariantName": "AllTraffic",
                        "InitialInstanceCount": str(instances), "InstanceType": "ml.m5.large",
                        "InitialVariantWeight": 1,
                    }],
                    "KmsKeyId": {"Fn::GetAtt": ["Key", "Arn"]},
                    "DataCaptureConfig": {
                        "EnableCapture": "true", "InitialSamplingPercentage": 100,
                        "DestinationS3Uri": "s3://artifacts/data-capture",
                        "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
                    },
                    "Tags": [{"Key": "Stage", "Value": "staging"}],
                },
            },
            "Endpoint": {
                "Type": "AWS::SageMaker::Endpoint",
                "Properties": {
                    "EndpointName": "demo-staging",
                    "EndpointConfigName": {"Fn::GetAtt": ["EndpointConfig", "EndpointConfigName"]},
                    "RetainAllVariantProperties": False,  # CloudFormation-only on create
                },
            },
        }
    }  # fmt: skip


@pytest.fixture
def aws() -> Iterator[LocalAws]:
    with moto_server() as local:
        yield local


def test_deploy_creates_model_config_and_endpoint(aws: LocalAws) -> None:
    result = deploy_endpoint_stack(Assembly({STACK: template(1)}), STACK, aws)
    sagemaker = aws.client("sagemaker")
    endpoint = sagemaker.describe_endpoint(EndpointName="demo-staging")
    assert endpoint["EndpointConfigName"] == "demo-staging-v1-0123abcd"
    config = sagemaker.describe_endpoint_config(EndpointConfigName="demo-staging-v1-0123abcd")
    assert config["ProductionVariants"][0]["ModelName"] == "demo-staging-v1-0123abcd"
    assert config["ProductionVariants"][0]["InitialInstanceCount"] == 2  # CFN string -> API integer
    assert config["KmsKeyId"].startswith("arn:aws:kms:")
    model = sagemaker.describe_model(ModelName="demo-staging-v1-0123abcd")
    assert model["Containers"] == [{"ModelPackageName": PACKAGE}]
    assert result.actions == (
        "created Model demo-staging-v1-0123abcd", "created EndpointConfig demo-staging-v1-0123abcd",
        "created Endpoint demo-staging",
    )  # fmt: skip
    assert result.dropped == ("Endpoint.RetainAllVariantProperties",)
    assert not result.updated


def test_second_deploy_of_a_new_version_updates_the_endpoint(aws: LocalAws) -> None:
    deploy_endpoint_stack(Assembly({STACK: template(1)}), STACK, aws)
    result = deploy_endpoint_stack(Assembly({STACK: template(2)}), STACK, aws)
    assert result.updated
    assert (
        result.actions[-1]
        == "updated Endpoint demo-staging: demo-staging-v1-0123abcd -> demo-staging-v2-0123abcd"
    )
    endpoint = aws.client("sagemaker").describe_endpoint(EndpointName="demo-staging")
    assert endpoint["EndpointConfigName"] == "demo-staging-v2-0123abcd"


def test_redeploying_the_same_version_changes_nothing(aws: LocalAws) -> None:
    deploy_endpoint_stack(Assembly({STACK: template(1)}), STACK, aws)
    result = deploy_endpoint_stack(Assembly({STACK: template(1)}), STACK, aws)
    assert not result.updated
    assert all(action.startswith("kept") for action in result.actions)


def test_a_changed_variant_of_the_same_version_is_a_new_config_the_endpoint_moves_to(aws: LocalAws) -> None:
    # GIVEN version 1 deployed on 2 instances
    deploy_endpoint_stack(Assembly({STACK: template(1)}), STACK, aws)
    # WHEN the same version is deployed on 3 instances (the stack renames what it cannot update)
    result = deploy_endpoint_stack(
        Assembly({STACK: template(1, fingerprint="89abcdef", instances=3)}), STACK, aws
    )
    # THEN a new model and config are created and the endpoint is updated to the new config
    assert result.updated
    assert result.actions[-1] == (
        "updated Endpoint demo-staging: demo-staging-v1-0123abcd -> demo-staging-v1-89abcdef"
    )
    config = aws.client("sagemaker").describe_endpoint_config(EndpointConfigName="demo-staging-v1-89abcdef")
    assert config["ProductionVariants"][0]["InitialInstanceCount"] == 3


def test_a_request_the_api_rejects_names_the_resource(aws: LocalAws) -> None:
    broken = copy.deepcopy(template(1))
    broken["Resources"]["EndpointConfig"]["Properties"]["ProductionVariants"] = "not-a-list"
    with pytest.raises(DeployError, match=r"demo-endpoint-staging.EndpointConfig: .*CreateEndpointConfig"):
        deploy_endpoint_stack(Assembly({STACK: broken}), STACK, aws)


def test_a_stack_without_an_endpoint_is_refused(aws: LocalAws) -> None:
    with pytest.raises(DeployError, match="has 0 AWS::SageMaker::Endpoint"):
        deploy_endpoint_stack(Assembly({STACK: {"Resources": {}}}), STACK, aws)
    with pytest.raises(DeployError, match="not in the assembly"):
        deploy_endpoint_stack(Assembly({STACK: {"Resources": {}}}), "other", aws)


# ----------------------------------------------------------------- the account a stack names
STAGE_ACCOUNT = "222222222222"
DEPLOY_ROLE = f"cdk-hnb659fds-deploy-role-{STAGE_ACCOUNT}-us-east-1"


def in_stage_account(version: int, *, region: str = "us-east-1") -> Assembly:
    """The endpoint stack as synthesized with env=(222222222222, region): the manifest names the
    account and the bootstrap deploy role `cdk deploy` assumes there."""
    target = StackTarget(
        account=STAGE_ACCOUNT,
        region=region,
        deploy_role_arn=f"arn:${{AWS::Partition}}:iam::{STAGE_ACCOUNT}:role/{DEPLOY_ROLE}",
    )
    return Assembly({STACK: template(version)}, targets={STACK: target})


def _endpoint_in(aws: LocalAws, account: str) -> dict[str, Any] | None:
    try:
        found: dict[str, Any] = (
            aws.in_account(account).client("sagemaker").describe_endpoint(EndpointName="demo-staging")
        )
    except ClientError:
        return None
    return found


def test_a_stack_whose_environment_names_an_account_lands_in_that_account(aws: LocalAws) -> None:
    # WHEN the stage-account stack is deployed with the default (tooling) credentials
    result = deploy_endpoint_stack(in_stage_account(1), STACK, aws)
    # THEN the endpoint, its config and model exist in 222222222222 and not in the default account
    endpoint = _endpoint_in(aws, STAGE_ACCOUNT)
    assert endpoint is not None
    assert endpoint["EndpointArn"] == f"arn:aws:sagemaker:us-east-1:{STAGE_ACCOUNT}:endpoint/demo-staging"
    assert _endpoint_in(aws, ACCOUNT) is None
    with pytest.raises(ClientError):
        aws.client("sagemaker").describe_model(ModelName="demo-staging-v1-0123abcd")
    # ... deployed as the account's CDK bootstrap deploy role, as `cdk deploy` would
    assert (result.account, result.role_arn) == (
        STAGE_ACCOUNT,
        f"arn:aws:iam::{STAGE_ACCOUNT}:role/{DEPLOY_ROLE}",
    )
    # ... and the stack's own ARNs (its role, its key) are in its account
    stage = aws.in_account(STAGE_ACCOUNT).client("sagemaker")
    model = stage.describe_model(ModelName="demo-staging-v1-0123abcd")
    assert model["ExecutionRoleArn"].startswith(f"arn:aws:iam::{STAGE_ACCOUNT}:role/")
    config = stage.describe_endpoint_config(EndpointConfigName="demo-staging-v1-0123abcd")
    assert config["KmsKeyId"].startswith(f"arn:aws:kms:us-east-1:{STAGE_ACCOUNT}:key/")


def test_a_new_version_in_the_stage_account_updates_the_endpoint_there(aws: LocalAws) -> None:
    deploy_endpoint_stack(in_stage_account(1), STACK, aws)
    result = deploy_endpoint_stack(in_stage_account(2), STACK, aws)
    assert result.updated
    endpoint = _endpoint_in(aws, STAGE_ACCOUNT)
    assert endpoint is not None
    assert endpoint["EndpointConfigName"] == "demo-staging-v2-0123abcd"


def test_an_env_agnostic_stack_lands_in_the_default_account_as_before(aws: LocalAws) -> None:
    result = deploy_endpoint_stack(Assembly({STACK: template(1)}), STACK, aws)
    assert (result.account, result.role_arn) == (ACCOUNT, None)
    assert _endpoint_in(aws, ACCOUNT) is not None
    assert _endpoint_in(aws, STAGE_ACCOUNT) is None


def test_a_stack_in_another_region_is_refused(aws: LocalAws) -> None:
    with pytest.raises(
        DeployError, match="deploys to region eu-west-1; the stand-in runs one region, us-east-1"
    ):
        deploy_endpoint_stack(in_stage_account(1, region="eu-west-1"), STACK, aws)
    assert _endpoint_in(aws, STAGE_ACCOUNT) is None


# ----------------------------------------------------------------- the UpdateEndpoint fake
@pytest.fixture
def sagemaker() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("sagemaker", region_name="us-east-1")
        client.create_model(ModelName="m", ExecutionRoleArn="arn:aws:iam::123456789012:role/r")
        for config in ("c1", "c2"):
            client.create_endpoint_config(
                EndpointConfigName=config,
                ProductionVariants=[{"ModelName": "m", "VariantName": "AllTraffic",
                                     "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}],
            )  # fmt: skip
        client.create_endpoint(EndpointName="e", EndpointConfigName="c1")
        yield client


def test_fake_update_points_the_endpoint_at_the_new_config(sagemaker: Any) -> None:
    answer = update_endpoint(sagemaker, DEFAULT_ACCOUNT_ID, EndpointName="e", EndpointConfigName="c2")
    endpoint = sagemaker.describe_endpoint(EndpointName="e")
    assert endpoint["EndpointConfigName"] == "c2"
    assert answer == {"EndpointArn": endpoint["EndpointArn"]}


def test_fake_rejects_a_parameter_the_service_model_lacks(sagemaker: Any) -> None:
    # GIVEN a misspelt parameter (EndpointConfig instead of EndpointConfigName)
    with pytest.raises(ParamValidationError, match='Unknown parameter in input: "EndpointConfig"'):
        update_endpoint(sagemaker, DEFAULT_ACCOUNT_ID, EndpointName="e", EndpointConfig="c2")
    assert sagemaker.describe_endpoint(EndpointName="e")["EndpointConfigName"] == "c1"


def test_fake_rejects_a_wrong_type_as_boto3_would(sagemaker: Any) -> None:
    with pytest.raises(ParamValidationError, match="RetainAllVariantProperties"):
        update_endpoint(
            sagemaker, DEFAULT_ACCOUNT_ID, EndpointName="e", EndpointConfigName="c2",
            RetainAllVariantProperties="yes",
        )  # fmt: skip


@pytest.mark.parametrize(("endpoint", "config"), [("missing", "c2"), ("e", "missing")])
def test_fake_requires_the_endpoint_and_config_to_exist(sagemaker: Any, endpoint: str, config: str) -> None:
    with pytest.raises(ClientError, match="Could not find"):
        update_endpoint(sagemaker, DEFAULT_ACCOUNT_ID, EndpointName=endpoint, EndpointConfigName=config)
    assert sagemaker.describe_endpoint(EndpointName="e")["EndpointConfigName"] == "c1"
