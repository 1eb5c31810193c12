"""Attack cases of the batch scoring pipeline (issue 16), decided against the synthesized policies.

Who holds what: the pipeline's role (``BatchScoreRole``: it runs ScoreReport, creates the run's
model, which also runs as it, and the Transform job), ResolveModel's function role, and the three
personas. Each request is evaluated by ``policy_eval`` against the identity policies of the asker and
the bucket, key and VPC endpoint policies on its path, as in ``test_attack_cases.py`` (same session
fixture, the default environment, whose ``batch`` is enabled). Every denial sits next to the
request that must still be allowed.

Condition keys of ``CreateModel`` / ``CreateTransformJob``: ``sagemaker_keys.py`` (the Service
Authorization Reference). A Transform job carries no VPC or network key: the model it runs does,
so "no VPC" and "no network isolation" are decided at ``CreateModel``; where the job writes is
decided by the S3 permissions of the model's role (the batch role), not by a condition key.
"""

from __future__ import annotations

from typing import Any

import pytest
from access import FOREIGN_KEY, Access
from platform_policies import Role
from policy_eval import Decision
from sagemaker_keys import job_context

from contracts.names import batch_pipeline_name, training_pipeline_name

PERSONAS = ("data_scientist", "ml_engineer", "approver")
ACTIONS = {
    "Model": "sagemaker:CreateModel",
    "Transform": "sagemaker:CreateTransformJob",
    "Processing": "sagemaker:CreateProcessingJob",
}
FOREIGN_SUBNET = "subnet-0attacker000000001"


def denied(decision: Decision, what: str) -> None:
    assert not decision, f"{what} must be DENIED, but is allowed: {decision.reason}"


def allowed(decision: Decision, what: str) -> None:
    assert decision, f"{what} must be ALLOWED, but is denied: {decision.reason}"


def batch_role(access: Access) -> Role:
    return access.p.role("pipeline", "BatchScoreRole")


def resolver_role(access: Access) -> Role:
    return access.p.role("pipeline", "BatchScoreResolveModelRole")


def _resolved(value: Any, defaults: dict[str, Any]) -> Any:
    """``value`` with parameters at their defaults and other step references as placeholders."""
    if isinstance(value, list):
        return [_resolved(v, defaults) for v in value]
    if isinstance(value, dict):
        if set(value) == {"Get"}:
            ref = str(value["Get"])
            if ref.startswith("Parameters."):
                return defaults[ref.removeprefix("Parameters.")]
            if ref == "Steps.CreateModel.ModelName":
                return "pipelines-0abc123def45-CreateModel-a1b2c3d4e5"
            return f"<{ref}>"
        return {k: _resolved(v, defaults) for k, v in value.items()}
    return value


