"""Attack cases across accounts (issue 13 point 3): what the roles of a stage account can reach.

Two roles live in a stage account because of the tooling one: the stage's model role (SageMaker
reads the approved model.tar.gz with it, from the tooling account's bucket) and the smoke role (the
tooling account's deploy build assumes it to invoke the endpoint). Each request below is decided by
``policy_eval`` against the synthesized identity policies *and* the resource policies on its path
(the tooling bucket and key policies, the registry's group policy, the smoke role's trust, the
stage VPC's S3 gateway), explicit Deny winning and, across accounts, both sides having to allow.
Besides the two roles, an attacker holding an administrator role in the stage account is asked
what the tooling account's grants leave open to it (nothing: they name the model role).

The approved model of this synth points at the tooling account's artifact bucket as the emulator
names it offline, and its package at the tooling account's registry, as ``release.resolve``
writes them for a real deployment.
"""

from __future__ import annotations

import copy
from typing import Any

import aws_cdk as cdk
import pytest
from platform_policies import Role
from platform_synth import APPROVED, cdk_context
from policy_eval import Decision, Policy, Principal, Request, authorize, endpoint_decision
from stage_policies import REGION, StagePolicies

from contracts.config import load_config
from contracts.layout import RELEASED, released_tag
from emulator.standins import standin_name
from stacks.application import build_platform

