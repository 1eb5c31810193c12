"""Isolation between use cases (issue 18 point 3), decided as requests on the ``cases`` environment.

The project's own use case (the primary, ``<project>-cases-*``) and ``fraud``
(``<project>-cases-fraud-*``) share one network and one Studio domain. Each request below is
evaluated by ``policy_eval`` against the synthesized identity policies of the asking role and the
bucket, key and VPC endpoint policies on its path, explicit Deny winning, as in
``test_attack_cases.py``. Every denial sits next to the same request on the asker's *own* use case,
which must be allowed: a denial that holds only because the request is malformed proves nothing.

Against the templates of commit b67209c (before this change; fraud had no Studio users then):
every fraud-persona test fails (no such role: fraud's users could only be the project's own
personas); the project's personas reading fraud's pipeline definitions and runs, invoking or
describing its endpoints and naming, stopping or describing its jobs were ALLOWED (``<prefix>-*``
covers ``<prefix>-fraud-*``) and fail. With this change but without the fence on the project's
personas and with shared spaces for fraud's builders, exactly those and the shared-space test fail.
Held by construction, kept as regression guards: the project's personas on fraud's data, key,
versions, key-bound jobs and training-pipeline runs; fraud's personas on anything of the project's
(their ``<prefix>-fraud-*`` names cover none of the project's); fraud's job and delivery roles.

Whose CDK bootstrap each build may assume (was a strict xfail): fraud's stacks deploy through the
bootstrap of its own qualifier, and its builds may assume exactly that bootstrap's deploy and
file-publishing roles; with the builds' qualifier left at the default (and fraud's stacks
synthesized for its own), the fraud-side tests below fail. The project's builds never could
assume fraud's (a guard).
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from access import Access
from platform_policies import ACCOUNT, REGION, PlatformPolicies, Role
from platform_synth import synth_platform
from policy_eval import Decision, Request, authorize

from contracts.config.bootstrap import CDK_DEFAULT_QUALIFIER
from contracts.config.use_cases import UseCase
from contracts.names import batch_pipeline_name, bootstrap_role_name, model_package_group_name

BUILDERS = ("data_scientist", "ml_engineer")
PERSONAS = (*BUILDERS, "approver")
MODEL = "pipeline-runs/exec-1/train/output/model.tar.gz"
#: (asker, owner of the resources asked for)
DIRECTIONS = [("fraud", "primary"), ("primary", "fraud")]


@dataclass(frozen=True)
class UseCaseView:
    """One use case's resources and request builders (:class:`Access`), and its raw data's prefix."""

    access: Access
    input_prefix: str

    @property
    def data_object(self) -> str:
        return f"{self.input_prefix}train.csv"


@pytest.fixture(scope="module")
def views(tmp_path_factory: pytest.TempPathFactory) -> dict[str, UseCaseView]:
    """The ``cases`` environment synthesized once: the primary's view and fraud's."""
    synthesized = synth_platform(tmp_path_factory.mktemp("cases-security"), env="cases")
    platform = PlatformPolicies.load(synthesized.outdir, synthesized.config.prefix)
    primary_access = Access(platform, synthesized.config)
    primary, fraud = synthesized.config.use_cases
    return {
        "primary": UseCaseView(primary_access, primary.input_prefix),
        "fraud": UseCaseView(use_case_access(primary_access, fraud), fraud.input_prefix),
    }


def use_case_access(platform: Access, case: UseCase) -> Access:
    """``platform``'s view moved to an additional use case: its stacks (``<prefix>-<part>``), data
    stores, group and Studio users; the network and the Studio domain stay the platform's."""
    view = copy.copy(platform)
    view.p = dataclasses.replace(platform.p, prefix=case.prefix)
    view.prefix = case.prefix
    artifact = view.p.bucket("data", "ArtifactBucket")
    assert artifact is not None
    view.artifact_bucket = artifact
    view.delivery_bucket = view.p.bucket("data", "DeliveryBucket")
    view.data_key = view.p.arn("data", "DataKey")
    view.group = model_package_group_name(case.prefix)
    view.profiles = {user.persona: user.name for user in case.users}
    return view


def denied(decision: Decision, what: str) -> None:
    assert not decision, f"{what} must be DENIED, but is allowed: {decision.reason}"


