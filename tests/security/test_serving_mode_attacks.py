"""Attack cases of the serving modes of issue 16: asynchronous endpoints and the Shadow build.

The Shadow build (the deploy pipeline's build between Staging and the manual gate) is in the
default environment (``endpoints.prod.shadow``): the session ``access`` fixture. Asynchronous
inference is not: ``async_access`` synthesizes the default environment once more with staging
served asynchronously (instances, not serverless), module-scoped.

Decided here (what personas may read): an async endpoint's ``input/``, ``output/`` and
``failures/`` hold live payloads and the model's answers to them, the same class of data as
captured traffic, which no persona reads (``test_persona_cannot_read_captured_traffic``); the
personas' S3 grants (``stacks/studio/persona_roles.py``) name ``data/``, ``pipeline-runs/``,
``drift-checks/``, intermediates and their own workspace only, so async folders stay closed to them.
"""

from __future__ import annotations

from typing import Any

import pytest
from access import ADMIN, Access
from platform_policies import ACCOUNT, PlatformPolicies, Role
from platform_synth import synth_platform
from policy_eval import Decision, Principal, Request, authorize

PERSONAS = ("data_scientist", "ml_engineer", "approver")
SMOKE_SAMPLES = "pipeline-runs/exec-1/preprocess/test/smoke-samples.json"


def denied(decision: Decision, what: str) -> None:
    assert not decision, f"{what} must be DENIED, but is allowed: {decision.reason}"


def allowed(decision: Decision, what: str) -> None:
    assert decision, f"{what} must be ALLOWED, but is denied: {decision.reason}"


# ====================================================================== the Shadow build


def shadow_build(access: Access) -> Role:
    return access.project_role("DeployShadow")


@pytest.mark.parametrize("stage", ["prod", "staging"])
def test_the_shadow_build_invokes_no_endpoint(access: Access, stage: str) -> None:
    """Its traffic is prod's live traffic: it never sends any of its own, nor smoke-tests."""
    endpoint = f"endpoint/{access.prefix}-{stage}"
    for action in ("sagemaker:InvokeEndpoint", "sagemaker:InvokeEndpointAsync"):
        denied(access.by_service(shadow_build(access), action, endpoint), f"Shadow build {action} {endpoint}")
    denied(
        access.s3(shadow_build(access), "s3:GetObject", access.artifact_bucket, SMOKE_SAMPLES, in_vpc=False),
        "Shadow build reads the smoke samples",
    )


def test_the_shadow_build_cannot_approve_or_register(access: Access) -> None:
    version = f"model-package/{access.group}/4"
    for action in ("sagemaker:UpdateModelPackage", "sagemaker:CreateModelPackage"):
        decision = access.by_service(
            shadow_build(access), action, version, {"sagemaker:ModelApprovalStatus": "Approved"}
        )
        denied(decision, f"Shadow build {action} Approved")


def test_the_shadow_build_reads_prods_capture_only(access: Access) -> None:
    role, bucket = shadow_build(access), access.artifact_bucket
    prod = f"data-capture/{access.prefix}-prod"
    for variant in ("AllTraffic", "Shadow"):
        key = f"{prod}/{variant}/2025/01/01/00/capture.jsonl"
        allowed(
            access.s3_object(role, "s3:GetObject", bucket, key, in_vpc=False), f"Shadow build reads {key}"
        )
    for key in (
        f"data-capture/{access.prefix}-staging/AllTraffic/2025/01/01/00/capture.jsonl",
        f"data-capture/{access.prefix}-prod-sandbox/AllTraffic/x.jsonl",
        "data/raw/x.csv",
        "pipeline-runs/exec-1/train/output/model.tar.gz",
        "batch-scores/exec-1/manifest.json",
        f"async-inference/{access.prefix}-prod/output/x.out",
        "workspace/data_scientist/x.csv",
    ):
        denied(access.s3(role, "s3:GetObject", bucket, key, in_vpc=False), f"Shadow build reads {key}")
    denied(
        access.s3(role, "s3:PutObject", bucket, f"{prod}/AllTraffic/x.jsonl", in_vpc=False), "writes capture"
    )


# ====================================================================== asynchronous inference


def _async_staging(context: dict[str, Any]) -> None:
    staging = context["environments"][context["env"]]["endpoints"]["staging"]
    staging.pop("serverless", None)
    staging["async"] = {}


@pytest.fixture(scope="module")
def async_access(tmp_path_factory: pytest.TempPathFactory) -> Access:
    """The default environment with an async staging endpoint, synthesized once for this module."""
    synthesized = synth_platform(tmp_path_factory.mktemp("security-async"), edit=_async_staging)
    platform = PlatformPolicies.load(synthesized.outdir, synthesized.config.prefix)
    return Access(platform, synthesized.config)


def _topics(a: Access) -> list[str]:
    topics = [a.p.ref("endpoint-staging", lid) for _, lid, _ in a.p.all_resources("AWS::SNS::Topic")
              if lid.startswith("AsyncTopics")]  # fmt: skip
    assert len(topics) == 2, f"an async stage has a success and an error topic: {topics}"
    return topics