PREFIX = "mlops-demo-dev"
TOOLING, STAGING, PROD, FOREIGN = "111111111111", "222222222222", "333333333333", "999988887777"
ORG = "o-abcdefghij"
TOOLING_BUCKET = standin_name(f"{PREFIX}-data", "ArtifactBucket", "AWS::S3::Bucket")
MODEL = "pipeline-runs/exec-1/train/output/model.tar.gz"
ADMIN = Policy(
    "attacker's own admin policy", {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
)
IN_ORG = {"aws:PrincipalOrgID": ORG, "aws:SecureTransport": True}


@pytest.fixture(scope="module")
def stage(tmp_path_factory: pytest.TempPathFactory) -> StagePolicies:
    """Staging and prod in their own accounts, in the organization; one approved version everywhere."""
    outdir = tmp_path_factory.mktemp("stage-account-security")
    context = copy.deepcopy(cdk_context())
    env = context["environments"][context["env"]]
    env.update({"account": TOOLING, "region": REGION, "organizationId": ORG})
    env["endpoints"]["staging"]["account"] = STAGING
    env["endpoints"]["prod"]["account"] = PROD
    env["endpoints"]["prod"].pop("shadow", None)  # dev's shadow test is for a tooling-account prod only
    approved = APPROVED.model_copy(
        update={
            "model_package_arn": f"arn:aws:sagemaker:{REGION}:{TOOLING}:model-package/{PREFIX}-models/3",
            "model_data_url": f"s3://{TOOLING_BUCKET}/{MODEL}",
        }
    )
    root = outdir / "project"
    for endpoint in load_config(context).env.endpoints:
        approved.write(root / endpoint.model_file)
    app = cdk.App(context=context, outdir=str(outdir / "cdk.out"))
    build_platform(app, load_config(context, project_root=root))
    app.synth()  # raises on any unacknowledged finding
    policies = StagePolicies.load(outdir / "cdk.out", PREFIX)
    assert policies.ref("data", "ArtifactBucket") == TOOLING_BUCKET
    return policies


def role_in(account: str, name: str) -> Principal:
    return Principal.role(f"arn:aws:iam::{account}:role/{name}")


def with_admin(principal: Principal) -> Role:
    """An attacker's role with an administrator identity policy (only resource policies stop it)."""
    return Role("attacker", "Admin", principal.arn.rsplit("/", 1)[1], principal.arn, ADMIN, (ADMIN,))


def object_tags(key: str) -> dict[str, str]:
    """The tags an object of the tooling bucket carries in this world: version 3 (run exec-1) was
    shipped to staging and prod, so its model file and baseline carry both stages' release tags
    (``release.release_tag``, run by each stage's deploy build); nothing else is tagged."""
    shipped = key == MODEL or key.startswith("pipeline-runs/exec-1/preprocess/baseline/")
    return {released_tag(name): RELEASED for name in ("staging", "prod")} if shipped else {}


def read_tooling_object(
    stage: StagePolicies,
    who: Role,
    key: str,
    *,
    through: str = "prod-network",
    tags: dict[str, str] | None = None,
) -> Decision:
    """``s3:GetObject`` of ``key`` in the tooling artifact bucket from the stage VPC ``through``, then
    the ``kms:Decrypt`` S3 makes with the caller's permissions (SSE-KMS with the tooling data key).
    The object's tags (``s3:ExistingObjectTag/<key>``) are :func:`object_tags` unless ``tags`` says."""
    existing = object_tags(key) if tags is None else tags
    request = Request(
        who.principal,
        "s3:GetObject",
        f"arn:aws:s3:::{TOOLING_BUCKET}/{key}",
        {**IN_ORG, **{f"s3:ExistingObjectTag/{k}": v for k, v in existing.items()}},
        resource_account=TOOLING,
    )
    read = authorize(
        request,
        identity=who.policies,
        resource=[stage.bucket_policy("data", "ArtifactBucket")],
        endpoints=[stage.gateway_policy(through)],
    )
    if not read:
        return read
    return decrypt_tooling_key(stage, who, via_s3=True)


def decrypt_tooling_key(stage: StagePolicies, who: Role, *, via_s3: bool) -> Decision:
    context = {**IN_ORG, "kms:CallerAccount": who.principal.account}
    if via_s3:
        context["kms:ViaService"] = f"s3.{REGION}.amazonaws.com"
    return authorize(
        Request(who.principal, "kms:Decrypt", stage.arn("data", "DataKey"), context),
        identity=who.policies,
        key_policy=stage.key_policy("data", "DataKey"),
    )


def model_role(stage: StagePolicies, name: str) -> Role:
    return stage.role(f"endpoint-{name}", "HostedModelExecutionRole")


def smoke_role(stage: StagePolicies, name: str) -> Role:
    return stage.role(f"{name}-base", "SmokeRole")


def denied(decision: Decision, what: str) -> None:
    assert not decision, f"{what} must be DENIED, but is allowed: {decision.reason}"


def allowed(decision: Decision, what: str) -> None:
    assert decision, f"{what} must be ALLOWED, but is denied: {decision.reason}"


# ====================================================================== the model role


@pytest.mark.parametrize("name", ["staging", "prod"])
def test_the_model_role_reads_the_approved_model_across_accounts(stage: StagePolicies, name: str) -> None:
    role = model_role(stage, name)
    assert role.arn == f"arn:aws:iam::{stage.account(f'endpoint-{name}')}:role/{PREFIX}-{name}-model"
    allowed(read_tooling_object(stage, role, MODEL, through=f"{name}-network"), "reading the approved model")
    package = Request(
        role.principal,
        "sagemaker:DescribeModelPackage",
        f"arn:aws:sagemaker:{REGION}:{TOOLING}:model-package/{PREFIX}-models/3",
        IN_ORG,
    )
    allowed(
        authorize(package, identity=role.policies, resource=[stage.group_policy()]), "describing the version"
    )


@pytest.mark.parametrize(
    "key",
    [
        "pipeline-runs/exec-2/train/output/model.tar.gz",  # another version, never approved
        "pipeline-runs/exec-1/preprocess/test/test.csv",  # the held-out data
        "data/raw/train.csv",  # the training data
    ],
)
def test_the_model_role_reads_nothing_else_of_the_tooling_bucket(stage: StagePolicies, key: str) -> None:
    denied(read_tooling_object(stage, model_role(stage, "prod"), key), f"reading {key}")


def test_the_model_role_cannot_poison_the_model_or_approve_one(stage: StagePolicies) -> None:
    role = model_role(stage, "prod")
    write = Request(
        role.principal,
        "s3:PutObject",
        f"arn:aws:s3:::{TOOLING_BUCKET}/{MODEL}",
        IN_ORG,
        resource_account=TOOLING,
    )
    denied(
        authorize(write, identity=role.policies, resource=[stage.bucket_policy("data", "ArtifactBucket")]),
        "overwriting the approved model",
    )
    package = f"arn:aws:sagemaker:{REGION}:{TOOLING}:model-package/{PREFIX}-models/4"
    for action in ("sagemaker:UpdateModelPackage", "sagemaker:DescribeModelPackage"):
        request = Request(role.principal, action, package, IN_ORG)
        denied(authorize(request, identity=role.policies, resource=[stage.group_policy()]), f"{action} on v4")


def test_the_model_role_decrypts_only_through_s3(stage: StagePolicies) -> None:
    role = model_role(stage, "prod")
    allowed(decrypt_tooling_key(stage, role, via_s3=True), "decrypting the model through S3")
    denied(decrypt_tooling_key(stage, role, via_s3=False), "decrypting with the tooling key directly")


def test_the_model_role_writes_only_its_own_capture(stage: StagePolicies) -> None:
    role = model_role(stage, "prod")
    bucket = stage.ref("prod-base", "CaptureBucket")
    capture_policy = [stage.bucket_policy("prod-base", "CaptureBucket")]

    def put(key: str) -> Decision:
        request = Request(
            role.principal, "s3:PutObject", f"arn:aws:s3:::{bucket}/{key}", IN_ORG, resource_account=PROD
        )
        return authorize(request, identity=role.policies, resource=capture_policy)

    allowed(put(f"data-capture/{PREFIX}-prod/AllTraffic/2025/01/01/00/x.jsonl"), "capturing its traffic")
    denied(put(f"data-capture/{PREFIX}-staging/AllTraffic/x.jsonl"), "writing another endpoint's capture")
    denied(put("pipeline-runs/exec-1/train/output/model.tar.gz"), "writing outside data-capture/")


# ====================================================================== others in the stage account


def test_a_stage_account_role_not_named_as_the_model_role_reads_no_tooling_model(
    stage: StagePolicies,
) -> None:
    # GIVEN a role of the stage account with every permission of its own account, under another name
    # (the account's administrator *can* create a role under the model role's name and then read the
    # versions shipped to its stage: tests/security/test_stage_account_review.py and README say so)
    attacker = with_admin(role_in(PROD, "admin"))
    # THEN the tooling bucket and key policies refuse it: they name the model role
    denied(read_tooling_object(stage, attacker, MODEL), "the stage admin reading the approved model")
    denied(
        decrypt_tooling_key(stage, attacker, via_s3=True), "the stage admin decrypting with the tooling key"
    )
    # ... and the other stage's model role is not this stage's either
    denied(
        read_tooling_object(stage, with_admin(role_in(PROD, f"{PREFIX}-staging-model")), MODEL), "a namesake"
    )


def test_the_stage_vpc_reaches_no_other_accounts_objects(stage: StagePolicies) -> None:
    attacker = with_admin(role_in(PROD, "admin"))
    gateway = [stage.gateway_policy("prod-network")]

    def through_vpc(action: str, bucket: str, key: str, owner: str) -> Decision:
        """The stage VPC's S3 gateway alone (the bucket's own policy is asked elsewhere)."""
        request = Request(
            attacker.principal, action, f"arn:aws:s3:::{bucket}/{key}", IN_ORG, resource_account=owner
        )
        return endpoint_decision(request, gateway)

    # training outputs of an account that is neither the stage's nor the tooling one
    denied(through_vpc("s3:GetObject", "attacker-bucket", MODEL, FOREIGN), "a foreign model through the VPC")
    # anything else of the tooling account, and any write to it
    denied(
        through_vpc("s3:GetObject", TOOLING_BUCKET, "data/raw/train.csv", TOOLING), "tooling data via the VPC"
    )
    denied(through_vpc("s3:PutObject", TOOLING_BUCKET, MODEL, TOOLING), "writing to the tooling account")
    # the exception itself: the tooling account's training outputs, read (the bucket policy decides who)
    allowed(through_vpc("s3:GetObject", TOOLING_BUCKET, MODEL, TOOLING), "the VPC path to a tooling model")


# ====================================================================== the smoke role


def assume_smoke(stage: StagePolicies, name: str, caller: Principal, **context: Any) -> Decision:
    smoke = smoke_role(stage, name)
    request = Request(caller, "sts:AssumeRole", smoke.arn, {**IN_ORG, **context})
    return authorize(request, identity=[ADMIN], resource=[smoke.trust])


@pytest.mark.parametrize("name", ["staging", "prod"])
def test_only_the_stages_deploy_build_assumes_the_smoke_role(stage: StagePolicies, name: str) -> None:
    other = "prod" if name == "staging" else "staging"
    deploy = role_in(TOOLING, f"{PREFIX}-{name}-deploy")
    allowed(assume_smoke(stage, name, deploy), "the stage's deploy build assuming it")
    for caller, what in [
        (role_in(TOOLING, f"{PREFIX}-{other}-deploy"), "the other stage's deploy build"),
        (role_in(TOOLING, f"{PREFIX}-build"), "the training build"),
        (Principal(arn=f"arn:aws:iam::{TOOLING}:root", account=TOOLING), "the tooling account's root"),
        (role_in(FOREIGN, f"{PREFIX}-{name}-deploy"), "a namesake in a foreign account"),
    ]:
        denied(assume_smoke(stage, name, caller), what)
    denied(assume_smoke(stage, name, deploy, **{"aws:PrincipalOrgID": "o-someoneelse"}), "outside the org")


@pytest.mark.parametrize("name", ["staging", "prod"])
def test_the_smoke_role_only_invokes_its_endpoint(stage: StagePolicies, name: str) -> None:
    smoke = smoke_role(stage, name)
    account = stage.account(f"{name}-base")
    assert account is not None

    def may(action: str, resource: str) -> Decision:
        return authorize(Request(smoke.principal, action, resource, IN_ORG), identity=smoke.policies)

    endpoint = f"arn:aws:sagemaker:{REGION}:{account}:endpoint/{PREFIX}-{name}"
    allowed(may("sagemaker:InvokeEndpoint", endpoint), "invoking its endpoint")
    for action, resource in [
        ("sagemaker:InvokeEndpoint", f"arn:aws:sagemaker:{REGION}:{account}:endpoint/{PREFIX}-sandbox-x"),
        ("sagemaker:InvokeEndpointAsync", endpoint),
        ("sagemaker:DescribeEndpoint", endpoint),
        ("sagemaker:UpdateEndpoint", endpoint),
        ("sagemaker:DeleteEndpoint", endpoint),
        ("s3:GetObject", f"arn:aws:s3:::{stage.ref(f'{name}-base', 'CaptureBucket')}/data-capture/x"),
        ("kms:Decrypt", stage.arn(f"{name}-base", "StageKey")),
        ("sts:AssumeRole", model_role(stage, name).arn),
        ("iam:PassRole", model_role(stage, name).arn),
    ]:
        denied(may(action, resource), f"{action} on {resource}")
    other = "prod" if name == "staging" else "staging"
    other_account = stage.account(f"{other}-base")
    other_endpoint = f"arn:aws:sagemaker:{REGION}:{other_account}:endpoint/{PREFIX}-{other}"
    denied(may("sagemaker:InvokeEndpoint", other_endpoint), "invoking the other stage's endpoint")


# ====================================================================== the evaluator's cross-account rule


def test_a_resource_policy_naming_an_account_grants_across_accounts_with_its_identity_policies() -> None:
    """https://docs.aws.amazon.com/AmazonS3/latest/userguide/example-walkthroughs-managing-access-example2.html
    Account A's bucket policy grants account B (``arn:aws:iam::B:root``); a user of B then reads
    with an identity policy of B's that allows it, and not without one. (What the grants above rely
    on: the tooling bucket names the stage account and conditions the role.)"""
    bucket = "arn:aws:s3:::amzn-s3-demo-bucket"
    grant = Policy(
        "bucket",
        {
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{PROD}:root"},
                    "Action": "s3:GetObject",
                    "Resource": f"{bucket}/*",
                }
            ]
        },
    )
    reader = role_in(PROD, "reader")
    request = Request(reader, "s3:GetObject", f"{bucket}/a", resource_account=TOOLING)
    allowed(authorize(request, identity=[ADMIN], resource=[grant]), "B's user, allowed by B")
    denied(authorize(request, resource=[grant]), "B's user without an identity policy")
    outsider = Request(role_in(FOREIGN, "reader"), "s3:GetObject", f"{bucket}/a", resource_account=TOOLING)
    denied(authorize(outsider, identity=[ADMIN], resource=[grant]), "a third account")