def allowed(decision: Decision, what: str) -> None:
    assert decision, f"{what} must be ALLOWED, but is denied: {decision.reason}"


def _sides(views: dict[str, UseCaseView], asker: str, owner: str) -> tuple[UseCaseView, UseCaseView]:
    return views[asker], views[owner]


# ====================================================================== personas: data and models


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(("asker", "owner"), DIRECTIONS)
def test_persona_cannot_read_the_other_use_cases_data_or_models(
    views: dict[str, UseCaseView], asker: str, owner: str, persona: str
) -> None:
    mine, theirs = _sides(views, asker, owner)
    me = mine.access
    role = me.persona(persona)
    readable = [MODEL] + ([mine.data_object] if persona in BUILDERS else [])
    for key in readable:  # GIVEN the persona reads its own use case's object
        allowed(me.s3_object(role, "s3:GetObject", me.artifact_bucket, key), f"{asker} {persona} reads {key}")
    for key in (theirs.data_object, MODEL):  # THEN not the other's, by S3 nor by its key
        where = f"s3://{theirs.access.artifact_bucket}/{key}"
        denied(
            me.s3_object(role, "s3:GetObject", theirs.access.artifact_bucket, key), f"{persona} reads {where}"
        )
    denied(
        me.kms(role, "kms:Decrypt", theirs.access.data_key), f"{asker} {persona} decrypts with {owner}'s key"
    )


@pytest.mark.parametrize("persona", BUILDERS)
@pytest.mark.parametrize(("asker", "owner"), DIRECTIONS)
def test_builder_cannot_write_the_other_use_cases_data(
    views: dict[str, UseCaseView], asker: str, owner: str, persona: str
) -> None:
    mine, theirs = _sides(views, asker, owner)
    me, role = mine.access, mine.access.persona(persona)
    allowed(
        me.s3_object(role, "s3:PutObject", me.artifact_bucket, mine.data_object), f"{persona} writes own data"
    )
    # with the other's key (the bucket's only accepted one) or its own: neither is let through
    for kms_key in ("data", theirs.access.data_key):
        request = me.s3(
            role, "s3:PutObject", theirs.access.artifact_bucket, theirs.data_object, kms_key=kms_key
        )
        denied(request, f"{asker} {persona} writes {owner}'s data")


# ====================================================================== personas: registry


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(("asker", "owner"), DIRECTIONS)
def test_persona_cannot_read_the_other_use_cases_versions(
    views: dict[str, UseCaseView], asker: str, owner: str, persona: str
) -> None:
    me, them = views[asker].access, views[owner].access
    for action, resource in (
        ("sagemaker:DescribeModelPackageGroup", "model-package-group/{group}"),
        ("sagemaker:DescribeModelPackage", "model-package/{group}/3"),
    ):
        own, other = resource.format(group=me.group), resource.format(group=them.group)
        allowed(me.from_studio(persona, action, own), f"{asker} {persona} {action} {own}")
        denied(me.from_studio(persona, action, other), f"{asker} {persona} {action} {other}")


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(("asker", "owner"), DIRECTIONS)
def test_persona_cannot_approve_the_other_use_cases_versions(
    views: dict[str, UseCaseView], asker: str, owner: str, persona: str
) -> None:
    me, them = views[asker].access, views[owner].access
    approved = {"sagemaker:ModelApprovalStatus": "Approved"}
    if persona == "approver":  # the control: an approver approves its own use case's versions
        own = f"model-package/{me.group}/3"
        allowed(me.from_studio(persona, "sagemaker:UpdateModelPackage", own, approved), f"{asker} approves")
    other = f"model-package/{them.group}/3"
    denied(
        me.from_studio(persona, "sagemaker:UpdateModelPackage", other, approved),
        f"{asker} {persona} approves {other}",
    )


