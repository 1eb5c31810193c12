"""Multi-account, the delivery side: what a deploy build may reach in a stage account, and nothing more.

A stage in another account is deployed by a build whose role has a fixed name (the stage's smoke
role trusts it by name) and may assume exactly that account's two CDK bootstrap roles and its smoke
role. Seen as an attacker holding that role: those three ARNs are all it reaches across the
boundary, and no other role of the tooling account reaches the stage accounts at all.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from platform_synth import SynthesizedPlatform, resources, synth_platform
from test_multi_account import ORG, PROD, STAGING, TOOLING, _multi_account

from contracts.names import stage_smoke_role_name
from stacks.delivery import commands

PREFIX = "mlops-demo-dev"
REGION = "eu-west-1"


def _bootstrap_and_smoke(account: str, stage: str, qualifier: str = "hnb659fds") -> list[str]:
    return [
        f"arn:aws:iam::{account}:role/cdk-{qualifier}-deploy-role-{account}-{REGION}",
        f"arn:aws:iam::{account}:role/cdk-{qualifier}-file-publishing-role-{account}-{REGION}",
        f"arn:aws:iam::{account}:role/{PREFIX}-{stage}-smoke",
    ]


@pytest.fixture(scope="module")
def multi(tmp_path_factory: pytest.TempPathFactory) -> SynthesizedPlatform:
    # synth_platform raises on any unacknowledged cdk-nag or own-rule finding
    return synth_platform(tmp_path_factory.mktemp("multi-delivery"), edit=_multi_account(ORG), approved=False)


@pytest.fixture(scope="module")
def delivery(multi: SynthesizedPlatform) -> dict[str, Any]:
    return multi.raw["delivery"]


def _project(template: dict[str, Any], stage: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [
        p["Properties"]
        for p in resources(template, "AWS::CodeBuild::Project").values()
        if p["Properties"]["Name"] == f"{PREFIX}-deploy-{stage}"
    ]
    (project,) = found
    return project


def _role_id(template: dict[str, Any], stage: str) -> str:
    role_id: str = _project(template, stage)["ServiceRole"]["Fn::GetAtt"][0]
    return role_id


def _identity_statements(template: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(role logical ID, statement) for every identity-policy statement on a role of ``template``:
    managed and inline policies attached to it, and the role's own ``Policies``."""
    found: list[tuple[str, dict[str, Any]]] = []
    for kind in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy"):
        for policy in resources(template, kind).values():
            for role in policy["Properties"].get("Roles", []):
                found += [(role["Ref"], s) for s in policy["Properties"]["PolicyDocument"]["Statement"]]
    for role_id, role in resources(template, "AWS::IAM::Role").items():
        for inline in role["Properties"].get("Policies", []):
            found += [(role_id, s) for s in inline["PolicyDocument"]["Statement"]]
    return found


def _role_statements(template: dict[str, Any], role_id: str) -> list[dict[str, Any]]:
    """Every identity-policy statement of the role ``role_id``."""
    return [statement for role, statement in _identity_statements(template) if role == role_id]


def _assumable(statements: list[dict[str, Any]]) -> list[str]:
    """The resources of every statement allowing an ``sts:*`` action, as JSON text for tokens."""
    found: list[str] = []
    for statement in statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        if any(action.startswith("sts:") or action == "*" for action in actions):
            resource = statement["Resource"]
            for one in resource if isinstance(resource, list) else [resource]:
                found.append(one if isinstance(one, str) else json.dumps(one))
    return found


def _tooling_templates(multi: SynthesizedPlatform) -> dict[str, dict[str, Any]]:
    """Every template deployed into the tooling account (the training pipeline's too), by stack name."""
    manifest = json.loads((multi.outdir / "manifest.json").read_text())
    return {
        name: json.loads((multi.outdir / artifact["properties"]["templateFile"]).read_text())
        for name, artifact in manifest["artifacts"].items()
        if artifact["type"] == "aws:cloudformation:stack"
        and artifact["environment"] == f"aws://{TOOLING}/{REGION}"
    }


