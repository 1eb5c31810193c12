"""Attack cases of issue 10, decided against the synthesized identity *and* resource policies.

For each persona (data_scientist, ml_engineer, approver) and job role (training pipeline,
drift check, endpoint model roles, delivery CodeBuild roles): requests that must be DENIED and
requests they must still be ALLOWED, every one evaluated by ``policy_eval`` against the role's
policies, the bucket/key/topic policies and the VPC endpoint policies on the path, explicit Deny
winning. Resources and names come from the templates (``access.Access``); the layout is the one
of the issue-10 design: ``data/``, ``workspace/<persona>/``, ``pipeline-runs/``, ``data-capture/``,
``drift-checks/`` in the artifact bucket; the build source and CodePipeline artifacts in the
delivery bucket.

Every ``test_*`` that expects a denial fails on the templates of commit 4bfbbf5 (before issue 10).
Denials that already held there are kept as ``test_guard_*`` regression guards, so a later change
cannot open them unnoticed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from access import FOREIGN_ACCOUNT, FOREIGN_KEY, Access, foreign_principal, sagemaker_arn
from platform_policies import ACCOUNT, REGION, Role
from policy_eval import Decision, Principal
from sagemaker_keys import job_context

BUILDERS = ("data_scientist", "ml_engineer")
PERSONAS = (*BUILDERS, "approver")
MODEL = "pipeline-runs/exec-1/train/output/model.tar.gz"
CAPTURE = "data-capture/{prefix}-prod/AllTraffic/2025/01/01/00/capture.jsonl"
JOB_ROLES: dict[str, Callable[[Access], Role]] = {
    "pipeline": lambda a: a.pipeline_role,
    "drift-check": lambda a: a.drift_role,
    "endpoint-staging": lambda a: a.endpoint_model_role("staging"),
    "endpoint-prod": lambda a: a.endpoint_model_role("prod"),
}
BUILD_ROLES = ("Build", "DeployStaging", "DeployProd")
#: Stand-in for the (unpublished) AWS account owning ECR's layer buckets: not ours.
AWS_OWNED_ACCOUNT = "000000000000"


def denied(decision: Decision, what: str) -> None:
    assert not decision, f"{what} must be DENIED, but is allowed: {decision.reason}"


def allowed(decision: Decision, what: str) -> None:
    assert decision, f"{what} must be ALLOWED, but is denied: {decision.reason}"


def principal_role(access: Access, who: str) -> Role:
    if who in PERSONAS:
        return access.persona(who)
    if who in JOB_ROLES:
        return JOB_ROLES[who](access)
    return access.project_role(who)


def delivery_bucket(access: Access) -> str:
    assert access.delivery_bucket is not None, "the data stack has no DeliveryBucket"
    return access.delivery_bucket


# ====================================================================== delivery path


def build_source(access: Access) -> tuple[str, str]:
    """(bucket, key) of the object the build pipeline polls (its S3 source action)."""
    part = "delivery"
    pipeline = access.p.logical_id(part, "AWS::CodePipeline::Pipeline", "BuildPipeline")
    stages = access.p.resolve(
        part, access.p.templates[access.p.stack(part)]["Resources"][pipeline]["Properties"]["Stages"]
    )
    config = stages[0]["Actions"][0]["Configuration"]
    if "S3Bucket" not in config:
        pytest.skip("the build uses a CodeConnections source, not an S3 object")
    return str(config["S3Bucket"]), str(config["S3ObjectKey"])


def artifact_store(access: Access) -> str:
    part = "delivery"
    pipeline = access.p.logical_id(part, "AWS::CodePipeline::Pipeline", "BuildPipeline")
    store = access.p.templates[access.p.stack(part)]["Resources"][pipeline]["Properties"]["ArtifactStore"]
    return str(access.p.resolve(part, store["Location"]))


JOB_WRITERS = ("pipeline", "drift-check")


def _source_location(access: Access, where: str) -> tuple[str, str]:
    source = f"source/{access.prefix}.zip"
    if where == "polled-object":
        return build_source(access)
    if where == "delivery-bucket":
        return delivery_bucket(access), source
    if where == "artifact-store":
        return artifact_store(access), f"{access.prefix}-build/Source/abc123.zip"
    return access.artifact_bucket, source


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("where", ["polled-object", "delivery-bucket", "artifact-bucket"])
def test_persona_cannot_replace_the_build_source(access: Access, persona: str, where: str) -> None:
    """Replacing the zip the build polls runs attacker code with a role that can deploy."""
    bucket, key = _source_location(access, where)
    decision = access.s3(access.persona(persona), "s3:PutObject", bucket, key)
    denied(decision, f"{persona} s3:PutObject s3://{bucket}/{key}")


@pytest.mark.parametrize("persona", PERSONAS)
def test_persona_cannot_write_pipeline_artifacts(access: Access, persona: str) -> None:
    """CodePipeline hands build and deploy actions their inputs through the artifact store."""
    bucket, key = _source_location(access, "artifact-store")
    decision = access.s3(access.persona(persona), "s3:PutObject", bucket, key)
    denied(decision, f"{persona} s3:PutObject s3://{bucket}/{key}")


@pytest.mark.parametrize("who", JOB_WRITERS)
def test_job_roles_cannot_write_the_delivery_bucket(access: Access, who: str) -> None:
    bucket = delivery_bucket(access)
    for key in (f"source/{access.prefix}.zip", f"{access.prefix}-build/Source/abc123.zip"):
        decision = access.s3(principal_role(access, who), "s3:PutObject", bucket, key)
        denied(decision, f"{who} s3:PutObject s3://{bucket}/{key}")


@pytest.mark.parametrize("who", JOB_WRITERS)
@pytest.mark.parametrize("where", ["polled-object", "artifact-bucket", "artifact-store"])
def test_guard_job_roles_never_write_the_delivery_path(access: Access, who: str, where: str) -> None:
    """Regression guard (already denied on the base templates): job roles and the build's inputs."""
    bucket, key = _source_location(access, where)
    decision = access.s3(principal_role(access, who), "s3:PutObject", bucket, key)
    denied(decision, f"{who} s3:PutObject s3://{bucket}/{key}")