def _publish(a: Access, who: Role | Principal, topic: str, identity: Any = None) -> Decision:
    """``who`` publishes with its own policies, or with ``identity`` when given."""
    principal = who.principal if isinstance(who, Role) else who
    policies = identity if identity is not None else (who.policies if isinstance(who, Role) else [])
    request = Request(principal, "sns:Publish", topic, {"aws:SecureTransport": True})
    return authorize(request, identity=policies, resource=a.p.topic_policies.get(topic, []))


def test_only_the_model_role_publishes_to_the_async_topics(async_access: Access) -> None:
    a = async_access
    model = a.endpoint_model_role("staging")
    admin = Principal.role(f"arn:aws:iam::{ACCOUNT}:role/an-account-admin")
    others: list[tuple[str, Role | Principal]] = [
        *((persona, a.persona(persona)) for persona in PERSONAS),
        ("prod model role", a.endpoint_model_role("prod")),
        ("training pipeline", a.pipeline_role),
        ("batch role", a.p.role("pipeline", "BatchScoreRole")),
        ("DeployStaging build", a.project_role("DeployStaging")),
        ("account admin", admin),
    ]
    for topic in _topics(a):
        allowed(_publish(a, model, topic), f"the staging model role publishes to {topic}")
        for name, who in others:  # the topic policy's Deny holds even against Action "*"
            denied(_publish(a, who, topic, identity=[ADMIN]), f"{name} (with an admin policy) publishes")
            if isinstance(who, Role):
                denied(_publish(a, who, topic), f"{name} publishes to {topic}")


def test_the_model_role_reaches_its_own_async_folders_only(async_access: Access) -> None:
    a = async_access
    role, bucket = a.endpoint_model_role("staging"), a.artifact_bucket
    mine = f"async-inference/{a.prefix}-staging"
    allowed(a.s3_object(role, "s3:GetObject", bucket, f"{mine}/input/req-1"), "reads its queued request")
    for folder in ("output", "failures"):
        key = f"{mine}/{folder}/inf-1.out"
        allowed(a.s3_object(role, "s3:PutObject", bucket, key), f"writes {key}")
    for other in (f"{a.prefix}-prod", f"{a.prefix}-staging-x", f"{a.prefix}-fraud-staging"):
        key = f"async-inference/{other}/input/req-1"
        denied(a.s3(role, "s3:GetObject", bucket, key), f"staging model reads {key}")
        denied(a.s3(role, "s3:PutObject", bucket, f"async-inference/{other}/output/x.out"), f"writes {other}")
    # nor forge requests, nor read what it answered before (the callers' to read)
    denied(a.s3(role, "s3:PutObject", bucket, f"{mine}/input/forged"), "staging model writes its input")
    denied(a.s3(role, "s3:GetObject", bucket, f"{mine}/output/inf-1.out"), "staging model reads answers")


@pytest.mark.parametrize("persona", PERSONAS)
def test_personas_cannot_read_or_queue_async_requests(async_access: Access, persona: str) -> None:
    a, folder = async_access, f"async-inference/{async_access.prefix}-staging"
    role = a.persona(persona)
    for key in (f"{folder}/output/inf-1.out", f"{folder}/failures/inf-1-error.out", f"{folder}/input/req-1"):
        denied(a.s3(role, "s3:GetObject", a.artifact_bucket, key), f"{persona} reads {key}")
    denied(a.s3(role, "s3:PutObject", a.artifact_bucket, f"{folder}/input/req-2"), f"{persona} queues")
    denied(
        a.from_studio(persona, "sagemaker:InvokeEndpointAsync", f"endpoint/{a.prefix}-staging"),
        f"{persona} invokes the async stage",
    )


def test_the_async_smoke_test_round_trips_through_its_stage_only(async_access: Access) -> None:
    a = async_access
    build, bucket = a.project_role("DeployStaging"), a.artifact_bucket
    mine, prod = f"async-inference/{a.prefix}-staging", f"async-inference/{a.prefix}-prod"
    allowed(a.s3_object(build, "s3:PutObject", bucket, f"{mine}/input/smoke-1", in_vpc=False), "queues")
    allowed(a.s3_object(build, "s3:GetObject", bucket, f"{mine}/output/smoke-1.out", in_vpc=False), "reads")
    allowed(
        a.by_service(build, "sagemaker:InvokeEndpointAsync", f"endpoint/{a.prefix}-staging"),
        "invokes staging",
    )
    denied(a.s3(build, "s3:PutObject", bucket, f"{prod}/input/smoke-1", in_vpc=False), "queues on prod")
    denied(a.s3(build, "s3:GetObject", bucket, f"{prod}/output/x.out", in_vpc=False), "reads prod's answers")
    denied(a.by_service(build, "sagemaker:InvokeEndpointAsync", f"endpoint/{a.prefix}-prod"), "invokes prod")
    denied(a.s3(build, "s3:PutObject", bucket, f"{mine}/output/forged.out", in_vpc=False), "forges an answer")