# ====================================================================== personas: pipeline, endpoints, jobs


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(("asker", "owner"), DIRECTIONS)
def test_persona_cannot_run_the_other_use_cases_pipeline(
    views: dict[str, UseCaseView], asker: str, owner: str, persona: str
) -> None:
    me, them = views[asker].access, views[owner].access
    own, other = f"pipeline/{me.prefix}-training", f"pipeline/{them.prefix}-training"
    start, stop = "sagemaker:StartPipelineExecution", "sagemaker:StopPipelineExecution"
    if persona in BUILDERS:
        allowed(me.from_studio(persona, start, own), f"{asker} {persona} starts {own}")
    denied(me.from_studio(persona, start, other), f"{asker} {persona} starts {other}")
    denied(
        me.from_studio(persona, stop, f"{other}/execution/abc123"),
        f"{asker} {persona} stops a run of {other}",
    )


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(("asker", "owner"), DIRECTIONS)
def test_persona_cannot_score_for_or_write_the_other_use_cases_batch(
    views: dict[str, UseCaseView], asker: str, owner: str, persona: str
) -> None:
    """Issue 16: the other's batch pipeline (decided by name: ``cases`` has batch off, the persona
    policies are the same either way) and its ``batch-scores/``; the asker's own data stays writable."""
    me, them = views[asker].access, views[owner].access
    role = me.persona(persona)
    other = f"pipeline/{batch_pipeline_name(them.prefix)}"
    denied(
        me.from_studio(persona, "sagemaker:StartPipelineExecution", other),
        f"{asker} {persona} starts {other}",
    )
    key = "batch-scores/exec-1/predictions/x.csv.out"
    for bucket in (them.artifact_bucket, me.artifact_bucket):
        denied(me.s3(role, "s3:PutObject", bucket, key), f"{asker} {persona} writes s3://{bucket}/{key}")
    if persona in BUILDERS:
        allowed(me.s3_object(role, "s3:PutObject", me.artifact_bucket, views[asker].data_object), "own data")


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(("asker", "owner"), DIRECTIONS)
def test_persona_cannot_read_the_other_use_cases_pipeline(
    views: dict[str, UseCaseView], asker: str, owner: str, persona: str
) -> None:
    """A pipeline's definition and runs name its data, its parameters and its models' locations."""
    me, them = views[asker].access, views[owner].access
    own, other = f"pipeline/{me.prefix}-training", f"pipeline/{them.prefix}-training"
    for action, suffix in (
        ("sagemaker:DescribePipeline", ""),
        ("sagemaker:DescribePipelineExecution", "/execution/abc123"),
    ):
        allowed(me.from_studio(persona, action, own + suffix), f"{asker} {persona} {action} {own}")
        denied(me.from_studio(persona, action, other + suffix), f"{asker} {persona} {action} {other}")


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(("asker", "owner"), DIRECTIONS)
def test_persona_cannot_reach_the_other_use_cases_endpoints(
    views: dict[str, UseCaseView], asker: str, owner: str, persona: str
) -> None:
    me, them = views[asker].access, views[owner].access
    if persona in BUILDERS:
        own = f"endpoint/{me.prefix}-staging"
        allowed(me.from_studio(persona, "sagemaker:InvokeEndpoint", own), f"{asker} {persona} invokes {own}")
    for stage in ("staging", "prod"):
        other = f"endpoint/{them.prefix}-{stage}"
        for action in ("sagemaker:InvokeEndpoint", "sagemaker:DescribeEndpoint"):
            denied(me.from_studio(persona, action, other), f"{asker} {persona} {action} {other}")


@pytest.mark.parametrize("persona", BUILDERS)
@pytest.mark.parametrize(("asker", "owner"), DIRECTIONS)
def test_builder_cannot_touch_the_other_use_cases_jobs(
    views: dict[str, UseCaseView], asker: str, owner: str, persona: str
) -> None:
    """Jobs are named ``<prefix>-*``: a builder stops, describes or creates only its own use case's."""
    me, them = views[asker].access, views[owner].access
    request = me.training_request(me.persona(persona))  # inside the asker's own boundary
    create = "sagemaker:CreateTrainingJob"
    allowed(me.start_job(persona, create, request, f"{me.prefix}-adhoc-1"), f"{asker} {persona} trains")
    denied(
        me.start_job(persona, create, request, f"{them.prefix}-adhoc-1"), f"{persona} names a job {owner}'s"
    )
    for action in ("sagemaker:StopTrainingJob", "sagemaker:DescribeTrainingJob"):
        own, other = f"training-job/{me.prefix}-train-1", f"training-job/{them.prefix}-train-1"
        allowed(me.from_studio(persona, action, own), f"{asker} {persona} {action} {own}")
        denied(me.from_studio(persona, action, other), f"{asker} {persona} {action} {other}")