# ====================================================================== registered models


def _overwrite(access: Access, who: str) -> Decision:
    role = principal_role(access, who)
    return access.s3(role, "s3:PutObject", access.artifact_bucket, MODEL, in_vpc=who not in BUILD_ROLES)


@pytest.mark.parametrize("who", [*PERSONAS, "DeployStaging"])
def test_nobody_but_the_pipeline_overwrites_a_registered_model(access: Access, who: str) -> None:
    denied(_overwrite(access, who), f"{who} overwrites {MODEL}")


@pytest.mark.parametrize("who", ["drift-check", "endpoint-staging", "endpoint-prod", "Build", "DeployProd"])
def test_guard_other_roles_never_overwrite_a_registered_model(access: Access, who: str) -> None:
    """Regression guard (already denied on the base templates)."""
    denied(_overwrite(access, who), f"{who} overwrites {MODEL}")


def _delete(access: Access, who: str, action: str) -> Decision:
    role = principal_role(access, who)
    return access.s3(role, action, access.artifact_bucket, MODEL, in_vpc=who not in BUILD_ROLES)


@pytest.mark.parametrize("who", ["ml_engineer", "approver", "DeployStaging"])
def test_nobody_deletes_a_registered_model(access: Access, who: str) -> None:
    for action in ("s3:DeleteObject", "s3:DeleteObjectVersion"):
        denied(_delete(access, who, action), f"{who} {action} {MODEL}")


@pytest.mark.parametrize("who", ["data_scientist", "Build", "DeployProd"])
def test_guard_registered_model_deletes(access: Access, who: str) -> None:
    """Regression guard (already denied on the base templates)."""
    for action in ("s3:DeleteObject", "s3:DeleteObjectVersion"):
        denied(_delete(access, who, action), f"{who} {action} {MODEL}")


def test_the_pipeline_role_writes_its_runs(access: Access) -> None:
    for key in (MODEL, "pipeline-runs/exec-1/preprocess/baseline/statistics.json"):
        allowed(
            access.s3_object(access.pipeline_role, "s3:PutObject", access.artifact_bucket, key),
            f"pipeline writes {key}",
        )
    allowed(
        access.s3_object(access.pipeline_role, "s3:GetObject", access.artifact_bucket, "data/raw/x.csv"),
        "pipeline reads data/raw",
    )


# ====================================================================== bucket layout for personas


@pytest.mark.parametrize("persona", BUILDERS)
@pytest.mark.parametrize("action", ["s3:GetObject", "s3:PutObject"])
@pytest.mark.parametrize("where", ["data/raw/x.csv", "workspace/{persona}/notebook.ipynb"])
def test_persona_works_in_data_and_own_workspace(
    access: Access, persona: str, action: str, where: str
) -> None:
    key = where.format(persona=persona)
    allowed(
        access.s3_object(access.persona(persona), action, access.artifact_bucket, key),
        f"{persona} {action} {key}",
    )


