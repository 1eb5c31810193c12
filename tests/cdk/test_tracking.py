"""The MLflow tracking server (issue 15 point 1): the resource, its role, the endpoint, and who may use it.

The platform is synthesized from cdk.json, whose ``dev`` sets ``tracking.enabled`` (the default
leaves it off: a server bills every hour). ``app.synth()`` runs every cdk-nag pack, so the
fixture itself fails on an unacknowledged finding. Access is decided by ``tests/security``'s
policy evaluator against the synthesized identity, bucket, key and VPC endpoint policies, as an
attacker would probe it: each denial sits next to the same request that must be allowed.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Match
from platform_synth import SynthesizedPlatform, cfn_lint, synth_platform

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "security"))

from access import Access, sagemaker_arn
from platform_policies import ACCOUNT, PlatformPolicies, Role
from policy_eval import Decision, Request, authorize

from contracts import layout
from contracts.config import TrackingConfig
from contracts.names import tracking_server_name

SERVER = "AWS::SageMaker::MlflowTrackingServer"
BUILDERS = ("data_scientist", "ml_engineer")
LOG = ("sagemaker-mlflow:CreateRun", "sagemaker-mlflow:LogBatch", "sagemaker-mlflow:UpdateRun")
READ = ("sagemaker-mlflow:GetRun", "sagemaker-mlflow:SearchRuns", "sagemaker-mlflow:GetMetricHistory")
NEVER = (
    "sagemaker-mlflow:DeleteRun",
    "sagemaker-mlflow:DeleteExperiment",
    "sagemaker-mlflow:DeleteModelVersion",
)
ARTIFACT = f"{layout.MLFLOW_PREFIX}1/abc123/artifacts/evaluation.json"


def _enable(env: str, **settings: Any) -> Any:
    def edit(context: dict[str, Any]) -> None:
        context["environments"][env]["tracking"] = {"enabled": True, **settings}

    return edit


@pytest.fixture(scope="module")
def tracked(synthesized: SynthesizedPlatform) -> SynthesizedPlatform:
    """cdk.json's dev, which tracks runs (the session's synth)."""
    assert synthesized.config.env.name == "dev"
    assert synthesized.config.env.tracking.enabled
    return synthesized


def _disable(context: dict[str, Any]) -> None:
    context["environments"]["dev"].pop("tracking", None)


@pytest.fixture(scope="module")
def access(tracked: SynthesizedPlatform) -> Access:
    return Access(PlatformPolicies.load(tracked.outdir, tracked.config.prefix), tracked.config)


@pytest.fixture(scope="module")
def server_arn(tracked: SynthesizedPlatform) -> str:
    return sagemaker_arn(f"mlflow-tracking-server/{tracking_server_name(tracked.config.prefix)}")


def _resources(raw: dict[str, Any], kind: str) -> Iterator[tuple[str, dict[str, Any]]]:
    return ((k, v) for k, v in raw["Resources"].items() if v["Type"] == kind)


# ---------------------------------------------------------------------------- the resource


def test_server_is_configured_from_the_tracking_section(tracked: SynthesizedPlatform) -> None:
    defaults = TrackingConfig()
    tracked.templates["data"].has_resource_properties(
        SERVER,
        {
            "TrackingServerName": tracking_server_name(tracked.config.prefix),
            "TrackingServerSize": defaults.size,
            "MlflowVersion": defaults.mlflow_version,
            "WeeklyMaintenanceWindowStart": defaults.maintenance_window,
            "AutomaticModelRegistration": False,
            "ArtifactStoreUri": {"Fn::Join": ["", ["s3://", {"Ref": "ArtifactBucket"}, "/mlflow"]]},
            "RoleArn": {"Fn::GetAtt": [Match.string_like_regexp("^TrackingRole"), "Arn"]},
        },
    )


def test_server_is_retained_under_a_pinned_logical_id(tracked: SynthesizedPlatform) -> None:
    # GIVEN the server holds every run's metadata (deleted with it)
    servers = dict(_resources(tracked.raw["data"], SERVER))
    # THEN a refactor can neither rename nor delete it
    assert list(servers) == ["TrackingServer"]
    assert servers["TrackingServer"]["DeletionPolicy"] == "Retain"
    assert servers["TrackingServer"]["UpdateReplacePolicy"] == "Retain"


def test_size_and_version_come_from_config(tmp_path: Path) -> None:
    other = synth_platform(tmp_path, env="dev", edit=_enable("dev", size="Medium", mlflowVersion="2.16"))
    other.templates["data"].has_resource_properties(
        SERVER, {"TrackingServerSize": "Medium", "MlflowVersion": "2.16"}
    )


def test_off_by_default_no_server_endpoint_grant_or_track_step(tmp_path: Path) -> None:
    # GIVEN cdk.json's dev environment without its tracking section
    untracked = synth_platform(tmp_path, env="dev", edit=_disable)
    assert not untracked.config.env.tracking.enabled
    # THEN nothing of it is deployed: no server, no experiments endpoint, no MLflow grant anywhere,
    # and the training pipeline has no Track step
    untracked.templates["data"].resource_count_is(SERVER, 0)
    assert ".experiments" not in json.dumps(untracked.raw["network"])
    assert all("sagemaker-mlflow" not in json.dumps(raw) for raw in untracked.raw.values())
    pipeline = (untracked.outdir / f"{untracked.config.prefix}-pipeline.template.json").read_text()
    assert "track.py" not in pipeline
    assert "TrackingServerArn" not in pipeline


def test_templates_with_tracking_are_cfn_lint_clean(tracked: SynthesizedPlatform) -> None:
    templates = sorted(str(path) for path in tracked.outdir.glob("*.template.json"))
    code, findings = cfn_lint(templates)
    assert code == 0, findings
    assert findings == ""


def test_two_synths_with_tracking_are_byte_identical(tracked: SynthesizedPlatform, tmp_path: Path) -> None:
    # GIVEN a second synth of the same config in a fresh process state (new app, new outdir)
    again = synth_platform(tmp_path, env="dev", edit=_enable("dev"), fresh=True)
    names = sorted(p.name for p in tracked.outdir.glob("*.template.json"))
    # THEN every template, the pipeline's included, matches byte for byte
    assert names == sorted(p.name for p in again.outdir.glob("*.template.json"))
    for name in names:
        assert (tracked.outdir / name).read_bytes() == (again.outdir / name).read_bytes(), name


# ---------------------------------------------------------------------------- the server's role


def _server_role(tracked: SynthesizedPlatform) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    raw = tracked.raw["data"]
    role_id = raw["Resources"]["TrackingServer"]["Properties"]["RoleArn"]["Fn::GetAtt"][0]
    role = raw["Resources"][role_id]
    statements = [
        statement
        for _, policy in _resources(raw, "AWS::IAM::ManagedPolicy")
        if {"Ref": role_id} in policy["Properties"].get("Roles", [])
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    return role, statements


def test_server_role_is_trusted_by_sagemaker_for_this_account_and_server(
    tracked: SynthesizedPlatform,
) -> None:
    role, _ = _server_role(tracked)
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    assert trust["Condition"]["StringEqualsIfExists"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    source = json.dumps(trust["Condition"]["ArnLikeIfExists"]["aws:SourceArn"])
    assert f":mlflow-tracking-server/{tracking_server_name(tracked.config.prefix)}" in source


def test_server_role_reaches_only_the_mlflow_prefix_and_the_data_key(tracked: SynthesizedPlatform) -> None:
    # GIVEN every statement of every policy on the server's role
    _, statements = _server_role(tracked)
    for statement in statements:
        resources = json.dumps(statement["Resource"])
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        # THEN objects only under mlflow/, the bucket only listed under mlflow/, the key only via S3
        if any(a in ("s3:GetObject", "s3:PutObject") for a in actions):
            assert resources.endswith('"/mlflow/*"]]}'), statement
        if "s3:ListBucket" in actions:
            assert statement["Condition"] == {"StringLike": {"s3:prefix": ["mlflow/*"]}}
        if any(a.startswith("kms:") for a in actions):
            assert "DataKey" in resources
            assert "kms:ViaService" in json.dumps(statement["Condition"])
        assert not any("Delete" in a or a.endswith("*") for a in actions), statement
        assert statement["Resource"] != "*"


def test_server_role_on_the_bucket(access: Access, tracked: SynthesizedPlatform) -> None:
    role_id = tracked.raw["data"]["Resources"]["TrackingServer"]["Properties"]["RoleArn"]["Fn::GetAtt"][0]
    role = access.p.role("data", role_id)
    bucket = access.artifact_bucket
    allowed = access.s3_object(role, "s3:PutObject", bucket, ARTIFACT, in_vpc=False)
    assert allowed, allowed.reason
    for key in ("data/raw/train.csv", "pipeline-runs/exec-1/train/output/model.tar.gz", "mlflowx/a"):
        assert not access.s3_object(role, "s3:GetObject", bucket, key, in_vpc=False), key
    assert not access.s3(role, "s3:DeleteObject", bucket, ARTIFACT, in_vpc=False)


# ---------------------------------------------------------------------------- the endpoint


def test_experiments_endpoint_admits_this_accounts_tracking_servers_only(
    access: Access, server_arn: str
) -> None:
    # GIVEN the interface endpoint MLflow clients in the VPC reach the server through
    assert "experiments" in access.p.endpoint_policies
    foreign = server_arn.replace(ACCOUNT, "999988887777")
    me = access.persona("data_scientist").principal
    # THEN our server passes it, another account's does not, and no other service does
    assert access.through_endpoint("experiments", me, "sagemaker-mlflow:CreateRun", server_arn, ACCOUNT)
    assert not access.through_endpoint(
        "experiments", me, "sagemaker-mlflow:CreateRun", foreign, "999988887777"
    )
    assert not access.through_endpoint("experiments", me, "s3:GetObject", "arn:aws:s3:::x/y", "999988887777")


# ---------------------------------------------------------------------------- who may use it


def _mlflow(access: Access, role: Role, action: str, resource: str) -> Decision:
    """An MLflow REST call (SigV4, service ``sagemaker-mlflow``) from inside the VPC."""
    keys = {"aws:SecureTransport": True, **access._vpc_keys("experiments")}
    return authorize(
        Request(role.principal, action, resource, keys),
        identity=role.policies,
        endpoints=[access.p.endpoint_policies["experiments"]],
    )


def _loggers(access: Access) -> list[tuple[str, Role]]:
    return [*((p, access.persona(p)) for p in BUILDERS), ("pipeline", access.pipeline_role)]


def test_builders_and_the_pipeline_log_runs_to_this_server(access: Access, server_arn: str) -> None:
    for who, role in _loggers(access):
        for action in (*LOG, *READ):
            decision = _mlflow(access, role, action, server_arn)
            assert decision, f"{who} {action}: {decision.reason}"
        put = access.s3_object(role, "s3:PutObject", access.artifact_bucket, ARTIFACT)
        assert put, f"{who} artifact upload: {put.reason}"


def test_nobody_logs_to_another_server(access: Access, server_arn: str) -> None:
    other = server_arn.rsplit("/", 1)[0] + "/someone-elses-mlflow"
    roles = [*_loggers(access), ("approver", access.persona("approver"))]
    for who, role in roles:
        for action in (*LOG, *READ):
            assert not _mlflow(access, role, action, other), f"{who} {action} on {other}"


def test_the_ui_is_open_to_whoever_may_presign_a_url_for_this_server(access: Access, server_arn: str) -> None:
    # AccessUI has no resource type (it needs "*"): what bounds it is who may presign a UI URL.
    presign = "sagemaker:CreatePresignedMlflowTrackingServerUrl"
    other = server_arn.rsplit("/", 1)[0] + "/someone-elses-mlflow"
    for persona in (*BUILDERS, "approver"):
        role = access.persona(persona)
        assert _mlflow(access, role, "sagemaker-mlflow:AccessUI", server_arn), persona
        allowed = access.from_studio(persona, presign, server_arn.split(":", 5)[5])
        assert allowed, f"{persona}: {allowed.reason}"
        assert not access.from_studio(persona, presign, other.split(":", 5)[5]), persona
    assert not _mlflow(access, access.drift_role, "sagemaker-mlflow:AccessUI", server_arn)


def test_nobody_deletes_runs(access: Access, server_arn: str) -> None:
    for who, role in [*_loggers(access), ("approver", access.persona("approver"))]:
        for action in NEVER:
            assert not _mlflow(access, role, action, server_arn), f"{who} {action}"


def test_approver_reads_but_never_writes(access: Access, server_arn: str) -> None:
    approver = access.persona("approver")
    for action in READ:
        decision = _mlflow(access, approver, action, server_arn)
        assert decision, f"{action}: {decision.reason}"
    writes = (*LOG, "sagemaker-mlflow:SetTag", "sagemaker-mlflow:CreateExperiment",
              "sagemaker-mlflow:SetRegisteredModelAlias", "sagemaker-mlflow:CreateModelVersion")  # fmt: skip
    for action in writes:
        assert not _mlflow(access, approver, action, server_arn), action
    bucket = access.artifact_bucket
    read = access.s3_object(approver, "s3:GetObject", bucket, ARTIFACT)
    assert read, read.reason
    assert not access.s3_object(approver, "s3:PutObject", bucket, ARTIFACT)


def test_other_workload_roles_have_no_access(access: Access, server_arn: str) -> None:
    # The drift check and the push build run code too; neither touches MLflow (the deploy builds
    # tag runs: the next test).
    others = [("drift", access.drift_role), ("Build", access.project_role("Build"))]
    for who, role in others:
        assert not _mlflow(access, role, "sagemaker-mlflow:GetRun", server_arn), who
        assert not access.s3_object(role, "s3:PutObject", access.artifact_bucket, ARTIFACT), who


def _from_codebuild(role: Role, action: str, resource: str) -> Decision:
    """An MLflow REST call from a CodeBuild project outside the VPC (the public endpoint, signed)."""
    request = Request(role.principal, action, resource, {"aws:SecureTransport": True})
    return authorize(request, identity=role.policies)


@pytest.mark.parametrize("project", ["DeployStaging", "DeployProd"])
def test_deploy_builds_only_read_and_tag_runs_on_this_server(
    access: Access, server_arn: str, project: str
) -> None:
    # GIVEN a deploy build's role (release.track_release marks the shipped version's run)
    role = access.project_role(project)
    other = server_arn.rsplit("/", 1)[0] + "/someone-elses-mlflow"
    # THEN it may read runs and set a run's and an experiment's tags on this server only
    for action in (*READ, "sagemaker-mlflow:GetExperimentByName", "sagemaker-mlflow:SetTag",
                   "sagemaker-mlflow:SetExperimentTag"):  # fmt: skip
        decision = _from_codebuild(role, action, server_arn)
        assert decision, f"{project} {action}: {decision.reason}"
        assert not _from_codebuild(role, action, other), f"{project} {action} on {other}"
    # ... and never create, log to, end or delete a run, nor touch the artifacts or the registry's runs
    for action in (*LOG, *NEVER, "sagemaker-mlflow:CreateExperiment", "sagemaker-mlflow:DeleteTag",
                   "sagemaker-mlflow:SetRegisteredModelAlias", "sagemaker-mlflow:CreateModelVersion",
                   "sagemaker-mlflow:AccessUI"):  # fmt: skip
        assert not _from_codebuild(role, action, server_arn), f"{project} {action}"
    assert not access.s3_object(role, "s3:PutObject", access.artifact_bucket, ARTIFACT), project


def test_other_use_cases_roles_have_no_access(tmp_path: Path) -> None:
    # GIVEN the cases environment (the project's own use case and fraud) with tracking on
    cases = synth_platform(tmp_path, env="cases", edit=_enable("cases"))
    prefix = cases.config.prefix
    # THEN the project's own personas get the server, fraud's stacks mention MLflow nowhere
    assert "sagemaker-mlflow" in json.dumps(cases.raw["studio"])
    fraud = {part: raw for part, raw in cases.raw.items() if part.startswith("fraud")}
    assert fraud, sorted(cases.raw)
    for part, raw in fraud.items():
        assert "sagemaker-mlflow" not in json.dumps(raw), f"{prefix}-{part}"
        assert "/mlflow/" not in json.dumps(raw), f"{prefix}-{part}"
