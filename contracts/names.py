"""Every resource name derived from the ``<project>-<env>`` prefix, in one place (standard library only).

Stacks, the release tools, the offline demo and the Lambda functions import these (the functions'
asset carries this file, see :mod:`stacks.monitoring.functions`); no other file spells a name
suffix, and ``tests/unit/test_names_single_home.py`` looks. A name changed here is a new resource
on the next deploy, so a rename is a migration, not a refactor.

=================================== ===============================================================
name                                what
=================================== ===============================================================
``<prefix>-<part>``                 the stacks (:data:`STACK_PARTS`); ``<prefix>-endpoint-<stage>``
``<prefix>-models``                 the model package group
``<prefix>-training``               the training pipeline (built by the build, started by drift)
``<prefix>-drift-check``            the drift-check pipeline
``<prefix>-batch-score``            the batch scoring pipeline (``batch.enabled``) and its schedule
``<prefix>-build``                  the build CodePipeline and its CodeBuild project
``<prefix>-deploy``                 the deploy CodePipeline; ``<prefix>-deploy-<stage>`` its builds
``<prefix>-alerts``                 the alert topic
``<prefix>-monthly-cost``           the spend budget
``<prefix>-retrain``                the retraining schedule
``<prefix>-studio``                 the Studio domain
``<prefix>-mlflow``                 the MLflow tracking server (``tracking.enabled``)
``<prefix>-<part>-dlq``             a stack's dead-letter queue
``<prefix>-<stage>``                a stage's endpoint (:func:`endpoint_name`)
``<endpoint>-drift``                its drift alarm
``<endpoint>-drift-check``          its drift-check schedule; ``<endpoint>-drift-dlq`` its DLQ
``<endpoint>-v<N>-<8 hex>``         the model and endpoint config serving version N
``<prefix>-<stage>-<part>``         a stage's stacks in its own account: base, network, monitoring
``<prefix>-<stage>-{model,smoke}``  its model role and smoke-test role there
``<prefix>-<stage>-drift{,-check}`` its drift check's role and pipeline there
``<prefix>-<stage>-deploy``         the tooling account's deploy role for that stage
``<prefix>-stage-events``           the tooling account's bus the stage accounts' alarms go to
=================================== ===============================================================

Why the model and endpoint config names carry a fingerprint: almost every property of an
``AWS::SageMaker::Model`` (containers, execution role, VPC config, isolation) and of an
``AWS::SageMaker::EndpointConfig`` (production variants, data capture, KMS key) is create-only:
changing one makes CloudFormation *replace* the resource, and CloudFormation refuses to replace a
resource with a fixed custom name. With names ``<endpoint>-v<N>`` a changed instance type,
instance count, capture percentage, serverless memory or subnet for an already-deployed version
failed at deploy. The hex is the start of a sha256 of a canonical JSON of exactly the resource's
create-only properties (plus the endpoint and version), so any such change is a new name:
CloudFormation creates the new model/config, updates the endpoint to it (blue/green, with the
stage's rollback alarms) and deletes the old one; an unrelated change (an alarm threshold, the
autoscaling bounds, tags) keeps the name and replaces nothing.

Why not let CloudFormation generate them: the stage prefix is a trust boundary. Stage models and
configs are named ``<prefix>-<stage>...``, which is what the persona policies keep people away
from (they may only touch ``<prefix>-sandbox-*``); generated names would fall outside it and
would not say which version a config serves. The fingerprint is deterministic (no clock, no
randomness). What synth cannot know (ARNs and IDs resolved at deploy) is hashed as the construct
path it comes from (:mod:`stacks.endpoint.create_only`); a value that changes at deploy while its
path stays the same is not seen, and that deploy fails as before.
"""
# Longer than 250 lines: the one home of every resource name, as issue 12 asked (a test looks).

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Final, Literal, get_args

