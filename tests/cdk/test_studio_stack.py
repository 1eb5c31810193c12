"""Studio stack: VpcOnly domain on the CMK, idle shutdown, persona roles without wildcard policies."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk.assertions import Match
from platform_synth import SynthesizedPlatform, resources


def _domain(synthesized: SynthesizedPlatform) -> dict:
    return synthesized.raw["studio"]["Resources"]["StudioDomain"]


def test_domain_is_vpc_only_with_iam_auth_and_no_docker(synthesized: SynthesizedPlatform) -> None:
    synthesized.templates["studio"].has_resource_properties(
        "AWS::SageMaker::Domain",
        {
            "AppNetworkAccessType": "VpcOnly",
            "AuthMode": "IAM",
            "DomainName": f"{synthesized.config.prefix}-studio",
            "DomainSettings": Match.object_like(
                {"DockerSettings": {"EnableDockerAccess": "DISABLED"}, "SecurityGroupIds": Match.any_value()}
            ),
        },
    )


def test_domain_storage_uses_the_data_key(synthesized: SynthesizedPlatform) -> None:
    key = _domain(synthesized)["Properties"]["KmsKeyId"]
    # A (weak) cross-stack reference to the data stack's key ARN output.
    assert "DataKey" in json.dumps(key)


def test_domain_is_retained_with_a_pinned_logical_id(synthesized: SynthesizedPlatform) -> None:
    domain = _domain(synthesized)
    assert domain["Type"] == "AWS::SageMaker::Domain"
    assert domain["DeletionPolicy"] == "Retain"
    assert domain["UpdateReplacePolicy"] == "Retain"


def test_apps_shut_down_after_the_configured_idle_timeout(synthesized: SynthesizedPlatform) -> None:
    timeout = synthesized.config.env.studio.idle_timeout_minutes
    settings = _domain(synthesized)["Properties"]["DefaultUserSettings"]
    for app in ("JupyterLabAppSettings", "CodeEditorAppSettings"):
        idle = settings[app]["AppLifecycleManagement"]["IdleSettings"]
        assert idle["LifecycleManagement"] == "ENABLED"
        assert idle["IdleTimeoutInMinutes"] == timeout
        assert idle["MaxIdleTimeoutInMinutes"] == timeout


def test_user_profiles_follow_config_with_their_persona_role(synthesized: SynthesizedPlatform) -> None:
    profiles = resources(synthesized.raw["studio"], "AWS::SageMaker::UserProfile").values()
    by_name = {p["Properties"]["UserProfileName"]: p["Properties"] for p in profiles}
    expected = {u.name: u.persona for u in synthesized.config.env.studio.users}
    assert set(by_name) == set(expected)
    stack = synthesized.platform.studio
    for name, persona in expected.items():
        role_id = stack.get_logical_id(stack.roles[persona].node.default_child)  # type: ignore[arg-type]
        assert by_name[name]["UserSettings"]["ExecutionRole"] == {"Fn::GetAtt": [role_id, "Arn"]}


def _every_template(synthesized: SynthesizedPlatform) -> dict[str, dict[str, Any]]:
    """Every stack's template in the assembly, the training pipeline's and endpoint stacks' too."""
    found = {
        path.name.removesuffix(".template.json"): json.loads(path.read_text())
        for path in synthesized.outdir.glob("*.template.json")
    }
    prefix = synthesized.config.prefix
    assert {f"{prefix}-pipeline", f"{prefix}-endpoint-staging", f"{prefix}-endpoint-prod"} <= set(found)
    return found


def test_no_aws_managed_or_full_access_policies_anywhere(synthesized: SynthesizedPlatform) -> None:
    for template in _every_template(synthesized).values():
        text = json.dumps(template)
        assert "AmazonSageMakerFullAccess" not in text
        assert ":iam::aws:policy/" not in text
        for role in resources(template, "AWS::IAM::Role").values():
            assert "ManagedPolicyArns" not in role["Properties"] or all(
                "Ref" in arn for arn in role["Properties"]["ManagedPolicyArns"]
            )


def test_no_service_wide_action_wildcards(synthesized: SynthesizedPlatform) -> None:
    for template in _every_template(synthesized).values():
        for kind in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy"):
            for policy in resources(template, kind).values():
                for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                    actions = (
                        statement["Action"]
                        if isinstance(statement["Action"], list)
                        else [statement["Action"]]
                    )
                    assert not [a for a in actions if a == "*" or a.endswith(":*")], statement


def test_only_the_approver_approves_models(synthesized: SynthesizedPlatform) -> None:
    roles = synthesized.platform.studio.roles
    stack = synthesized.platform.studio

    def actions(persona: str) -> set[str]:
        role_id = stack.get_logical_id(roles[persona].node.default_child)  # type: ignore[arg-type,index]
        found: set[str] = set()
        for policy in resources(synthesized.raw["studio"], "AWS::IAM::ManagedPolicy").values():
            if {"Ref": role_id} in policy["Properties"].get("Roles", []):
                for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                    found |= set(
                        statement["Action"]
                        if isinstance(statement["Action"], list)
                        else [statement["Action"]]
                    )
        return found

    # GIVEN the three personas THEN approval is the approver's alone, and the approver builds nothing
    assert "sagemaker:UpdateModelPackage" in actions("approver")
    assert "sagemaker:UpdateModelPackage" not in actions("ml_engineer")
    assert "sagemaker:UpdateModelPackage" not in actions("data_scientist")
    assert "sagemaker:CreateEndpoint" not in actions("data_scientist")
    assert not {"sagemaker:CreateTrainingJob", "sagemaker:CreateModelPackage", "s3:PutObject"} & actions(
        "approver"
    )


def test_stacks_carry_the_configured_tags(synthesized: SynthesizedPlatform) -> None:
    tags = _domain(synthesized)["Properties"]["Tags"]
    assert {t["Key"]: t["Value"] for t in tags} == dict(synthesized.config.all_tags)