@pytest.mark.parametrize("persona", BUILDERS)
@pytest.mark.parametrize(("asker", "owner"), DIRECTIONS)
def test_builder_cannot_run_a_job_on_the_other_use_cases_key(
    views: dict[str, UseCaseView], asker: str, owner: str, persona: str
) -> None:
    me, them = views[asker].access, views[owner].access
    other_key = me.training_request(me.persona(persona), volume_key=them.data_key, output_key=them.data_key)
    denied(
        me.start_job(persona, "sagemaker:CreateTrainingJob", other_key), f"{persona} trains on {owner}'s key"
    )


@pytest.mark.parametrize("persona", BUILDERS)
@pytest.mark.parametrize(("asker", "owner"), DIRECTIONS)
def test_builder_cannot_pass_the_other_use_cases_role(
    views: dict[str, UseCaseView], asker: str, owner: str, persona: str
) -> None:
    """Starting a job as the other's persona role would work with its data under its grants."""
    me, them = views[asker].access, views[owner].access
    role = me.persona(persona)
    allowed(me.pass_role(role, role), f"{asker} {persona} passes its own role")
    denied(me.pass_role(role, them.persona(persona)), f"{asker} {persona} passes {owner}'s {persona} role")


# ====================================================================== personas: Studio


@pytest.mark.parametrize("persona", PERSONAS)
def test_fraud_personas_work_in_their_own_private_spaces(views: dict[str, UseCaseView], persona: str) -> None:
    fraud = views["fraud"].access
    profile = fraud.profiles[persona]
    context = {
        "sagemaker:OwnerUserProfileArn": f"arn:aws:sagemaker:eu-west-1:111122223333:user-profile/"
        f"{fraud.domain_id}/{profile}",
        "sagemaker:SpaceSharingType": "Private",
        "sagemaker:InstanceTypes": [fraud.config.env.studio.instance_types[0]],
    }
    space = f"space/{fraud.domain_id}/{profile}-private"
    app = f"app/{fraud.domain_id}/{profile}-private/jupyterlab/default"
    allowed(
        fraud.from_studio(persona, "sagemaker:CreateSpace", space, context),
        f"fraud {persona} creates its space",
    )
    allowed(
        fraud.from_studio(persona, "sagemaker:CreateApp", app, context), f"fraud {persona} opens its space"
    )


@pytest.mark.parametrize("persona", PERSONAS)
def test_fraud_personas_use_no_shared_space(views: dict[str, UseCaseView], persona: str) -> None:
    """A shared space's apps run as the domain's default space role, the project's own data
    scientist: a fraud user there would read the project's data and run its pipeline."""
    fraud = views["fraud"].access
    owner = (
        f"arn:aws:sagemaker:eu-west-1:111122223333:user-profile/{fraud.domain_id}/{fraud.profiles[persona]}"
    )
    shared = {"sagemaker:OwnerUserProfileArn": owner, "sagemaker:SpaceSharingType": "Shared"}
    space, app = f"space/{fraud.domain_id}/team", f"app/{fraud.domain_id}/team/jupyterlab/default"
    denied(
        fraud.from_studio(persona, "sagemaker:CreateSpace", space, shared),
        f"fraud {persona} creates a shared space",
    )
    denied(
        fraud.from_studio(persona, "sagemaker:CreateApp", app, {"sagemaker:SpaceSharingType": "Shared"}),
        f"fraud {persona} opens a shared space",
    )


# ====================================================================== fraud's job and delivery roles

