"""What the tooling account shares with stage accounts: the registry's versions, read-only, and the
model artifacts with the key that encrypts them, to each stage's model execution role only.

Only when config puts an endpoint stage in another account (``endpoints.<stage>.account``); a
single-account environment gets none of this and its templates do not change.

- **Model package group policy**: the stage accounts (account principals: each account's own IAM
  decides which of its roles may use it) may describe the group, list and describe its versions —
  the reads ``CreateModel`` from a versioned package ARN needs — and nothing else (no update, so
  no approving from a stage account).
- **Artifact bucket**: ``s3:GetObject`` on training outputs (:data:`contracts.layout.MODEL_ARTIFACTS_PATTERN`)
  for the stage's model role (:func:`contracts.names.stage_model_role_name`), only of objects tagged
  as shipped to that stage (``s3:ExistingObjectTag/``:func:`contracts.layout.released_tag`), and no
  other object. The stage account's administrator owns the role's name, so the name alone would
  share every run's model; the tag limits it to the versions shipped there. Only the deploy builds
  of the stages in other accounts (``<prefix>-<stage>-deploy``, which run ``release.release_tag``)
  may change tags under the runs; the bucket denies it to every other principal.
- **Data key**: ``kms:Decrypt`` for the same roles, only through S3 in this region.
- **Baselines** (a stage whose drift check runs in its account, :attr:`StageAccess.drift_checked`):
  ``s3:GetObject`` on :data:`contracts.layout.BASELINE_PATTERN` for the stage's drift check role
  (:func:`contracts.names.stage_drift_role_name`), tagged as shipped to the stage, and
  ``kms:Decrypt`` through S3 for it, in statements of their own (a model role reads no baseline, a
  drift role no model).

The bucket and key statements name the role through ``aws:PrincipalArn`` with the account as the
principal: a policy naming a role ARN as the principal fails to deploy until the role exists, and
the role lives in a stack deployed later, in the other account. With ``organizationId`` set every
statement also requires ``aws:PrincipalOrgID``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Final

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker

from contracts import layout
from contracts.layout import RELEASED, released_tag
from contracts.names import deploy_role_name, stage_drift_role_name, stage_model_role_name

#: What a stage account may do with the registry's group and its versions: read, nothing more.
REGISTRY_READS: Final = (
    "sagemaker:DescribeModelPackage",
    "sagemaker:DescribeModelPackageGroup",
    "sagemaker:ListModelPackages",
)


@dataclass(frozen=True, kw_only=True)
class StageAccess:
    """The stages outside the tooling account (stage name -> account ID), and the organization."""

    accounts: Mapping[str, str] = field(default_factory=dict)
    organization_id: str | None = None
    #: The stages of ``accounts`` whose drift check runs in their account (it reads baselines here).
    drift_checked: frozenset[str] = frozenset()


def share_with_stage_accounts(
    group: sagemaker.CfnModelPackageGroup,
    *,
    bucket: s3.IBucket,
    key: kms.IKey,
    prefix: str,
    access: StageAccess,
) -> None:
    """Add the group, bucket and key grants for ``access``'s accounts (none when it names none)."""
    if not access.accounts:
        return
    accounts = sorted(set(access.accounts.values()))
    org = {"StringEquals": {"aws:PrincipalOrgID": access.organization_id}} if access.organization_id else {}
    group.model_package_group_policy = _group_policy(group, accounts, org)
    _share_objects(
        bucket, key, access.accounts, org, role=partial(stage_model_role_name, prefix), what="Model"
    )
    _only_shipping_builds_tag(bucket, prefix, sorted(access.accounts))
    drift = {stage: account for stage, account in access.accounts.items() if stage in access.drift_checked}
    if drift:
        _share_objects(bucket, key, drift, org, role=partial(stage_drift_role_name, prefix), what="Drift")


#: What each kind of stage role reads (its statement IDs name both), and the objects' pattern.
_READS: Final = {
    "Model": ("ModelArtifacts", layout.MODEL_ARTIFACTS_PATTERN),
    "Drift": ("Baselines", layout.BASELINE_PATTERN),
}