def _model_file(stage: str) -> str:
    return f".build/release/dev-{stage}.json"


def _commands(template: dict[str, Any], stage: str) -> list[str]:
    spec = json.loads(_project(template, stage)["Source"]["BuildSpec"])
    build: list[str] = spec["phases"]["build"]["commands"]
    return build


@pytest.mark.parametrize(("stage", "account"), [("staging", STAGING), ("prod", PROD)])
def test_a_stage_deploy_role_has_its_fixed_name(delivery: dict[str, Any], stage: str, account: str) -> None:
    role = delivery["Resources"][_role_id(delivery, stage)]["Properties"]
    assert role["RoleName"] == f"{PREFIX}-{stage}-deploy"
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert (trust["Action"], trust["Principal"]) == ("sts:AssumeRole", {"Service": "codebuild.amazonaws.com"})
    assert "ManagedPolicyArns" not in role


@pytest.mark.parametrize(("stage", "account"), [("staging", STAGING), ("prod", PROD)])
def test_a_stage_deploy_role_assumes_exactly_its_accounts_bootstrap_and_smoke_roles(
    delivery: dict[str, Any], stage: str, account: str
) -> None:
    # GIVEN every policy attached to the stage's deploy role
    statements = _role_statements(delivery, _role_id(delivery, stage))
    by_sid = {s.get("Sid"): s for s in statements}
    # THEN the roles it may assume are the stage account's two bootstrap roles and its smoke role
    assert sorted(_assumable(statements)) == sorted(_bootstrap_and_smoke(account, stage))
    assert by_sid["DeployThroughCdkBootstrapRoles"]["Resource"] == _bootstrap_and_smoke(account, stage)[:2]
    assert by_sid["SmokeTestThroughTheStageRole"]["Resource"] == _bootstrap_and_smoke(account, stage)[2]
    # ... and it invokes no endpoint itself (the smoke role does, in the stage account)
    assert "InvokeTheStageEndpoint" not in by_sid
    assert not [s for s in statements if "sagemaker:InvokeEndpoint" in json.dumps(s["Action"])]
    # ... while samples and registry are still read in the tooling account, with its own credentials
    assert {
        "ListModelVersions",
        "DescribeVersionsOfThisGroup",
        "ReadSmokeSamples",
        "DecryptSmokeSamples",
    } <= set(by_sid)
    # ... and it may read and set the tags of model files and baselines (release.release_tag), only
    tagging = by_sid["TagShippedVersion"]
    assert sorted(tagging["Action"]) == ["s3:GetObjectTagging", "s3:PutObjectTagging"]
    patterns = sorted(resource["Fn::Join"][1][-1] for resource in tagging["Resource"])
    assert patterns == ["/pipeline-runs/*/preprocess/baseline/*", "/pipeline-runs/*/train/*"]


def test_no_other_role_of_the_tooling_account_reaches_a_stage_account(multi: SynthesizedPlatform) -> None:
    # GIVEN every identity policy in the tooling account's templates WHEN each statement naming a
    # stage account is collected THEN they are the two deploy roles' AssumeRole statements, each
    # naming only its own stage's account (the data stack's resource policies: test_multi_account).
    tooling = _tooling_templates(multi)
    assert {f"{PREFIX}-{part}" for part in ("data", "network", "pipeline", "delivery")} <= set(tooling)
    named = {
        account: [
            f"{name.removeprefix(PREFIX + '-')}:{role}:{statement['Sid']}"
            for name, template in tooling.items()
            for role, statement in _identity_statements(template)
            if account in json.dumps(statement)
        ]
        for account in (STAGING, PROD)
    }
    staging_role, prod_role = (_role_id(multi.raw["delivery"], s) for s in ("staging", "prod"))
    assert named == {
        STAGING: [
            f"delivery:{staging_role}:DeployThroughCdkBootstrapRoles",
            f"delivery:{staging_role}:SmokeTestThroughTheStageRole",
        ],
        PROD: [
            f"delivery:{prod_role}:DeployThroughCdkBootstrapRoles",
            f"delivery:{prod_role}:SmokeTestThroughTheStageRole",
        ],
    }


