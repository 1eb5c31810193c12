"""Attack cases for the drift check of a stage in another account (issue 13 point 4, phase A).

The check runs in the stage account with the role ``<prefix>-<stage>-drift``, and reads the deployed
version's baseline from the tooling account's artifact bucket. Each request is decided by
``policy_eval`` against the synthesized identity policy *and* the policies on its path (the tooling
bucket and key policies, the stage VPC's S3 gateway), explicit Deny winning and, across accounts,
both sides having to allow: the role reads baselines and nothing else there, decrypts only through
S3, cannot be fed a baseline from a foreign account, and no one else of the stage account (an
administrator, the model role, a namesake elsewhere) reads a baseline with it.
"""

from __future__ import annotations

import pytest
from platform_policies import Role
from policy_eval import Decision, Request, authorize, endpoint_decision
from stage_policies import StagePolicies
from test_stage_account_attacks import (
    FOREIGN,
    IN_ORG,
    MODEL,
    PREFIX,
    PROD,
    STAGING,
    TOOLING,
    TOOLING_BUCKET,
    allowed,
    decrypt_tooling_key,
    denied,
    model_role,
    object_tags,
    read_tooling_object,
    role_in,
    stage,
    with_admin,
)

__all__ = ["stage"]  # the module's fixture: the multi-account assembly, resolved per account

BASELINE = "pipeline-runs/exec-1/preprocess/baseline/statistics.json"


def drift_role(stage: StagePolicies) -> Role:
    return stage.role("prod-monitoring", "DriftCheckRole")


def test_the_drift_role_reads_the_baseline_across_accounts(stage: StagePolicies) -> None:
    role = drift_role(stage)
    assert role.arn == f"arn:aws:iam::{PROD}:role/{PREFIX}-prod-drift"
    allowed(read_tooling_object(stage, role, BASELINE), "reading the deployed version's baseline")
    constraints = BASELINE.replace("statistics", "constraints")
    allowed(read_tooling_object(stage, role, constraints), "reading its constraints")


@pytest.mark.parametrize(
    "key",
    [
        MODEL,  # the model itself
        "pipeline-runs/exec-1/preprocess/test/test.csv",  # the held-out data
        "pipeline-runs/exec-1/evaluate/evaluation.json",  # another output of the run
        "data/raw/train.csv",  # the training data
        "drift-checks/exec-9/report/metrics.json",  # the tooling check's reports
    ],
)
def test_the_drift_role_reads_nothing_else_of_the_tooling_bucket(stage: StagePolicies, key: str) -> None:
    denied(read_tooling_object(stage, drift_role(stage), key), f"the drift role reading {key}")


def test_the_drift_role_cannot_overwrite_a_baseline(stage: StagePolicies) -> None:
    role = drift_role(stage)
    write = Request(
        role.principal,
        "s3:PutObject",
        f"arn:aws:s3:::{TOOLING_BUCKET}/{BASELINE}",
        IN_ORG,
        resource_account=TOOLING,
    )
    resource = [stage.bucket_policy("data", "ArtifactBucket")]
    denied(authorize(write, identity=role.policies, resource=resource), "overwriting the baseline")


def test_the_drift_role_decrypts_only_through_s3(stage: StagePolicies) -> None:
    role = drift_role(stage)
    allowed(decrypt_tooling_key(stage, role, via_s3=True), "decrypting a baseline through S3")
    denied(decrypt_tooling_key(stage, role, via_s3=False), "decrypting with the tooling key directly")


def test_the_check_cannot_be_fed_a_baseline_of_another_account(stage: StagePolicies) -> None:
    # GIVEN an attacker's bucket in a foreign account that lets anyone read (a poisoned baseline)
    role = drift_role(stage)
    request = Request(
        role.principal,
        "s3:GetObject",
        f"arn:aws:s3:::attacker-bucket/{BASELINE}",
        IN_ORG,
        resource_account=FOREIGN,
    )
    # THEN the role's own policy refuses it (the tooling account owns the baselines it reads) ...
    denied(authorize(request, identity=role.policies), "reading a foreign account's baseline")
    # ... and so does the stage VPC's S3 gateway
    denied(
        endpoint_decision(request, [stage.gateway_policy("prod-network")]), "a foreign baseline via the VPC"
    )


def _reads_baseline(stage: StagePolicies, who: Role) -> Decision:
    return read_tooling_object(stage, who, BASELINE)


def test_no_one_else_of_a_stage_account_reads_a_baseline(stage: StagePolicies) -> None:
    # an administrator of the stage account: the tooling bucket names the drift role
    denied(_reads_baseline(stage, with_admin(role_in(PROD, "admin"))), "the stage admin")
    denied(decrypt_tooling_key(stage, with_admin(role_in(PROD, "admin")), via_s3=True), "its decrypt")
    # the stage's model role: models only
    denied(_reads_baseline(stage, model_role(stage, "prod")), "the model role")
    # staging captures nothing, so its account has no drift role the tooling account admits
    denied(_reads_baseline(stage, with_admin(role_in(STAGING, f"{PREFIX}-staging-drift"))), "staging")
    # the prod drift role's name in a foreign account
    denied(_reads_baseline(stage, with_admin(role_in(FOREIGN, f"{PREFIX}-prod-drift"))), "a namesake")


@pytest.mark.parametrize(
    "key", [MODEL, "pipeline-runs/exec-1/preprocess/test/test.csv", "data/raw/train.csv"]
)
def test_a_stage_admin_holding_the_drift_roles_name_reads_only_baselines(
    stage: StagePolicies, key: str
) -> None:
    # GIVEN the stage account's administrator creates a role of the drift role's name (its account,
    # its IAM) with every permission, and calls from outside the VPC (no gateway policy on the path)
    namesake = with_admin(role_in(PROD, f"{PREFIX}-prod-drift"))
    bucket = [stage.bucket_policy("data", "ArtifactBucket")]

    def read(object_key: str) -> Decision:
        request = Request(
            namesake.principal,
            "s3:GetObject",
            f"arn:aws:s3:::{TOOLING_BUCKET}/{object_key}",
            {**IN_ORG, **{f"s3:ExistingObjectTag/{k}": v for k, v in object_tags(object_key).items()}},
            resource_account=TOOLING,
        )
        return authorize(request, identity=namesake.policies, resource=bucket)

    # THEN the tooling bucket's policy alone keeps it to the baselines of versions shipped to the
    # stage (what that account shares by name, gated by the release tag)
    allowed(read(BASELINE), "the namesake reading a shipped version's baseline (the documented reach)")
    denied(read(key), f"the namesake reading {key}")
    unshipped = BASELINE.replace("exec-1", "exec-2")
    denied(read(unshipped), "the namesake reading the baseline of a version never shipped to the stage")