@pytest.mark.parametrize("persona", BUILDERS)
def test_persona_reads_runs_and_deletes_in_own_workspace(access: Access, persona: str) -> None:
    role = access.persona(persona)
    allowed(access.s3_object(role, "s3:GetObject", access.artifact_bucket, MODEL), f"{persona} reads {MODEL}")
    key = f"workspace/{persona}/old.csv"
    allowed(access.s3(role, "s3:DeleteObject", access.artifact_bucket, key), f"{persona} deletes {key}")


@pytest.mark.parametrize("persona", BUILDERS)
def test_persona_cannot_write_another_personas_workspace(access: Access, persona: str) -> None:
    other = next(p for p in BUILDERS if p != persona)
    key = f"workspace/{other}/notebook.ipynb"
    denied(
        access.s3(access.persona(persona), "s3:PutObject", access.artifact_bucket, key),
        f"{persona} writes {key}",
    )


@pytest.mark.parametrize("persona", PERSONAS)
def test_persona_cannot_read_captured_traffic(access: Access, persona: str) -> None:
    key = CAPTURE.format(prefix=access.prefix)
    denied(
        access.s3(access.persona(persona), "s3:GetObject", access.artifact_bucket, key),
        f"{persona} reads {key}",
    )


@pytest.mark.parametrize("sse", [("aws:kms", FOREIGN_KEY), ("AES256", None)], ids=["other-kms-key", "sse-s3"])
@pytest.mark.parametrize("who", [*BUILDERS, "pipeline"])
def test_uploads_with_another_key_are_denied(access: Access, who: str, sse: tuple[str, str | None]) -> None:
    role = principal_role(access, who)
    key = MODEL if who == "pipeline" else "data/raw/x.csv"
    decision = access.s3(role, "s3:PutObject", access.artifact_bucket, key, sse=sse[0], kms_key=sse[1])
    denied(decision, f"{who} uploads {key} with {sse}")


def test_approver_writes_nothing(access: Access) -> None:
    role = access.persona("approver")
    for key in ("data/raw/x.csv", "workspace/approver/x.csv"):
        denied(access.s3(role, "s3:PutObject", access.artifact_bucket, key), f"approver writes {key}")


# ====================================================================== jobs

KINDS = {"training": "sagemaker:CreateTrainingJob", "processing": "sagemaker:CreateProcessingJob"}
#: Variants of a compliant request that leave the project's boundary (request builder changes).
OUTSIDE: dict[str, dict[str, Any]] = {
    "no-vpc": {"VpcConfig": None},
    "foreign-subnet": {"subnets": ["subnet-0attacker000000001"]},
    "foreign-security-group": {"security_groups": ["sg-0attacker000000001"]},
    "other-volume-key": {"volume_key": FOREIGN_KEY},
    "other-output-key": {"output_key": FOREIGN_KEY},
    "no-output-key": {"output_key": None},
    "disallowed-instance": {"instance_type": "ml.p4d.24xlarge"},
    "no-traffic-encryption": {"EnableInterContainerTrafficEncryption": False},
    "no-network-isolation": {"EnableNetworkIsolation": False},
}


def job_request(access: Access, kind: str, role: Role, changes: dict[str, Any]) -> dict[str, Any]:
    build = access.training_request if kind == "training" else access.processing_request
    return build(role, **dict(changes))


@pytest.mark.parametrize("variant", OUTSIDE)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("persona", BUILDERS)
def test_persona_job_outside_the_boundary_is_denied(
    access: Access, persona: str, kind: str, variant: str
) -> None:
    request = job_request(access, kind, access.persona(persona), OUTSIDE[variant])
    denied(access.start_job(persona, KINDS[kind], request), f"{persona} {KINDS[kind]} {variant}")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("persona", BUILDERS)
def test_persona_compliant_job_is_allowed(access: Access, persona: str, kind: str) -> None:
    request = job_request(access, kind, access.persona(persona), {})
    allowed(access.start_job(persona, KINDS[kind], request), f"{persona} {KINDS[kind]} inside the boundary")


@pytest.mark.parametrize("kind", KINDS)
def test_approver_starts_no_job(access: Access, kind: str) -> None:
    request = job_request(access, kind, access.persona("approver"), {})
    denied(access.start_job("approver", KINDS[kind], request), f"approver {KINDS[kind]}")


