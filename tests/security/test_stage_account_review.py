"""Review findings across accounts (issue 13), each now a case the boundary refuses.

1. The tooling account's bucket and key admit the stage's model role *by name*. The stage
   account's administrator owns that name (it can create the role, rewrite its trust policy or
   attach any policy to it), so the tooling grants are really grants to the stage account. They
   granted every training output of every run; now only objects tagged as shipped to that stage
   (``mlops:released-<stage>``, set by that stage's deploy build with ``release.release_tag``;
   ``s3:ExistingObjectTag`` in the bucket policy), and no one but those builds may change tags under
   the runs. Such a principal reads the versions shipped to its stage, and nothing else.
2. The stage model role's identity policy is derived from what the registry says the approved
   version's container is, and the approver's ``UpdateModelPackage`` takes an
   ``InferenceSpecification``. The role reads model files only in the tooling account
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
    MODEL,
    ORG,
    PREFIX,
    PROD,
    STAGING,
    TOOLING,
    TOOLING_BUCKET,
    read_tooling_object,
    role_in,
    stage,
    with_admin,
)

from contracts.layout import RELEASED, released_tag
from stacks.common.shared import Network
from stacks.data.stage_access import TAGGING_ACTIONS
from stacks.endpoint.cross_account import CrossAccountServing
from stacks.endpoint.execution_role import ExecutionRoleProps, ModelExecutionRole
from stacks.endpoint.model import HostedModel, HostedModelProps

__all__ = ["stage"]  # the fixture, re-exported for pytest

UNAPPROVED = "pipeline-runs/exec-2/train/output/model.tar.gz"
IN_ORG: dict[str, Value] = {"aws:PrincipalOrgID": ORG, "aws:SecureTransport": True}


def test_a_stage_admin_under_the_model_role_name_reads_no_unapproved_version(stage: StagePolicies) -> None:
    # GIVEN the prod account's administrator, who creates (or takes over) the role the tooling
    # account names, <prefix>-prod-model, and gives it an administrator policy
    attacker = with_admin(role_in(PROD, f"{PREFIX}-prod-model"))
    # THEN a version that was never shipped to prod stays in the tooling account
    decision = read_tooling_object(stage, attacker, UNAPPROVED)
    assert not decision, f"the stage admin reads an unapproved model: {decision.reason}"
    # ... as does one shipped to staging only (the tag is per stage)
    staging_only = {released_tag("staging"): RELEASED}
    decision = read_tooling_object(stage, attacker, MODEL, tags=staging_only)
    assert not decision, f"prod's admin reads a version shipped to staging only: {decision.reason}"
    # ... and what it does reach is the version shipped to prod (the documented reach)
    assert read_tooling_object(stage, attacker, MODEL)


def _tag(stage: StagePolicies, who: Principal, action: str, key: str = UNAPPROVED) -> bool:
    """``action`` (a tagging call) on ``key`` of the tooling bucket by ``who`` with administrator
    rights in its own account: the bucket policy alone decides (same account: an explicit deny)."""
    request = Request(
        who, action, f"arn:aws:s3:::{TOOLING_BUCKET}/{key}", IN_ORG, resource_account=who.account
    )
    admin = with_admin(who)
    bucket = [stage.bucket_policy("data", "ArtifactBucket")]
    return bool(authorize(request, identity=admin.policies, resource=bucket))


@pytest.mark.parametrize("action", TAGGING_ACTIONS)
@pytest.mark.parametrize(
    "who",
    [
        f"{PREFIX}-data-scientist",  # a persona
        f"{PREFIX}-pipeline",  # the training pipeline's role
        "Admin",  # the tooling account's own administrator role (anything but the two builds)
    ],
)
def test_no_one_but_the_shipping_builds_marks_a_version_shipped(
    stage: StagePolicies, who: str, action: str
) -> None:
    # GIVEN a principal of the tooling account with every permission of its own, not a deploy build
    # THEN the bucket refuses it any change to the tags of a run's objects (a tag admits a stage)
    assert not _tag(stage, role_in(TOOLING, who), action), f"{who} may {action} under pipeline-runs/"


@pytest.mark.parametrize("name", ["staging", "prod"])
def test_the_stages_deploy_build_tags_only_what_it_ships(stage: StagePolicies, name: str) -> None:
    build = role_in(TOOLING, f"{PREFIX}-{name}-deploy")
    # the bucket lets it through (identity permitting) ...
    assert _tag(stage, build, "s3:PutObjectTagging", MODEL)
    # ... and its own policy allows reading and setting tags on model files and baselines only
    role = stage.role("delivery", f"Deploy{name.capitalize()}Role")
    assert role.arn == f"arn:aws:iam::{TOOLING}:role/{PREFIX}-{name}-deploy"

    def may(action: str, key: str) -> bool:
        request = Request(
            role.principal, action, f"arn:aws:s3:::{TOOLING_BUCKET}/{key}", IN_ORG, resource_account=TOOLING
        )
        bucket = [stage.bucket_policy("data", "ArtifactBucket")]
        return bool(authorize(request, identity=role.policies, resource=bucket))

    for key in (MODEL, "pipeline-runs/exec-1/preprocess/baseline/statistics.json"):
        assert may("s3:PutObjectTagging", key), key
        assert may("s3:GetObjectTagging", key), key
    for key in ("pipeline-runs/exec-1/preprocess/test/test.csv", "data/raw/train.csv"):
        assert not may("s3:PutObjectTagging", key), f"the {name} deploy build tags {key}"
    assert not may("s3:DeleteObjectTagging", MODEL)


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