#: The stacks besides the endpoint stages, ``<prefix>-<part>``.
StackPart = Literal["data", "network", "studio", "pipeline", "monitoring", "delivery"]
STACK_PARTS: Final[tuple[StackPart, ...]] = get_args(StackPart)
#: The pseudo-stage of ad-hoc work: personas may create ``<prefix>-sandbox-*`` models and endpoints.
SANDBOX: Final = "sandbox"

#: Suffixes after the prefix (``<prefix><suffix>``), or after an endpoint name (``DRIFT_*``).
#: Public for code that finds a resource by suffix (the offline demo picks pipelines so).
ENDPOINT_STACK_SUFFIX: Final = "-endpoint-"
MODELS_SUFFIX: Final = "-models"
TRAINING_SUFFIX: Final = "-training"
DRIFT_CHECK_SUFFIX: Final = "-drift-check"
BATCH_SCORE_SUFFIX: Final = "-batch-score"
BUILD_SUFFIX: Final = "-build"
DEPLOY_SUFFIX: Final = "-deploy"
ALERTS_SUFFIX: Final = "-alerts"
BUDGET_SUFFIX: Final = "-monthly-cost"
RETRAIN_SUFFIX: Final = "-retrain"
STUDIO_SUFFIX: Final = "-studio"
MLFLOW_SUFFIX: Final = "-mlflow"
DLQ_SUFFIX: Final = "-dlq"
DRIFT_ALARM_SUFFIX: Final = "-drift"
STAGE_EVENTS_SUFFIX: Final = "-stage-events"
#: Every suffix above and each ``-<part>`` of :data:`STACK_PARTS`: spelled nowhere else.
SUFFIXES: Final[tuple[str, ...]] = (
    ENDPOINT_STACK_SUFFIX, MODELS_SUFFIX, TRAINING_SUFFIX, DRIFT_CHECK_SUFFIX, BATCH_SCORE_SUFFIX,
    BUILD_SUFFIX, DEPLOY_SUFFIX, ALERTS_SUFFIX, BUDGET_SUFFIX, RETRAIN_SUFFIX, STUDIO_SUFFIX, MLFLOW_SUFFIX,
    DLQ_SUFFIX, DRIFT_ALARM_SUFFIX, STAGE_EVENTS_SUFFIX, *(f"-{part}" for part in STACK_PARTS),
)  # fmt: skip

#: SageMaker's limit for EndpointName, ModelName and EndpointConfigName.
SAGEMAKER_NAME_MAX: Final = 63
#: SageMaker's pattern for those names (botocore's service model).
SAGEMAKER_NAME_RE: Final = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
#: Hex characters of the fingerprint: 32 bits, plenty for the few configs one version ever has.
FINGERPRINT_CHARS: Final = 8


class ResourceNameError(ValueError):
    """A derived name breaks its service's rules; the message names the config keys to change."""


def stack_name(prefix: str, part: StackPart) -> str:
    """``<prefix>-<part>``: a stack's fixed name (``cdk deploy`` always targets the same stack)."""
    return f"{prefix}-{part}"


def endpoint_stack_name(prefix: str, stage: str) -> str:
    """``<prefix>-endpoint-<stage>``: the stack a release deploys to ship a version to ``stage``."""
    return f"{prefix}{ENDPOINT_STACK_SUFFIX}{stage}"


def model_package_group_name(prefix: str) -> str:
    """``<prefix>-models``: the Model Registry group every version is registered in."""
    return f"{prefix}{MODELS_SUFFIX}"


def training_pipeline_name(prefix: str) -> str:
    """``<prefix>-training``: the SageMaker pipeline the build upserts and personas may start."""
    return f"{prefix}{TRAINING_SUFFIX}"


def drift_pipeline_name(prefix: str) -> str:
    """``<prefix>-drift-check``: the SageMaker pipeline every stage's drift schedule starts."""
    return f"{prefix}{DRIFT_CHECK_SUFFIX}"