def test_no_identity_policy_of_the_tooling_account_may_assume_any_role(multi: SynthesizedPlatform) -> None:
    # an sts:AssumeRole on "*" (or an ARN wildcard) would reach every account's trusting roles
    for name, template in _tooling_templates(multi).items():
        statements = [statement for _, statement in _identity_statements(template)]
        for resource in _assumable(statements):
            assert "*" not in resource, (name, resource)


@pytest.mark.parametrize(("stage", "account"), [("staging", STAGING), ("prod", PROD)])
def test_the_smoke_test_goes_through_the_stage_role(
    multi: SynthesizedPlatform, delivery: dict[str, Any], stage: str, account: str
) -> None:
    *_, tag, deploy, smoke, track = _commands(delivery, stage)
    # the resolved version is tagged as shipped to the stage first: its account reads only that
    assert tag == f".venv/bin/python -m release.release_tag --stage {stage} --model-file {_model_file(stage)}"
    # cdk deploy finds the stage account's bootstrap roles by itself (the stack's env names it)
    assert deploy == commands.deploy(f"{PREFIX}-endpoint-{stage}", "dev")
    smoke_role = f"arn:aws:iam::{account}:role/{stage_smoke_role_name(PREFIX, stage)}"
    assert (
        smoke
        == commands.smoke(prefix=PREFIX, stage=multi.config.env.stage(stage)) + f" --role-arn {smoke_role}"
    )
    assert smoke.startswith(f".venv/bin/python -m release.smoke --endpoint {PREFIX}-{stage} ")
    # ... and the MLflow run is marked shipped with the build's own credentials (the server is the
    # tooling account's)
    assert track == commands.track_release(multi.config.env.stage(stage))


def test_a_stage_in_the_tooling_account_keeps_its_build_as_it_was(tmp_path: Path) -> None:
    # GIVEN staging in the tooling account and only prod elsewhere, bootstrapped with its own qualifier
    def edit(context: dict[str, Any]) -> None:
        _multi_account()(context)
        env = context["environments"][context["env"]]
        env["endpoints"]["staging"]["account"] = TOOLING
        env["bootstrapQualifier"] = "stage1"

    delivery = synth_platform(tmp_path, edit=edit, approved=False).raw["delivery"]
    # THEN staging's role has a generated name, deploys through the tooling bootstrap roles, invokes
    # its endpoint itself and smoke-tests without a role
    staging_role = _role_id(delivery, "staging")
    assert "RoleName" not in delivery["Resources"][staging_role]["Properties"]
    staging = _role_statements(delivery, staging_role)
    assert _assumable(staging) == [
        f"arn:aws:iam::{TOOLING}:role/cdk-hnb659fds-deploy-role-{TOOLING}-{REGION}",
        f"arn:aws:iam::{TOOLING}:role/cdk-hnb659fds-file-publishing-role-{TOOLING}-{REGION}",
    ]
    assert any(s.get("Sid") == "InvokeTheStageEndpoint" for s in staging)
    assert not [c for c in _commands(delivery, "staging") if "--role-arn" in c]
    assert not [c for c in _commands(delivery, "staging") if "release.release_tag" in c]
    assert not [s for s in staging if s.get("Sid") == "TagShippedVersion"]
    # ... and prod's build assumes prod's roles of the configured qualifier
    prod = _role_statements(delivery, _role_id(delivery, "prod"))
    assert sorted(_assumable(prod)) == sorted(_bootstrap_and_smoke(PROD, "prod", qualifier="stage1"))