BUILD_ROLES = ("Build", "DeployStaging", "DeployProd")
JOB_ROLES: dict[str, Callable[[Access], Role]] = {
    "pipeline": lambda a: a.pipeline_role,
    "drift-check": lambda a: a.drift_role,
    "endpoint-staging": lambda a: a.endpoint_model_role("staging"),
    "endpoint-prod": lambda a: a.endpoint_model_role("prod"),
    **{name: (lambda a, name=name: a.project_role(name)) for name in BUILD_ROLES},
}
#: What each fraud role must still reach of its own use case (the control for the denials).
OWN_WORK: dict[str, Callable[[UseCaseView, Role], list[tuple[str, Decision]]]] = {
    "pipeline": lambda v, r: [
        ("reads its data", v.access.s3_object(r, "s3:GetObject", v.access.artifact_bucket, v.data_object)),
        ("writes a run", v.access.s3_object(r, "s3:PutObject", v.access.artifact_bucket, MODEL)),
        (
            "registers a pending version",
            v.access.by_service(
                r,
                "sagemaker:CreateModelPackage",
                f"model-package/{v.access.group}/4",
                {"sagemaker:ModelApprovalStatus": "PendingManualApproval"},
            ),
        ),
    ],
    "drift-check": lambda v, r: [
        (
            "writes its report",
            v.access.s3_object(r, "s3:PutObject", v.access.artifact_bucket, "drift-checks/e/r.json"),
        ),
    ],
    "endpoint-staging": lambda v, r: [
        ("reads its model", v.access.s3_object(r, "s3:GetObject", v.access.artifact_bucket, MODEL))
    ],
    "endpoint-prod": lambda v, r: [
        ("reads its model", v.access.s3_object(r, "s3:GetObject", v.access.artifact_bucket, MODEL))
    ],
    "Build": lambda v, r: [
        (
            "starts its training",
            v.access.by_service(
                r, "sagemaker:StartPipelineExecution", f"pipeline/{v.access.prefix}-training"
            ),
        ),
    ],
    **{
        name: lambda v, r: [
            (
                "reads its model",
                v.access.s3_object(r, "s3:GetObject", v.access.artifact_bucket, MODEL, in_vpc=False),
            ),
            (
                "describes its versions",
                v.access.by_service(r, "sagemaker:DescribeModelPackage", f"model-package/{v.access.group}/3"),
            ),
        ]
        for name in ("DeployStaging", "DeployProd")
    },
}


def _reaches_of_the_primary(
    views: dict[str, UseCaseView], role: Role, in_vpc: bool
) -> list[tuple[str, Decision]]:
    """Every request a fraud role might make on the primary's data stores, group and pipeline."""
    fraud, primary = views["fraud"].access, views["primary"]
    them = primary.access
    bucket, delivery = them.artifact_bucket, them.delivery_bucket
    assert delivery is not None
    pending = {"sagemaker:ModelApprovalStatus": "PendingManualApproval"}
    approved = {"sagemaker:ModelApprovalStatus": "Approved"}
    return [
        *[
            (
                f"s3:GetObject s3://{bucket}/{key}",
                fraud.s3_object(role, "s3:GetObject", bucket, key, in_vpc=in_vpc),
            )
            for key in (primary.data_object, MODEL, "pipeline-runs/e/preprocess/baseline/statistics.json")
        ],
        *[
            (
                f"s3:PutObject s3://{bucket}/{key}",
                fraud.s3(role, "s3:PutObject", bucket, key, in_vpc=in_vpc, kms_key=them.data_key),
            )
            for key in (primary.data_object, MODEL)
        ],
        (
            f"s3:GetObject s3://{delivery}/source",
            fraud.s3(role, "s3:GetObject", delivery, f"source/{them.prefix}.zip", in_vpc=in_vpc),
        ),
        *[
            (f"{action} on the primary's key", fraud.kms(role, action, them.data_key))
            for action in ("kms:Decrypt", "kms:GenerateDataKey")
        ],
        (
            "DescribeModelPackageGroup",
            fraud.by_service(
                role, "sagemaker:DescribeModelPackageGroup", f"model-package-group/{them.group}"
            ),
        ),
        (
            "DescribeModelPackage",
            fraud.by_service(role, "sagemaker:DescribeModelPackage", f"model-package/{them.group}/3"),
        ),
        (
            "CreateModelPackage",
            fraud.by_service(role, "sagemaker:CreateModelPackage", f"model-package/{them.group}/4", pending),
        ),
        (
            "UpdateModelPackage",
            fraud.by_service(role, "sagemaker:UpdateModelPackage", f"model-package/{them.group}/3", approved),
        ),
        (
            "StartPipelineExecution",
            fraud.by_service(role, "sagemaker:StartPipelineExecution", f"pipeline/{them.prefix}-training"),
        ),
        (
            "InvokeEndpoint",
            fraud.by_service(role, "sagemaker:InvokeEndpoint", f"endpoint/{them.prefix}-prod"),
        ),
    ]