def batch_pipeline_name(prefix: str) -> str:
    """``<prefix>-batch-score``: the batch scoring pipeline (and the schedule that starts it)."""
    return f"{prefix}{BATCH_SCORE_SUFFIX}"


def build_pipeline_name(prefix: str) -> str:
    """``<prefix>-build``: the push-to-train CodePipeline, and its CodeBuild project."""
    return f"{prefix}{BUILD_SUFFIX}"


def deploy_pipeline_name(prefix: str) -> str:
    """``<prefix>-deploy``: the approve-to-deploy CodePipeline."""
    return f"{prefix}{DEPLOY_SUFFIX}"


def deploy_project_name(prefix: str, stage: str) -> str:
    """``<prefix>-deploy-<stage>``: the deploy pipeline's CodeBuild project for ``stage``."""
    return f"{deploy_pipeline_name(prefix)}-{stage}"


def alert_topic_name(prefix: str) -> str:
    """``<prefix>-alerts``: the SNS topic every alarm, failure and approval request goes to."""
    return f"{prefix}{ALERTS_SUFFIX}"


def budget_name(prefix: str) -> str:
    """``<prefix>-monthly-cost``: the environment's spend budget."""
    return f"{prefix}{BUDGET_SUFFIX}"


def retrain_schedule_name(prefix: str) -> str:
    """``<prefix>-retrain``: the optional schedule that starts the training pipeline."""
    return f"{prefix}{RETRAIN_SUFFIX}"


def studio_domain_name(prefix: str) -> str:
    """``<prefix>-studio``: the SageMaker Studio domain (its stack has the same name)."""
    return f"{prefix}{STUDIO_SUFFIX}"


def tracking_server_name(prefix: str) -> str:
    """``<prefix>-mlflow``: the environment's MLflow tracking server (its ARN ends in this name)."""
    return f"{prefix}{MLFLOW_SUFFIX}"


def dead_letter_queue_name(prefix: str, part: StackPart) -> str:
    """``<prefix>-<part>-dlq``: the dead-letter queue of the ``part`` stack."""
    return f"{stack_name(prefix, part)}{DLQ_SUFFIX}"


def key_alias(prefix: str) -> str:
    """``alias/<prefix>``: the data key's alias."""
    return f"alias/{prefix}"


def sandbox_pattern(prefix: str) -> str:
    """``<prefix>-sandbox-*``: the only model/endpoint names a persona may create."""
    return f"{prefix}-{SANDBOX}-*"


def endpoint_name(prefix: str, stage: str) -> str:
    """``<prefix>-<stage>``: the endpoint's fixed name (dashboards, alarms and tools use it).

    Raises:
        ResourceNameError: the name is longer than SageMaker allows (a 32-character project name
            leaves the environment name 22 characters for ``staging``); the message names the keys.
    """
    name = f"{prefix}-{stage}"
    if len(name) > SAGEMAKER_NAME_MAX or not SAGEMAKER_NAME_RE.match(name):
        raise ResourceNameError(
            f"context keys 'project.name' and 'env': endpoint name {name!r} has {len(name)} "
            f"characters; SageMaker allows at most {SAGEMAKER_NAME_MAX}: shorten the project or "
            "the environment name"
        )
    return name


def stage_model_role_name(prefix: str, stage: str) -> str:
    """``<prefix>-<stage>-model``: a cross-account stage's model role (tooling policies name it)."""
    return f"{prefix}-{stage}-model"


def stage_smoke_role_name(prefix: str, stage: str) -> str:
    """``<prefix>-<stage>-smoke``: in a stage account, may only invoke that stage's endpoint."""
    return f"{prefix}-{stage}-smoke"


def stage_drift_role_name(prefix: str, stage: str) -> str:
    """``<prefix>-<stage>-drift``: a cross-account stage's drift check role (tooling policies name it)."""
    return f"{prefix}-{stage}{DRIFT_ALARM_SUFFIX}"


