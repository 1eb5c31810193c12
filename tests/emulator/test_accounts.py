"""The stand-in acts in the account a caller names: assumed-role credentials carry it (moto keys all
state by account), and a cloud assembly's manifest says which account each stack belongs to."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.core.models import DEFAULT_ACCOUNT_ID

from emulator.cfn import Assembly
from emulator.local_aws import LocalAws, moto_server
from emulator.manifest import StackTarget, parse_environment
from emulator.standins import ACCOUNT

STAGE_ACCOUNT = "222222222222"


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAws]:
    with moto_server() as local:
        yield local


def test_default_clients_act_in_motos_default_account(aws: LocalAws) -> None:
    assert aws.account == ACCOUNT == DEFAULT_ACCOUNT_ID
    assert aws.client("sts").get_caller_identity()["Account"] == ACCOUNT
    assert aws.role_arn is None


def test_in_account_clients_act_in_that_account(aws: LocalAws) -> None:
    # WHEN a bucket-less, account-keyed resource (a model package group) is made in the stage account
    stage = aws.in_account(STAGE_ACCOUNT)
    stage.client("sagemaker").create_model_package_group(ModelPackageGroupName="only-in-stage")
    # THEN the stage account sees it and the default account does not
    identity = stage.client("sts").get_caller_identity()
    assert identity["Account"] == stage.account == STAGE_ACCOUNT
    assert identity["Arn"].startswith(f"arn:aws:sts::{STAGE_ACCOUNT}:assumed-role/offline/")
    stage.client("sagemaker").describe_model_package_group(ModelPackageGroupName="only-in-stage")
    with pytest.raises(ClientError):
        aws.client("sagemaker").describe_model_package_group(ModelPackageGroupName="only-in-stage")


def test_in_account_is_remembered_and_the_own_account_is_self(aws: LocalAws) -> None:
    assert aws.in_account(STAGE_ACCOUNT) is aws.in_account(STAGE_ACCOUNT)
    assert aws.in_account(ACCOUNT) is aws
    stage = aws.in_account(STAGE_ACCOUNT)
    assert stage.in_account(STAGE_ACCOUNT) is stage


def test_an_assumed_role_acts_in_the_account_its_arn_names(aws: LocalAws) -> None:
    role = f"arn:aws:iam::{STAGE_ACCOUNT}:role/cdk-hnb659fds-deploy-role-{STAGE_ACCOUNT}-us-east-1"
    deployer = aws.assume_role(role, "deploy")
    assert deployer.account == STAGE_ACCOUNT
    assert deployer.role_arn == role
    arn = deployer.client("sts").get_caller_identity()["Arn"]
    assert arn == f"arn:aws:sts::{STAGE_ACCOUNT}:assumed-role/{role.rsplit('/', 1)[1]}/deploy"


def test_a_steps_environment_carries_the_accounts_credentials(aws: LocalAws) -> None:
    # GIVEN the environment a job or Lambda of the stage account would get
    env = aws.in_account(STAGE_ACCOUNT).step_environment()
    # WHEN boto3 is configured from it alone, as the step's own code is
    sts = boto3.client(
        "sts",
        endpoint_url=env["AWS_ENDPOINT_URL"],
        region_name=env["AWS_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=env["AWS_SESSION_TOKEN"],
    )
    # THEN it acts in the stage account; the default environment has no session token
    assert sts.get_caller_identity()["Account"] == STAGE_ACCOUNT
    assert "AWS_SESSION_TOKEN" not in aws.step_environment()


def test_moto_account_id_overriding_credentials_is_a_clear_error(
    aws: LocalAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN moto told to put every request in one account, whatever its credentials
    monkeypatch.setenv("MOTO_ACCOUNT_ID", ACCOUNT)
    # THEN acting in another account fails, naming the variable
    with pytest.raises(
        RuntimeError, match="act in account 123456789012, not 333333333333: unset MOTO_ACCOUNT_ID"
    ):
        aws.in_account("333333333333")


# ----------------------------------------------------------------- the manifest's environments
def _manifest(environments: dict[str, str]) -> dict[str, object]:
    """The shape `cdk synth` writes (stack artifacts beside asset manifests and the tree)."""
    artifacts: dict[str, object] = {"Tree": {"type": "cdk:tree", "properties": {"file": "tree.json"}}}
    for stack, environment in environments.items():
        account = environment.split("/")[2]
        concrete = account != "unknown-account"
        role_account = account if concrete else "${AWS::AccountId}"
        role_region = "us-east-1" if concrete else "${AWS::Region}"
        artifacts[f"{stack}.assets"] = {
            "type": "cdk:asset-manifest",
            "properties": {"file": f"{stack}.assets.json"},
        }
        artifacts[stack] = {
            "type": "aws:cloudformation:stack",
            "environment": environment,
            "properties": {
                "templateFile": f"{stack}.template.json",
                "assumeRoleArn": (
                    f"arn:${{AWS::Partition}}:iam::{role_account}:role/"
                    f"cdk-hnb659fds-deploy-role-{role_account}-{role_region}"
                ),
            },
        }
    return {"version": "48.0.0", "artifacts": artifacts}


def test_the_manifest_says_which_account_each_stack_is_in(tmp_path: Path) -> None:
    # GIVEN a stage stack with its own account beside an env-agnostic one, each naming its account
    template = {
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}, "Key": {"Type": "AWS::KMS::Key"}},
        "Outputs": {"Account": {"Value": {"Ref": "AWS::AccountId"}}},
    }
    for stack in ("stage", "tooling"):
        (tmp_path / f"{stack}.template.json").write_text(json.dumps(template))
    environments = {
        "stage": f"aws://{STAGE_ACCOUNT}/us-east-1",
        "tooling": "aws://unknown-account/unknown-region",
    }
    (tmp_path / "manifest.json").write_text(json.dumps(_manifest(environments)))
    # WHEN the assembly is loaded
    assembly = Assembly.load(tmp_path)
    # THEN the stage stack is in its account, pseudo parameters and ARNs included; the other in the default
    assert assembly.target("stage") == StackTarget(
        account=STAGE_ACCOUNT,
        region="us-east-1",
        deploy_role_arn=(
            f"arn:${{AWS::Partition}}:iam::{STAGE_ACCOUNT}:role/cdk-hnb659fds-deploy-role-{STAGE_ACCOUNT}-us-east-1"
        ),
    )
    assert assembly.target("tooling").account is None
    assert assembly.resolve("stage", {"Ref": "AWS::AccountId"}) == STAGE_ACCOUNT
    assert assembly.resolve("tooling", {"Ref": "AWS::AccountId"}) == ACCOUNT
    key_arn = assembly.resolve("stage", {"Fn::GetAtt": ["Key", "Arn"]})
    assert key_arn.startswith(f"arn:aws:kms:us-east-1:{STAGE_ACCOUNT}:key/")
    assert assembly.resolve("tooling", {"Fn::GetAtt": ["Key", "Arn"]}).startswith(
        f"arn:aws:kms:us-east-1:{ACCOUNT}:"
    )
    # ... also when another stack reads the output
    assert assembly.resolve(
        "tooling", {"Fn::GetStackOutput": {"StackName": "stage", "OutputName": "Account"}}
    ) == (STAGE_ACCOUNT)


def test_an_assembly_without_a_manifest_is_env_agnostic() -> None:
    assembly = Assembly({"s": {"Resources": {}}})
    assert assembly.target("s") == StackTarget()
    assert assembly.resolve("s", {"Ref": "AWS::AccountId"}) == ACCOUNT


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"aws://{STAGE_ACCOUNT}/us-east-1", (STAGE_ACCOUNT, "us-east-1")),
        ("aws://unknown-account/unknown-region", (None, None)),
        (f"aws://{STAGE_ACCOUNT}/unknown-region", (STAGE_ACCOUNT, None)),
    ],
)
def test_parse_environment(text: str, expected: tuple[str | None, str | None]) -> None:
    assert parse_environment(text) == expected


def test_parse_environment_refuses_what_is_not_one() -> None:
    with pytest.raises(ValueError, match="not a cloud assembly environment"):
        parse_environment("222222222222/us-east-1")