@pytest.mark.parametrize("who", JOB_ROLES)
def test_fraud_roles_reach_only_frauds_data_stores_and_group(views: dict[str, UseCaseView], who: str) -> None:
    fraud = views["fraud"]
    role = JOB_ROLES[who](fraud.access)
    # GIVEN the role does its own work on fraud's stores
    for what, decision in OWN_WORK[who](fraud, role):
        allowed(decision, f"fraud {who} {what}")
    # THEN nothing of the primary's
    refused = [
        (what, d) for what, d in _reaches_of_the_primary(views, role, in_vpc=who not in BUILD_ROLES) if d
    ]
    assert not refused, f"fraud {who} reaches the primary's: " + "; ".join(
        f"{w} ({d.reason})" for w, d in refused
    )


# ====================================================================== delivery: whose CDK bootstrap

#: The tooling account's CDK bootstrap roles (``cdk bootstrap``); builds assume only deploy and publishing.
BOOTSTRAP_KINDS = (
    "deploy-role",
    "file-publishing-role",
    "cfn-exec-role",
    "lookup-role",
    "image-publishing-role",
)


def _bootstrap_role(qualifier: str, kind: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{bootstrap_role_name(qualifier, kind, ACCOUNT, REGION)}"


def _assumable(role: Role) -> set[str]:
    """Every resource an ``sts:AssumeRole`` Allow of ``role``'s identity policies names."""
    return {
        resource
        for policy in role.policies
        for statement in policy.statements()
        if statement.get("Effect") == "Allow" and "sts:AssumeRole" in _listed(statement.get("Action"))
        for resource in _listed(statement.get("Resource"))
    }


def _listed(value: object) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])  # type: ignore[call-overload]


@pytest.mark.parametrize("kind", BOOTSTRAP_KINDS)
@pytest.mark.parametrize("who", BUILD_ROLES)
def test_fraud_delivery_cannot_assume_the_shared_cdk_deploy_role(
    views: dict[str, UseCaseView], who: str, kind: str
) -> None:
    """Was a strict xfail: every build could assume the account's default bootstrap roles, through
    which any stack of the account deploys."""
    fraud = views["fraud"].access
    role = fraud.project_role(who)
    shared = _bootstrap_role(CDK_DEFAULT_QUALIFIER, kind)
    denied(
        authorize(Request(role.principal, "sts:AssumeRole", shared), identity=role.policies),
        f"fraud {who} assumes {shared}",
    )


@pytest.mark.parametrize("who", BUILD_ROLES)
def test_fraud_delivery_assumes_exactly_its_own_bootstraps_deploy_and_publishing_roles(
    views: dict[str, UseCaseView], who: str
) -> None:
    (fraud_case,) = [case for case in views["fraud"].access.config.use_cases if not case.primary]
    qualifier = fraud_case.bootstrap_qualifier
    assert qualifier == "fraud"  # its name, by default
    role = views["fraud"].access.project_role(who)
    own = {_bootstrap_role(qualifier, kind) for kind in ("deploy-role", "file-publishing-role")}
    for arn in own:  # GIVEN cdk deploy of its stacks assumes these
        allowed(
            authorize(Request(role.principal, "sts:AssumeRole", arn), identity=role.policies),
            f"fraud {who} assumes {arn}",
        )
    # THEN nothing else may be assumed: not the bootstrap's execution or lookup role, no other qualifier's
    assert _assumable(role) == own


@pytest.mark.parametrize("kind", BOOTSTRAP_KINDS)
@pytest.mark.parametrize("who", BUILD_ROLES)
def test_the_projects_delivery_cannot_assume_frauds_bootstrap_roles(
    views: dict[str, UseCaseView], who: str, kind: str
) -> None:
    role = views["primary"].access.project_role(who)
    own, fraud = _bootstrap_role(CDK_DEFAULT_QUALIFIER, kind), _bootstrap_role("fraud", kind)
    if kind in ("deploy-role", "file-publishing-role"):  # GIVEN it deploys its own stacks as before
        allowed(
            authorize(Request(role.principal, "sts:AssumeRole", own), identity=role.policies),
            f"project {who} assumes {own}",
        )
    denied(
        authorize(Request(role.principal, "sts:AssumeRole", fraud), identity=role.policies),
        f"project {who} assumes {fraud}",
    )