def stage_drift_pipeline_name(prefix: str, stage: str) -> str:
    """``<prefix>-<stage>-drift-check``: the drift-check pipeline in a cross-account stage's account."""
    return f"{prefix}-{stage}{DRIFT_CHECK_SUFFIX}"


def stage_events_bus_name(prefix: str) -> str:
    """``<prefix>-stage-events``: the tooling account's bus stage accounts send their alarms to."""
    return f"{prefix}{STAGE_EVENTS_SUFFIX}"


def stage_dead_letter_queue_name(prefix: str, stage: str) -> str:
    """``<prefix>-<stage>-base-dlq``: the dead-letter queue of a stage's base stack (its account)."""
    return f"{stage_stack_name(prefix, stage, 'base')}{DLQ_SUFFIX}"


def deploy_role_name(prefix: str, stage: str) -> str:
    """``<prefix>-<stage>-deploy``: a cross-account stage's deploy role (its smoke role trusts it)."""
    return f"{prefix}-{stage}-deploy"


#: The stacks in a stage's own account, ``<prefix>-<stage>-<part>``.
StageStackPart = Literal["base", "network", "monitoring"]


def stage_stack_name(prefix: str, stage: str, part: StageStackPart) -> str:
    """``<prefix>-<stage>-<part>``: a stack in a stage's own account."""
    return f"{prefix}-{stage}-{part}"


#: The CDK bootstrap roles a deploy from the tooling account assumes (``cdk bootstrap --trust``).
BOOTSTRAP_ROLES: Final = ("deploy-role", "file-publishing-role")


def bootstrap_role_name(qualifier: str, role: str, account: str, region: str) -> str:
    """``cdk-<qualifier>-<role>-<account>-<region>``: a role ``cdk bootstrap`` creates."""
    return f"cdk-{qualifier}-{role}-{account}-{region}"


def drift_alarm_name(endpoint: str) -> str:
    """``<endpoint>-drift``: the alarm on the endpoint's drift-check violations."""
    return f"{endpoint}{DRIFT_ALARM_SUFFIX}"


def drift_schedule_name(endpoint: str) -> str:
    """``<endpoint>-drift-check``: the schedule that runs the drift check over the endpoint's capture."""
    return f"{endpoint}{DRIFT_CHECK_SUFFIX}"


def drift_dead_letter_queue_name(endpoint: str) -> str:
    """``<endpoint>-drift-dlq``: where the drift schedule's undeliverable starts wait."""
    return f"{endpoint}{DRIFT_ALARM_SUFFIX}{DLQ_SUFFIX}"


def fingerprint(create_only: Mapping[str, object]) -> str:
    """The first :data:`FINGERPRINT_CHARS` hex of the sha256 of ``create_only`` as canonical JSON.

    Raises:
        TypeError: a value is not JSON (an unresolved CDK object slipped in).
    """
    canonical = json.dumps(create_only, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:FINGERPRINT_CHARS]


def versioned_name(endpoint: str, version: int, create_only: Mapping[str, object]) -> str:
    """``<endpoint>-v<version>-<fingerprint>``: the model or endpoint config serving ``version``.

    The fingerprint covers the endpoint, the version and ``create_only`` (the resource's
    create-only properties as known at synth). When the whole name would exceed
    :data:`SAGEMAKER_NAME_MAX`, the endpoint part is shortened; the fingerprint still covers
    the full endpoint name, so two stages never share a name.

    Raises:
        ValueError: no room is left for the endpoint part, or the name is not a SageMaker name.
    """
    digest = fingerprint({"endpoint": endpoint, "version": version, "properties": create_only})
    suffix = f"-v{version}-{digest}"
    stem = endpoint[: max(0, SAGEMAKER_NAME_MAX - len(suffix))].rstrip("-")
    name = f"{stem}{suffix}"
    if not stem or len(name) > SAGEMAKER_NAME_MAX or not SAGEMAKER_NAME_RE.match(name):
        raise ValueError(f"cannot name version {version} of endpoint {endpoint!r} within SageMaker's rules")
    return name