def _share_objects(
    bucket: s3.IBucket,
    key: kms.IKey,
    stages: Mapping[str, str],
    org: dict[str, Any],
    *,
    role: Callable[[str], str],
    what: str,
) -> None:
    """``s3:GetObject`` on ``what``'s pattern and ``kms:Decrypt`` through S3, for the role
    ``role(stage)`` of each stage of ``stages``, in that stage's account."""
    objects, pattern = _READS[what]
    partition = cdk.Stack.of(bucket).partition
    arns = {stage: f"arn:{partition}:iam::{account}:role/{role(stage)}" for stage, account in stages.items()}
    reader = {"ArnEquals": {"aws:PrincipalArn": sorted(arns.values())}, **org}
    principals: list[iam.IPrincipal] = [iam.AccountPrincipal(a) for a in sorted(set(stages.values()))]
    for stage, account in sorted(stages.items()):
        # Only objects of a version shipped to this stage (its deploy build tags them): the stage
        # account's administrator owns the role name, so the name alone would share every run's.
        shipped = {
            "StringEquals": {
                **org.get("StringEquals", {}),
                f"s3:ExistingObjectTag/{released_tag(stage)}": RELEASED,
            }
        }
        bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid=f"Stage{what}Role{stage.capitalize()}Read{objects}",
                principals=[iam.AccountPrincipal(account)],
                actions=["s3:GetObject"],
                resources=[bucket.arn_for_objects(pattern)],
                conditions={"ArnEquals": {"aws:PrincipalArn": arns[stage]}, **shipped},
            )
        )
    via_s3 = {"kms:ViaService": f"s3.{cdk.Stack.of(key).region}.amazonaws.com"}
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid=f"Stage{what}RolesDecrypt{objects}",
            principals=principals,
            actions=["kms:Decrypt"],
            resources=["*"],  # in a key policy "*" means this key
            conditions={**reader, "StringEquals": {**org.get("StringEquals", {}), **via_s3}},
        )
    )


#: Every way to change an object's tags (the tag set decides what a stage account may read).
TAGGING_ACTIONS: Final = (
    "s3:DeleteObjectTagging",
    "s3:DeleteObjectVersionTagging",
    "s3:PutObjectTagging",
    "s3:PutObjectVersionTagging",
)


def _only_shipping_builds_tag(bucket: s3.IBucket, prefix: str, stages: list[str]) -> None:
    """Deny changing the tags of anything under the runs to every principal but the deploy builds of
    the stages in other accounts (``release.release_tag``): a tag is what admits a stage account."""
    stack = cdk.Stack.of(bucket)
    builds = [
        stack.format_arn(
            service="iam", region="", resource="role", resource_name=deploy_role_name(prefix, stage)
        )
        for stage in stages
    ]
    bucket.add_to_resource_policy(
        iam.PolicyStatement(
            sid="DenyTaggingRunsButShippingBuilds",
            effect=iam.Effect.DENY,
            principals=[iam.AnyPrincipal()],
            actions=list(TAGGING_ACTIONS),
            resources=[bucket.arn_for_objects(f"{layout.RUNS_PREFIX}*")],
            conditions={"ArnNotEquals": {"aws:PrincipalArn": builds}},
        )
    )


def _group_policy(
    group: sagemaker.CfnModelPackageGroup, accounts: list[str], org: dict[str, Any]
) -> dict[str, Any]:
    stack = cdk.Stack.of(group)
    name = group.model_package_group_name
    statement: dict[str, Any] = {
        "Sid": "StageAccountsReadVersions",
        "Effect": "Allow",
        "Principal": {"AWS": [f"arn:{stack.partition}:iam::{account}:root" for account in accounts]},
        "Action": list(REGISTRY_READS),
        "Resource": [
            stack.format_arn(service="sagemaker", resource="model-package-group", resource_name=name),
            stack.format_arn(service="sagemaker", resource="model-package", resource_name=f"{name}/*"),
        ],
    }
    if org:
        statement["Condition"] = org
    return {"Version": "2012-10-17", "Statement": [statement]}
