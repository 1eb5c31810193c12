"""Attack cases of the shadow variant's model role (issue 16): prod serving a challenger beside
production, as the Shadow build deploys it.

The session ``access`` fixture's prod endpoint serves no challenger, so it has no shadow role;
``shadow_access`` synthesizes the default environment once more with prod's approved model
carrying a shadow version (``platform_synth.SHADOW``), module-scoped. The shadow model runs the
staged, not yet approved, version on prod's live traffic: what must it not reach? Production's
captures (the Shadow build's report compares the two), the training data and registered models,
anything it could use to promote itself, and the personas' workspaces.
"""

from __future__ import annotations

import pytest
from access import Access
from platform_policies import PlatformPolicies, Role
from platform_synth import synth_platform
from policy_eval import Decision

MODEL = "pipeline-runs/exec-1/train/output/model.tar.gz"
PERSONAS = ("data_scientist", "ml_engineer", "approver")


def denied(decision: Decision, what: str) -> None:
    assert not decision, f"{what} must be DENIED, but is allowed: {decision.reason}"


def allowed(decision: Decision, what: str) -> None:
    assert decision, f"{what} must be ALLOWED, but is denied: {decision.reason}"


@pytest.fixture(scope="module")
def shadow_access(tmp_path_factory: pytest.TempPathFactory) -> Access:
    """The default environment with prod shadow-testing a challenger, synthesized once here."""
    synthesized = synth_platform(tmp_path_factory.mktemp("security-shadow"), shadow=True)
    platform = PlatformPolicies.load(synthesized.outdir, synthesized.config.prefix)
    return Access(platform, synthesized.config)


def shadow_role(a: Access) -> Role:
    return a.p.role("endpoint-prod", "ShadowModelExecutionRole")


def capture(a: Access, variant: str, stage: str = "prod") -> str:
    return f"data-capture/{a.prefix}-{stage}/{variant}/2025/01/01/00/capture.jsonl"


def test_the_shadow_role_is_its_own(shadow_access: Access) -> None:
    """Not production's role reused: a separate principal with its own, narrower grants."""
    a = shadow_access
    assert shadow_role(a).arn != a.endpoint_model_role("prod").arn


def test_the_shadow_model_reads_its_model(shadow_access: Access) -> None:
    a = shadow_access
    allowed(
        a.s3_object(shadow_role(a), "s3:GetObject", a.artifact_bucket, MODEL), "the shadow reads its model"
    )


def test_the_shadow_model_writes_only_its_own_captures(shadow_access: Access) -> None:
    a, role = shadow_access, shadow_role(shadow_access)
    allowed(
        a.s3_object(role, "s3:PutObject", a.artifact_bucket, capture(a, "Shadow")),
        "the shadow writes its captures",
    )
    for key in (
        capture(a, "AllTraffic"),  # production's: the baseline the Shadow build's report compares with
        capture(a, "AllTraffic", "staging"),
        f"data-capture/{a.prefix}-prod-sandbox/Shadow/x.jsonl",
        MODEL,
        "pipeline-runs/exec-1/preprocess/baseline/statistics.json",
        "data/raw/churn.csv",
        "batch-scores/exec-1/manifest.json",
        "drift-checks/exec-1/report.json",
        "workspace/data_scientist/x.csv",
    ):
        denied(a.s3_object(role, "s3:PutObject", a.artifact_bucket, key), f"the shadow writes {key}")


def test_the_shadow_model_reads_no_data_or_traffic(shadow_access: Access) -> None:
    a, role = shadow_access, shadow_role(shadow_access)
    for key in (
        "data/raw/churn.csv",
        "pipeline-runs/exec-1/preprocess/test/smoke-samples.json",
        capture(a, "AllTraffic"),
        capture(a, "Shadow"),
        "workspace/data_scientist/x.csv",
    ):
        denied(a.s3_object(role, "s3:GetObject", a.artifact_bucket, key), f"the shadow reads {key}")


def test_the_shadow_model_cannot_promote_itself(shadow_access: Access) -> None:
    a, role = shadow_access, shadow_role(shadow_access)
    version = f"model-package/{a.group}/4"
    for action in ("sagemaker:UpdateModelPackage", "sagemaker:CreateModelPackage"):
        denied(
            a.by_service(role, action, version, {"sagemaker:ModelApprovalStatus": "Approved"}),
            f"the shadow {action} Approved",
        )
    for action, resource in (
        ("sagemaker:UpdateEndpoint", f"endpoint/{a.prefix}-prod"),
        ("sagemaker:UpdateEndpointWeightsAndCapacities", f"endpoint/{a.prefix}-prod"),
        ("sagemaker:CreateEndpointConfig", f"endpoint-config/{a.prefix}-prod-x"),
        ("sagemaker:InvokeEndpoint", f"endpoint/{a.prefix}-prod"),
    ):
        denied(a.by_service(role, action, resource), f"the shadow {action} {resource}")


def test_production_still_writes_its_captures(shadow_access: Access) -> None:
    """Production's role keeps the endpoint's folder: SageMaker may write either variant's captures
    with it."""
    a, role = shadow_access, shadow_access.endpoint_model_role("prod")
    for variant in ("AllTraffic", "Shadow"):
        key = capture(a, variant)
        allowed(a.s3_object(role, "s3:PutObject", a.artifact_bucket, key), f"production writes {key}")


@pytest.mark.parametrize("persona", PERSONAS)
def test_no_persona_passes_the_shadow_role(shadow_access: Access, persona: str) -> None:
    """A persona that could pass it could run its own code with prod's capture rights."""
    a = shadow_access
    denied(a.pass_role(a.persona(persona), shadow_role(a)), f"{persona} passes the shadow role")
