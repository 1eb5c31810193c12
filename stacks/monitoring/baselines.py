"""What a drift check reads: capture, and baselines (the tooling account's, for a stage elsewhere).

The deployed version's baseline (``statistics.json``, ``constraints.json``) is written by training
into the tooling account's artifact bucket (:data:`contracts.layout.BASELINE_PATTERN`). The check
of a stage in another account reads those objects there, and decrypts them with the tooling
account's keys only through S3 in this region. The tooling account's bucket and key policies are
the gate (:mod:`stacks.data.stage_access`): they admit its role by its fixed name
(:func:`contracts.names.stage_drift_role_name`), for baselines only. The objects are named by
pattern (``arn:<partition>:s3:::*/`` + the pattern, ``s3:ResourceAccount`` the tooling account,
as for the model role): that bucket is named by CloudFormation there, and the stage's monitoring
stack is not redeployed per version, so no version's bucket is known to it (the endpoint stack's
schedule names the baseline).
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import IConstruct

from contracts.layout import BASELINE_PATTERN, CAPTURE_PREFIX, RUNS_PREFIX
from stacks.common.nag import acknowledge_resource
from stacks.endpoint.cross_account import tooling_keys_arn


def tooling_baselines_arn(stack: cdk.Stack) -> str:
    """``arn:<partition>:s3:::*/pipeline-runs/*/preprocess/baseline/*``: baselines in any bucket
    (a condition names the owning account)."""
    return f"arn:{stack.partition}:s3:::*/{BASELINE_PATTERN}"


def baseline_and_capture_reads(
    stack: cdk.Stack, bucket: s3.IBucket, *, tooling_account: str | None
) -> list[iam.PolicyStatement]:
    """``s3:GetObject`` on ``bucket``'s capture, and on baselines: in ``bucket`` (None, the tooling
    account's own check) or in ``tooling_account`` (:func:`tooling_baseline_statements`)."""
    capture = bucket.arn_for_objects(f"{CAPTURE_PREFIX}*")
    if tooling_account is None:
        runs = bucket.arn_for_objects(f"{RUNS_PREFIX}*")
        return [
            iam.PolicyStatement(
                sid="ReadBaselinesAndCapture", actions=["s3:GetObject"], resources=[runs, capture]
            )
        ]
    return [
        iam.PolicyStatement(sid="ReadCapture", actions=["s3:GetObject"], resources=[capture]),
        *tooling_baseline_statements(stack, tooling_account),
    ]


def tooling_baseline_statements(stack: cdk.Stack, tooling_account: str) -> list[iam.PolicyStatement]:
    """Read baselines owned by ``tooling_account``; decrypt its keys through S3 only."""
    return [
        iam.PolicyStatement(
            sid="ReadToolingBaselines",
            actions=["s3:GetObject"],
            resources=[tooling_baselines_arn(stack)],
            conditions={"StringEquals": {"s3:ResourceAccount": tooling_account}},
        ),
        iam.PolicyStatement(
            sid="DecryptBaselinesThroughS3",
            actions=["kms:Decrypt"],
            resources=[tooling_keys_arn(stack, tooling_account)],
            conditions={"StringEquals": {"kms:ViaService": f"s3.{stack.region}.amazonaws.com"}},
        ),
    ]


def acknowledge_tooling_baselines(policy: IConstruct, tooling_account: str) -> None:
    """Acknowledge the two wildcards of :func:`tooling_baseline_statements` on ``policy``."""
    stack = cdk.Stack.of(policy)
    acknowledge_resource(
        policy,
        tooling_baselines_arn(stack),
        "s3:GetObject only, only of objects the tooling account owns (s3:ResourceAccount), only "
        "baselines (pipeline-runs/<execution>/preprocess/baseline/): the deployed version's baseline "
        "is chosen at deploy time by the stage's drift schedule, and the tooling bucket is named by "
        "CloudFormation in that account. The tooling bucket's policy is the gate: it admits this role "
        "by name for baselines only.",
    )
    acknowledge_resource(
        policy,
        tooling_keys_arn(stack, tooling_account),
        "kms:Decrypt only, only through S3 in this region (kms:ViaService), for the baselines this "
        "role reads from the tooling account; that account's key ID is generated there and unknown "
        "to this stage's synth, and the tooling data key's policy is the gate: it admits this role "
        "by name, through S3 only.",
    )