def _steps(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for step in steps:
        if step["Type"] in ACTIONS:
            out.append(step)
        if step["Type"] == "Condition":
            out += _steps(step["Arguments"].get("IfSteps", []) + step["Arguments"].get("ElseSteps", []))
    return out


@pytest.fixture(scope="module")
def batch_steps(access: Access) -> dict[str, dict[str, Any]]:
    """The batch pipeline's Model, Transform and Processing requests as Pipelines sends them, by type."""
    definitions = {k: v for k, v in access.p.pipeline_definitions().items() if k.startswith("pipeline/Batch")}
    assert len(definitions) == 1, f"expected the batch pipeline in the pipeline stack: {sorted(definitions)}"
    (definition,) = definitions.values()
    defaults = {p["Name"]: p.get("DefaultValue") for p in definition.get("Parameters", [])}
    steps = {s["Type"]: _resolved(s["Arguments"], defaults) for s in _steps(definition["Steps"])}
    assert set(steps) == set(ACTIONS), f"the batch pipeline's job steps: {sorted(steps)}"
    return steps


def _create(access: Access, kind: str, request: dict[str, Any]) -> Decision:
    """The step's Create call, made by SageMaker Pipelines with the batch role, and its PassRole."""
    role = batch_role(access)
    resource = {
        "Model": "model/pipelines-0abc123def45-createmodel-a1b2c3d4e5",
        "Transform": "transform-job/pipelines-0abc123def45-score-a1b2c3d4e5",
        "Processing": "processing-job/pipelines-0abc123def45-scorereport-a1b2c3d4e5",
    }[kind]
    decision = access.by_service(role, ACTIONS[kind], resource, job_context(ACTIONS[kind], request))
    passed = request.get("ExecutionRoleArn") or request.get("RoleArn")
    if not decision or passed is None:
        return decision
    pass_role = access.pass_role(role, access.p.roles[str(passed)])
    return pass_role if not pass_role else decision


def test_every_job_the_batch_pipeline_creates_is_allowed(
    access: Access, batch_steps: dict[str, dict[str, Any]]
) -> None:
    assert batch_steps["Model"]["ExecutionRoleArn"] == batch_role(access).arn
    assert batch_steps["Processing"]["RoleArn"] == batch_role(access).arn
    for kind, request in batch_steps.items():
        allowed(_create(access, kind, request), f"the batch pipeline's {kind} step ({ACTIONS[kind]})")


def _set(request: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of ``request`` with ``path`` (dotted) set to ``value`` (None: removed)."""
    out: dict[str, Any] = {**request}
    node = out
    *parents, last = path.split(".")
    for part in parents:
        node[part] = dict(node[part])
        node = node[part]
    if value is None:
        node.pop(last, None)
    else:
        node[last] = value
    return out


#: (step, path, value): a variant of the pipeline's own request that leaves the boundary.
OUTSIDE = {
    "model-without-network-isolation": ("Model", "EnableNetworkIsolation", False),
    "model-without-vpc": ("Model", "VpcConfig", None),
    "model-in-a-foreign-subnet": ("Model", "VpcConfig.Subnets", [FOREIGN_SUBNET]),
    "model-with-a-foreign-security-group": ("Model", "VpcConfig.SecurityGroupIds", ["sg-0attacker0000001"]),
    "transform-volume-foreign-key": ("Transform", "TransformResources.VolumeKmsKeyId", FOREIGN_KEY),
    "transform-volume-without-key": ("Transform", "TransformResources.VolumeKmsKeyId", None),
    "transform-output-foreign-key": ("Transform", "TransformOutput.KmsKeyId", FOREIGN_KEY),
    "transform-output-without-key": ("Transform", "TransformOutput.KmsKeyId", None),
    "transform-instance-not-allowed": ("Transform", "TransformResources.InstanceType", "ml.p4d.24xlarge"),
    "report-without-network-isolation": ("Processing", "NetworkConfig.EnableNetworkIsolation", False),
    "report-volume-foreign-key": (
        "Processing",
        "ProcessingResources.ClusterConfig.VolumeKmsKeyId",
        FOREIGN_KEY,
    ),
    "report-output-foreign-key": ("Processing", "ProcessingOutputConfig.KmsKeyId", FOREIGN_KEY),
    "report-without-vpc": ("Processing", "NetworkConfig.VpcConfig", None),
    "report-in-a-foreign-subnet": ("Processing", "NetworkConfig.VpcConfig.Subnets", [FOREIGN_SUBNET]),
    "report-instance-not-allowed": (
        "Processing",
        "ProcessingResources.ClusterConfig.InstanceType",
        "ml.p4d.24xlarge",
    ),
}


@pytest.mark.parametrize("variant", OUTSIDE)
def test_batch_job_outside_the_boundary_is_denied(
    access: Access, batch_steps: dict[str, dict[str, Any]], variant: str
) -> None:
    kind, path, value = OUTSIDE[variant]
    request = _set(batch_steps[kind], path, value)
    denied(_create(access, kind, request), f"batch role {ACTIONS[kind]} {variant}")


def test_the_transform_output_goes_to_batch_scores_only(access: Access) -> None:
    """The job writes as the model's role (the batch role): its S3 grants are the output boundary."""
    role, bucket = batch_role(access), access.artifact_bucket
    ok = "batch-scores/exec-1/predictions/batch/input.csv.out"
    allowed(access.s3_object(role, "s3:PutObject", bucket, ok), f"batch role writes {ok}")
    for key in (
        "pipeline-runs/exec-1/train/output/model.tar.gz",
        "data/raw/x.csv",
        "workspace/data_scientist/x.csv",
        f"data-capture/{access.prefix}-prod/AllTraffic/2025/01/01/00/x.jsonl",
        f"async-inference/{access.prefix}-prod/output/x.out",
        "drift-checks/exec-1/report/metrics.json",
    ):
        denied(access.s3(role, "s3:PutObject", bucket, key), f"batch role writes {key}")
    assert access.delivery_bucket is not None
    denied(
        access.s3(role, "s3:PutObject", access.delivery_bucket, f"source/{access.prefix}.zip"),
        "batch role writes the build source",
    )
    denied(
        access.s3(role, "s3:GetObject", bucket, f"data-capture/{access.prefix}-prod/AllTraffic/x.jsonl"),
        "batch role reads prod's captured traffic",
    )
    # it lists what its inputs are read from (the scored data, the version's baseline), nothing else
    for prefix, may in (("data/batch/", True), ("pipeline-runs/exec-1/", True), ("batch-scores/", True),
                        ("pipeline-intermediates/exec-1/", False), ("data-capture/", False)):  # fmt: skip
        decision = access.s3(role, "s3:ListBucket", bucket, context={"s3:prefix": prefix})
        (allowed if may else denied)(decision, f"batch role lists {prefix}")


def test_the_batch_role_cannot_register_approve_or_list_versions(access: Access) -> None:
    role = batch_role(access)
    version = f"model-package/{access.group}/4"
    for status in ("Approved", "PendingManualApproval"):
        context = {"sagemaker:ModelApprovalStatus": status}
        denied(
            access.by_service(role, "sagemaker:CreateModelPackage", version, context), f"registers {status}"
        )
        denied(access.by_service(role, "sagemaker:UpdateModelPackage", version, context), f"sets {status}")
    denied(access.by_service(role, "sagemaker:ListModelPackages", "*"), "batch role lists versions")
    # CreateModel from a package reads it: describing its own group's versions is what it keeps
    allowed(
        access.by_service(role, "sagemaker:DescribeModelPackage", version), "batch role describes a version"
    )


def test_resolve_model_reaches_its_groups_versions_and_nothing_else_of_note(access: Access) -> None:
    role = resolver_role(access)
    version = f"model-package/{access.group}/4"
    allowed(
        access.by_service(role, "sagemaker:DescribeModelPackage", version), "describes its group's version"
    )
    # ListModelPackages has no resource-level permissions: the function names its group
    allowed(access.by_service(role, "sagemaker:ListModelPackages", "*"), "lists versions")
    for other in (f"model-package/{access.prefix}-fraud-models/1", "model-package/someone-elses-models/1"):
        denied(access.by_service(role, "sagemaker:DescribeModelPackage", other), f"describes {other}")
    for action, resource in (
        ("sagemaker:UpdateModelPackage", version),
        ("sagemaker:CreateModelPackage", version),
        ("sagemaker:CreateModel", "model/x"),
        ("sagemaker:CreateTransformJob", "transform-job/x"),
        ("sagemaker:StartPipelineExecution", f"pipeline/{batch_pipeline_name(access.prefix)}"),
        ("sagemaker:InvokeEndpoint", f"endpoint/{access.prefix}-prod"),
    ):
        denied(access.by_service(role, action, resource), f"ResolveModel's role {action} {resource}")
    for key in ("pipeline-runs/exec-1/train/output/model.tar.gz", "data/raw/x.csv", "batch-scores/e/x.out"):
        denied(access.s3(role, "s3:GetObject", access.artifact_bucket, key, in_vpc=False), f"reads {key}")
    denied(access.pass_role(role, batch_role(access)), "ResolveModel's role passes the batch role")


@pytest.mark.parametrize("persona", PERSONAS)
def test_personas_cannot_write_batch_scores(access: Access, persona: str) -> None:
    """The manifest names the version that scored: a persona must not forge a run's results."""
    key = "batch-scores/exec-1/predictions/batch/input.csv.out"
    for action in ("s3:PutObject", "s3:DeleteObject"):
        denied(
            access.s3(access.persona(persona), action, access.artifact_bucket, key),
            f"{persona} {action} {key}",
        )


@pytest.mark.parametrize("persona", PERSONAS)
def test_personas_cannot_run_batch_scoring_or_its_parts(access: Access, persona: str) -> None:
    """Starting the batch pipeline is for its schedule and ``make score`` (an operator), as the drift
    check's; its role, resolver and Transform jobs are not the personas' to use."""
    pipeline = batch_pipeline_name(access.prefix)
    for action, resource in (
        ("sagemaker:StartPipelineExecution", f"pipeline/{pipeline}"),
        ("sagemaker:CreateTransformJob", f"transform-job/{access.prefix}-adhoc-1"),
        ("sagemaker:CreateTransformJob", "transform-job/pipelines-0abc-score-a1b2"),
    ):
        denied(access.from_studio(persona, action, resource), f"{persona} {action} {resource}")
    denied(access.pass_role(access.persona(persona), batch_role(access)), f"{persona} passes the batch role")
    if persona != "approver":  # the contrast: builders do start training
        allowed(
            access.from_studio(
                persona,
                "sagemaker:StartPipelineExecution",
                f"pipeline/{training_pipeline_name(access.prefix)}",
            ),
            f"{persona} starts the training pipeline",
        )