def _service_job(access: Access, role: Role, kind: str, variant: str) -> Decision:
    request = job_request(access, kind, role, OUTSIDE[variant])
    resource = f"{kind}-job/pipelines-0abc123def45-{kind}-a1b2c3d4e5"
    return access.by_service(role, KINDS[kind], resource, job_context(KINDS[kind], request))


@pytest.mark.parametrize(
    ("kind", "variant"),
    [
        (kind, variant)
        for kind in KINDS
        for variant in OUTSIDE
        # the Evaluate processing step calls the SageMaker API, so processing keeps its network
        if not (kind == "processing" and variant == "no-network-isolation")
    ],
)
def test_pipeline_role_job_outside_the_boundary_is_denied(access: Access, kind: str, variant: str) -> None:
    denied(
        _service_job(access, access.pipeline_role, kind, variant), f"pipeline role {KINDS[kind]} {variant}"
    )


@pytest.mark.parametrize("variant", OUTSIDE)
def test_drift_role_job_outside_the_boundary_is_denied(access: Access, variant: str) -> None:
    denied(
        _service_job(access, access.drift_role, "processing", variant),
        f"drift role CreateProcessingJob {variant}",
    )


def test_drift_role_starts_no_training_job(access: Access) -> None:
    role = access.drift_role
    request = access.training_request(role)
    decision = access.by_service(
        role, KINDS["training"], "training-job/pipelines-x-train-y", job_context(KINDS["training"], request)
    )
    denied(decision, "drift-check role sagemaker:CreateTrainingJob (compliant request)")


def _param_defaults(value: Any, defaults: dict[str, Any]) -> Any:
    """Replace ``{"Get": "Parameters.X"}`` with X's default; other expressions stay."""
    if isinstance(value, list):
        return [_param_defaults(v, defaults) for v in value]
    if isinstance(value, dict):
        if set(value) == {"Get"} and str(value["Get"]).startswith("Parameters."):
            return defaults[value["Get"].removeprefix("Parameters.")]
        return {k: _param_defaults(v, defaults) for k, v in value.items()}
    return value


