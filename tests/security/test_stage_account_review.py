"""Review findings across accounts (issue 13), as failing cases of what the boundary should refuse.

Each case is ``xfail(strict=True)``: it fails today because the finding holds, and turns into an
unexpected pass (a failure under ``strict``) once it is fixed, so the fix must remove the marker.

1. The tooling account's bucket and key admit the stage's model role *by name*. The stage
   account's administrator owns that name (it can create the role, rewrite its trust policy or
   attach any policy to it), so the tooling grants are really grants to the stage account. What
   they grant is every training output of every run, not the approved version: such a principal
   reads a version that was never approved.
2. Fixed, now tested as such: the stage model role's identity policy is derived from what the
   registry says the approved version's container is, and the approver's ``UpdateModelPackage``
   takes an ``InferenceSpecification``. The role now reads model files only in the tooling account
   (``s3:ResourceAccount``), and synth refuses a version whose image is not the platform's or whose
   model file is not a training output (:mod:`stacks.endpoint.served_version`).
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from platform_synth import APPROVED
from policy_eval import Policy, Principal, Request, Value, authorize
from stage_policies import REGION, StagePolicies
from test_stage_account_attacks import (  # the module-scoped multi-account synth and its helpers
    FOREIGN,
    ORG,
    PREFIX,
    PROD,
    STAGING,
    TOOLING,
    read_tooling_object,
    role_in,
    stage,
    with_admin,
)

from stacks.common.shared import Network
from stacks.endpoint.cross_account import CrossAccountServing
from stacks.endpoint.execution_role import ExecutionRoleProps, ModelExecutionRole
from stacks.endpoint.model import HostedModel, HostedModelProps

__all__ = ["stage"]  # the fixture, re-exported for pytest

UNAPPROVED = "pipeline-runs/exec-2/train/output/model.tar.gz"
IN_ORG: dict[str, Value] = {"aws:PrincipalOrgID": ORG, "aws:SecureTransport": True}


@pytest.mark.xfail(
    strict=True,
    reason="finding: the tooling bucket grants pipeline-runs/*/train/* to a role *name* the stage "
    "account's administrator controls; every run's model is readable from the stage account, "
    "not only the approved one (fix: narrow to .../train/*/model.tar.gz and gate on an object tag "
    "the approval sets, s3:ExistingObjectTag)",
)
def test_a_stage_admin_under_the_model_role_name_reads_no_unapproved_version(stage: StagePolicies) -> None:
    # GIVEN the prod account's administrator, who creates (or takes over) the role the tooling
    # account names, <prefix>-prod-model, and gives it an administrator policy
    attacker = with_admin(role_in(PROD, f"{PREFIX}-prod-model"))
    # THEN a version that was never approved stays in the tooling account
    decision = read_tooling_object(stage, attacker, UNAPPROVED)
    assert not decision, f"the stage admin reads an unapproved model: {decision.reason}"


def _cross_account_model_role(approved_update: dict[str, Any]) -> Policy:
    """The synthesized policy of staging's model role in its own account, for an approved version
    whose registry fields are ``approved_update``."""
    app = cdk.App()
    stack = cdk.Stack(app, "Endpoint", env=cdk.Environment(account=STAGING, region=REGION))
    approved = APPROVED.model_copy(
        update={
            "model_package_arn": f"arn:aws:sagemaker:{REGION}:{TOOLING}:model-package/{PREFIX}-models/3",
            **approved_update,
        }
    )
    role = ModelExecutionRole(
        stack,
        "Hosted",
        props=ExecutionRoleProps(
            endpoint_name=f"{PREFIX}-staging",
            approved=approved,
            key=kms.Key.from_key_arn(stack, "Key", f"arn:aws:kms:{REGION}:{STAGING}:key/stage-key"),
            artifact_bucket=s3.Bucket.from_bucket_name(stack, "Capture", "stage-capture"),
            vpc=None,  # staging is serverless: no VPC, so no S3 gateway policy on the path either
            subnet_ids=[],
            security_group=ec2.SecurityGroup.from_security_group_id(stack, "Sg", "sg-0123456789abcdef0"),
            capture_prefix=None,
            cross_account=CrossAccountServing(role_name=f"{PREFIX}-staging-model", tooling_account=TOOLING),
        ),
    )
    return Policy("staging model role", _joined(stack.resolve(role.policy.document.to_json())))


def _joined(value: Any) -> Any:
    """``value`` with ``Fn::Join`` evaluated and ``AWS::Partition`` as ``aws`` (the only tokens left)."""
    if isinstance(value, list):
        return [_joined(v) for v in value]
    if not isinstance(value, dict):
        return value
    if value == {"Ref": "AWS::Partition"}:
        return "aws"
    if set(value) == {"Fn::Join"}:
        separator, parts = value["Fn::Join"]
        return separator.join(str(_joined(part)) for part in parts)
    return {k: _joined(v) for k, v in value.items()}


def _granting_all(principal: Principal) -> Policy:
    """An attacker's resource policy (bucket or repository) that lets ``principal`` do anything."""
    return Policy(
        "attacker's resource policy",
        {
            "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": principal.arn}, "Action": "*", "Resource": "*"}
            ]
        },
    )