def _job_steps(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for step in steps:
        if step["Type"] in ("Training", "Processing", "RegisterModel"):
            out.append(step)
        if step["Type"] == "Condition":
            out += _job_steps(step["Arguments"].get("IfSteps", []) + step["Arguments"].get("ElseSteps", []))
    return out


@pytest.mark.parametrize(
    "pipeline", ["pipeline/Pipeline", "monitoring/"], ids=["training-pipeline", "drift-check"]
)
def test_every_job_the_synthesized_pipelines_create_is_allowed(access: Access, pipeline: str) -> None:
    """Each Processing/Training step's request, as SageMaker Pipelines sends it with the step's
    role (parameters at their defaults), passes its role's conditions; the role may pass itself."""
    definitions = {k: v for k, v in access.p.pipeline_definitions().items() if k.startswith(pipeline)}
    assert len(definitions) == 1, (
        f"expected one SageMaker pipeline in {pipeline}, found {sorted(definitions)}"
    )
    (definition,) = definitions.values()
    defaults = {p["Name"]: p.get("DefaultValue") for p in definition.get("Parameters", [])}
    steps = _job_steps(definition["Steps"])
    assert steps, "the definition has no job step"
    failures = []
    for step in [s for s in steps if s["Type"] == "RegisterModel"]:
        status = _param_defaults(step["Arguments"], defaults).get("ModelApprovalStatus")
        resource = f"model-package/{access.group}/4"
        context = {"sagemaker:ModelApprovalStatus": status} if status else {}
        decision = access.by_service(access.pipeline_role, "sagemaker:CreateModelPackage", resource, context)
        if not decision:
            failures.append(f"{step['Name']}: sagemaker:CreateModelPackage as {status}: {decision.reason}")
    for step in [s for s in steps if s["Type"] != "RegisterModel"]:
        kind = step["Type"].lower()
        request = _param_defaults(step["Arguments"], defaults)
        role = access.p.roles[request["RoleArn"]]
        context = job_context(KINDS[kind], request)
        name = f"{kind}-job/pipelines-0abc123def45-{step['Name'].lower()}-a1b2c3d4e5"
        for what, decision in (
            (f"{step['Name']}: {KINDS[kind]}", access.by_service(role, KINDS[kind], name, context)),
            (f"{step['Name']}: iam:PassRole", access.pass_role(role, role)),
        ):
            if not decision:
                failures.append(f"{what} with {context}: {decision.reason}")
    assert not failures, "jobs of the synthesized pipeline are denied:\n" + "\n".join(failures)


# ====================================================================== registry


def test_pipeline_role_registers_only_pending_versions(access: Access) -> None:
    """The pipeline's jobs run pushed code as this role (Evaluate even has network access to the
    SageMaker API): registering a version already Approved would skip the manual approval."""
    decision = access.by_service(
        access.pipeline_role,
        "sagemaker:CreateModelPackage",
        f"model-package/{access.group}/4",
        {"sagemaker:ModelApprovalStatus": "Approved"},
    )
    denied(decision, "the pipeline role registers a version as Approved")


@pytest.mark.parametrize("persona", [*BUILDERS, "approver"])
def test_personas_do_not_register_versions(access: Access, persona: str) -> None:
    """Only the training pipeline registers: a hand-made package could name a model file in the
    author's workspace (replaceable after approval) or any image (independent review)."""
    resource = f"model-package/{access.group}/4"
    for status in ("Approved", "PendingManualApproval"):
        decision = access.from_studio(
            persona, "sagemaker:CreateModelPackage", resource, {"sagemaker:ModelApprovalStatus": status}
        )
        denied(decision, f"{persona} registers a version as {status}")


@pytest.mark.parametrize("persona", BUILDERS)
def test_personas_start_the_training_pipeline_but_not_the_drift_check(access: Access, persona: str) -> None:
    """The drift check's parameters (endpoint, capture, baseline) are the schedules' to set: a persona
    starting it could publish forged drift metrics for prod."""
    start = "sagemaker:StartPipelineExecution"
    allowed(access.from_studio(persona, start, f"pipeline/{access.prefix}-training"), f"{persona} trains")
    denied(
        access.from_studio(persona, start, f"pipeline/{access.prefix}-drift-check"),
        f"{persona} starts the drift check",
    )


def _approve(access: Access, persona: str) -> Decision:
    return access.from_studio(
        persona,
        "sagemaker:UpdateModelPackage",
        f"model-package/{access.group}/3",
        {"sagemaker:ModelApprovalStatus": "Approved"},
    )


def test_ml_engineer_cannot_approve(access: Access) -> None:
    denied(_approve(access, "ml_engineer"), "ml_engineer approves a version")


def test_guard_data_scientist_never_approves(access: Access) -> None:
    """Regression guard (already denied on the base templates)."""
    denied(_approve(access, "data_scientist"), "data_scientist approves a version")


@pytest.mark.parametrize("status", ["Approved", "Rejected"])
def test_approver_approves_and_rejects(access: Access, status: str) -> None:
    decision = access.from_studio(
        "approver",
        "sagemaker:UpdateModelPackage",
        f"model-package/{access.group}/3",
        {"sagemaker:ModelApprovalStatus": status},
    )
    allowed(decision, f"approver sets a version {status}")


# ====================================================================== stage endpoints

STAGE_CHANGES = [
    ("sagemaker:UpdateEndpoint", "endpoint/{name}"),
    ("sagemaker:DeleteEndpoint", "endpoint/{name}"),
    ("sagemaker:CreateEndpoint", "endpoint/{name}"),
    ("sagemaker:CreateEndpointConfig", "endpoint-config/{name}-v9-0a1b2c"),
    ("sagemaker:DeleteEndpointConfig", "endpoint-config/{name}-v3-0a1b2c"),
    ("sagemaker:CreateModel", "model/{name}-v9-0a1b2c"),
    ("sagemaker:DeleteModel", "model/{name}-v3-0a1b2c"),
]


def _endpoint_context(access: Access, action: str) -> dict[str, Any]:
    """A request that meets the ad-hoc conditions, so only the name can deny it."""
    if action == "sagemaker:CreateEndpointConfig":
        return {
            "sagemaker:VolumeKmsKey": access.data_key,
            "sagemaker:InstanceTypes": [access.allowed_instances[0]],
        }
    if action == "sagemaker:CreateModel":
        return {
            "sagemaker:VpcSubnets": access.subnets,
            "sagemaker:VpcSecurityGroupIds": access.security_groups,
            "sagemaker:NetworkIsolation": True,
        }
    return {}


@pytest.mark.parametrize(
    ("action", "resource"), STAGE_CHANGES, ids=[a.split(":")[1] for a, _ in STAGE_CHANGES]
)
@pytest.mark.parametrize("stage", ["staging", "prod"])
@pytest.mark.parametrize("persona", ["ml_engineer", "approver"])
def test_persona_cannot_change_stage_endpoints(
    access: Access, persona: str, stage: str, action: str, resource: str
) -> None:
    arn = resource.format(name=f"{access.prefix}-{stage}")
    denied(
        access.from_studio(persona, action, arn, _endpoint_context(access, action)),
        f"{persona} {action} {arn}",
    )


@pytest.mark.parametrize("stage", ["staging", "prod"])
def test_guard_data_scientist_never_changes_stage_endpoints(access: Access, stage: str) -> None:
    """Regression guard (already denied on the base templates)."""
    for action, resource in STAGE_CHANGES:
        arn = resource.format(name=f"{access.prefix}-{stage}")
        decision = access.from_studio("data_scientist", action, arn, _endpoint_context(access, action))
        denied(decision, f"data_scientist {action} {arn}")


@pytest.mark.parametrize(
    ("action", "resource"), STAGE_CHANGES, ids=[a.split(":")[1] for a, _ in STAGE_CHANGES]
)
def test_ml_engineer_runs_sandbox_endpoints(access: Access, action: str, resource: str) -> None:
    arn = resource.format(name=f"{access.prefix}-sandbox-churn")
    allowed(
        access.from_studio("ml_engineer", action, arn, _endpoint_context(access, action)),
        f"ml_engineer {action} {arn}",
    )


@pytest.mark.parametrize("persona", BUILDERS)
def test_persona_invokes_staging_and_describes_prod(access: Access, persona: str) -> None:
    staging, prod = f"endpoint/{access.prefix}-staging", f"endpoint/{access.prefix}-prod"
    allowed(access.from_studio(persona, "sagemaker:InvokeEndpoint", staging), f"{persona} invokes {staging}")
    allowed(access.from_studio(persona, "sagemaker:DescribeEndpoint", prod), f"{persona} describes {prod}")


# ====================================================================== Studio spaces

SPACE_ACTIONS = [
    ("sagemaker:DeleteSpace", "space/{domain}/{space}"),
    ("sagemaker:UpdateSpace", "space/{domain}/{space}"),
    ("sagemaker:DeleteApp", "app/{domain}/{space}/jupyterlab/default"),
]


def _space_request(access: Access, owner: str, action: str, resource: str) -> tuple[str, dict[str, Any]]:
    profile = access.profiles[owner]
    arn = resource.format(domain=access.domain_id, space=f"{profile}-private")
    context = {
        "sagemaker:OwnerUserProfileArn": sagemaker_arn(f"user-profile/{access.domain_id}/{profile}"),
        "sagemaker:SpaceSharingType": "Private",
    }
    return arn, context


@pytest.mark.parametrize(
    ("action", "resource"), SPACE_ACTIONS, ids=[a.split(":")[1] for a, _ in SPACE_ACTIONS]
)
@pytest.mark.parametrize("persona", BUILDERS)
def test_persona_cannot_touch_another_users_private_space(
    access: Access, persona: str, action: str, resource: str
) -> None:
    other = next(p for p in BUILDERS if p != persona)
    arn, context = _space_request(access, other, action, resource)
    denied(
        access.from_studio(persona, action, arn, context), f"{persona} {action} on {other}'s private space"
    )


@pytest.mark.parametrize(
    ("action", "resource"), SPACE_ACTIONS, ids=[a.split(":")[1] for a, _ in SPACE_ACTIONS]
)
@pytest.mark.parametrize("persona", BUILDERS)
def test_persona_manages_own_space(access: Access, persona: str, action: str, resource: str) -> None:
    arn, context = _space_request(access, persona, action, resource)
    allowed(access.from_studio(persona, action, arn, context), f"{persona} {action} on its own space")


def test_approver_uses_no_shared_space(access: Access) -> None:
    """A shared space's apps run as the domain's default space role (a builder's): an approver there
    could register and then approve alone (independent review)."""
    space = f"space/{access.domain_id}/team"
    shared = {
        "sagemaker:OwnerUserProfileArn": sagemaker_arn(
            f"user-profile/{access.domain_id}/{access.profiles['approver']}"
        ),
        "sagemaker:SpaceSharingType": "Shared",
    }
    denied(
        access.from_studio("approver", "sagemaker:CreateSpace", space, shared),
        "approver creates a shared space",
    )
    app = f"app/{access.domain_id}/team/jupyterlab/default"
    denied(
        access.from_studio("approver", "sagemaker:CreateApp", app, shared), "approver opens a shared space"
    )
    allowed(
        access.from_studio(
            "data_scientist", "sagemaker:CreateApp", app, {"sagemaker:SpaceSharingType": "Shared"}
        ),
        "a builder opens a shared space",
    )


@pytest.mark.parametrize("persona", [*BUILDERS, "approver"])
def test_studio_apps_run_only_on_the_configured_instance_types(access: Access, persona: str) -> None:
    """Studio apps bill like jobs: a JupyterLab on ml.p5.48xlarge is outside studio.instanceTypes
    (independent review)."""
    arn, context = _space_request(access, persona, "sagemaker:CreateApp", SPACE_ACTIONS[2][1])
    allowed_type = access.config.env.studio.instance_types[0]
    allowed(
        access.from_studio(
            persona, "sagemaker:CreateApp", arn, {**context, "sagemaker:InstanceTypes": [allowed_type]}
        ),
        f"{persona} opens its own space on {allowed_type}",
    )
    denied(
        access.from_studio(
            persona, "sagemaker:CreateApp", arn, {**context, "sagemaker:InstanceTypes": ["ml.p5.48xlarge"]}
        ),
        f"{persona} opens its own space on ml.p5.48xlarge",
    )


@pytest.mark.parametrize("action", ["sagemaker:CreateApp", "sagemaker:DeleteApp"])
def test_persona_cannot_touch_another_users_profile_apps(access: Access, action: str) -> None:
    """Profile-level apps carry no owner key; their ARN names the profile (independent review)."""
    other = access.profiles["ml_engineer"]
    own = access.profiles["data_scientist"]
    for profile, expect in ((other, denied), (own, allowed)):
        arn = f"app/{access.domain_id}/{profile}/jupyterserver/default"
        expect(
            access.from_studio("data_scientist", action, arn, {"sagemaker:InstanceTypes": ["system"]}),
            f"data_scientist {action} on {profile}'s profile app",
        )


# ====================================================================== job roles' own work


def test_drift_role_reads_capture_and_writes_its_checks(access: Access) -> None:
    role, bucket = access.drift_role, access.artifact_bucket
    allowed(
        access.s3_object(role, "s3:GetObject", bucket, CAPTURE.format(prefix=access.prefix)),
        "drift reads capture",
    )
    baseline = "pipeline-runs/exec-1/preprocess/baseline/statistics.json"
    allowed(access.s3_object(role, "s3:GetObject", bucket, baseline), "drift reads the baseline")
    allowed(
        access.s3_object(role, "s3:PutObject", bucket, "drift-checks/exec-9/report.json"),
        "drift writes its report",
    )


@pytest.mark.parametrize("stage", ["staging", "prod"])
def test_endpoint_role_reads_its_model(access: Access, stage: str) -> None:
    role = access.endpoint_model_role(stage)
    allowed(
        access.s3_object(role, "s3:GetObject", access.artifact_bucket, MODEL),
        f"{stage} endpoint reads its model",
    )


def test_prod_endpoint_role_writes_capture(access: Access) -> None:
    """Prod captures traffic (``dataCapturePercent`` in cdk.json); the staging endpoint does not."""
    key = f"data-capture/{access.prefix}-prod/AllTraffic/2025/01/01/00/c.jsonl"
    role = access.endpoint_model_role("prod")
    allowed(
        access.s3_object(role, "s3:PutObject", access.artifact_bucket, key), "prod endpoint writes capture"
    )


def test_job_roles_pull_ecr_layers_through_the_s3_endpoint(access: Access) -> None:
    """ECR keeps image layers in an AWS-owned bucket; the S3 endpoint policy must let them through."""
    layer = f"arn:aws:s3:::prod-{REGION}-starport-layer-bucket/sha256/abc"
    for role in (access.pipeline_role, access.drift_role):
        decision = access.through_endpoint(
            "s3", role.principal, "s3:GetObject", layer, owner=AWS_OWNED_ACCOUNT
        )
        allowed(decision, f"{role.logical_id} pulls an ECR layer")


# ====================================================================== network and confused deputy

#: One request per interface/gateway endpoint service, on a resource of the caller's account.
ENDPOINT_CALLS = {
    "s3": ("s3:PutObject", "arn:aws:s3:::attacker-exfil/loot.csv"),
    "sagemaker.api": (
        "sagemaker:CreatePresignedDomainUrl",
        f"arn:aws:sagemaker:{REGION}:{FOREIGN_ACCOUNT}:user-profile/d-x/u",
    ),
    "sagemaker.runtime": (
        "sagemaker:InvokeEndpoint",
        f"arn:aws:sagemaker:{REGION}:{FOREIGN_ACCOUNT}:endpoint/x",
    ),
    "sts": ("sts:AssumeRole", f"arn:aws:iam::{FOREIGN_ACCOUNT}:role/x"),
    "logs": ("logs:PutLogEvents", f"arn:aws:logs:{REGION}:{FOREIGN_ACCOUNT}:log-group:x:log-stream:y"),
    "monitoring": ("cloudwatch:PutMetricData", "*"),
    "ecr.api": ("ecr:BatchGetImage", f"arn:aws:ecr:{REGION}:{FOREIGN_ACCOUNT}:repository/x"),
    "ecr.dkr": ("ecr:GetDownloadUrlForLayer", f"arn:aws:ecr:{REGION}:{FOREIGN_ACCOUNT}:repository/x"),
    "kms": ("kms:Encrypt", f"arn:aws:kms:{REGION}:{FOREIGN_ACCOUNT}:key/x"),
}


@pytest.mark.parametrize("service", ENDPOINT_CALLS)
def test_another_accounts_principal_cannot_use_our_endpoints(access: Access, service: str) -> None:
    if service not in access.p.endpoint_policies:
        pytest.skip(f"no {service} endpoint in this configuration")
    action, resource = ENDPOINT_CALLS[service]
    owner = FOREIGN_ACCOUNT if resource != "*" else None
    decision = access.through_endpoint(service, foreign_principal(), action, resource, owner)
    denied(decision, f"{FOREIGN_ACCOUNT} principal {action} through the {service} endpoint")


@pytest.mark.parametrize("who", [*BUILDERS, "pipeline"])
def test_our_roles_cannot_reach_another_accounts_bucket(access: Access, who: str) -> None:
    """Data exfiltration: a bucket in another account that allows our role is still out of reach."""
    role = principal_role(access, who)
    decision = access.through_endpoint(
        "s3", role.principal, "s3:PutObject", "arn:aws:s3:::attacker-exfil/x", FOREIGN_ACCOUNT
    )
    denied(decision, f"{who} writes to a bucket of {FOREIGN_ACCOUNT} through the S3 endpoint")


def _alerts(access: Access) -> tuple[str, str, str]:
    """(topic ARN, its key ARN, the ARN of a rule of this account targeting the topic)."""
    part = "monitoring"
    topic_id = access.p.logical_id(part, "AWS::SNS::Topic", "AlertsTopic")
    topic = access.p.ref(part, topic_id)
    key = str(
        access.p.resolve(
            part,
            access.p.templates[access.p.stack(part)]["Resources"][topic_id]["Properties"]["KmsMasterKeyId"],
        )
    )
    rules = [
        access.p.arn(part, lid)
        for lid, rule in access.p.resources(part, "AWS::Events::Rule")
        if topic in [access.p.resolve(part, t["Arn"]) for t in rule["Properties"].get("Targets", [])]
    ]
    assert rules, "no EventBridge rule targets the alert topic"
    return topic, key, rules[0]


@pytest.mark.parametrize("source", ["this-account", "other-account"])
def test_eventbridge_publishes_alerts_only_for_our_rules(access: Access, source: str) -> None:
    """Confused deputy: EventBridge acting for another account's rule may neither publish to the
    alert topic nor use the alert key (here for that account's own topic, as SNS would ask KMS
    when a foreign topic names our key); for this account's rules and topic both work."""
    topic, key, our_rule = _alerts(access)
    if source == "this-account":
        account, rule, their_topic, expect = ACCOUNT, our_rule, topic, allowed
    else:
        account, rule, expect = (
            FOREIGN_ACCOUNT,
            f"arn:aws:events:{REGION}:{FOREIGN_ACCOUNT}:rule/spam",
            denied,
        )
        their_topic = f"arn:aws:sns:{REGION}:{FOREIGN_ACCOUNT}:spam"
    events = Principal.aws_service("events.amazonaws.com")
    deputy = {"aws:SourceAccount": account, "aws:SourceArn": rule}
    expect(
        access.topic_publish(events, topic, deputy),
        f"events.amazonaws.com for {rule} publishes to the alert topic",
    )
    kms_context = {**deputy, "kms:EncryptionContext:aws:sns:topicArn": their_topic}
    decision = access.kms(events, "kms:GenerateDataKey", key, via="sns", context=kms_context)
    expect(decision, f"events.amazonaws.com for {rule} encrypts for {their_topic} with the alert key")