def test_the_stage_model_role_reads_no_model_file_outside_the_tooling_account() -> None:
    # GIVEN a version whose registry entry was edited to name a file in the attacker's bucket
    # (the approver's UpdateModelPackage takes an InferenceSpecification)
    model = "s3://attacker-bucket/pipeline-runs/e/train/j/output/model.tar.gz"
    policy = _cross_account_model_role({"model_data_url": model})
    role = Principal.role(f"arn:aws:iam::{STAGING}:role/{PREFIX}-staging-model")
    read = Request(
        role,
        "s3:GetObject",
        "arn:aws:s3:::attacker-bucket/pipeline-runs/e/train/j/output/model.tar.gz",
        {**IN_ORG, "s3:ResourceAccount": FOREIGN},
        resource_account=FOREIGN,
    )
    # THEN even a bucket that grants it everything gets no read from the role (s3:ResourceAccount)
    decision = authorize(read, identity=[policy], resource=[_granting_all(role)])
    assert not decision, f"the stage model role reads a foreign model file: {decision.reason}"


@pytest.mark.parametrize(
    ("update", "refused"),
    [
        ({"image_uri": f"{FOREIGN}.dkr.ecr.{REGION}.amazonaws.com/implant:latest"}, "names image"),
        ({"image_uri": f"{FOREIGN}.dkr.ecr.{REGION}.amazonaws.com/sagemaker-xgboost:3.0-5"}, "names image"),
        ({"model_data_url": "s3://attacker-bucket/m/model.tar.gz"}, "names model file"),
    ],
)
def test_an_edited_version_is_not_synthesized(update: dict[str, Any], refused: str) -> None:
    # GIVEN a version whose container was edited after registration (a foreign image, a look-alike
    # repository in another registry, a model file outside the training outputs)
    # THEN the stage's endpoint stack refuses it at synth, in the deploy build before any deploy
    with pytest.raises(ValueError, match=refused):
        _cross_account_model(update)


def _cross_account_model(approved_update: dict[str, Any]) -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "Endpoint", env=cdk.Environment(account=STAGING, region=REGION))
    approved = APPROVED.model_copy(update=approved_update)
    vpc = ec2.Vpc.from_vpc_attributes(stack, "Vpc", vpc_id="vpc-1", availability_zones=["a"])
    HostedModel(
        stack,
        "Hosted",
        props=HostedModelProps(
            endpoint_name=f"{PREFIX}-staging",
            approved=approved,
            key=kms.Key.from_key_arn(stack, "Key", f"arn:aws:kms:{REGION}:{STAGING}:key/stage-key"),
            artifact_bucket=s3.Bucket.from_bucket_name(stack, "Capture", "stage-capture"),
            network=Network(
                vpc=vpc,
                subnets=(),
                security_group=ec2.SecurityGroup.from_security_group_id(stack, "Sg", "sg-0123456789abcdef0"),
            ),
            capture_prefix=None,
            serverless=True,
            cross_account=CrossAccountServing(role_name=f"{PREFIX}-staging-model", tooling_account=TOOLING),
        ),
    )
