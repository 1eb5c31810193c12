"""Studio access per use case (issue 18 point 3): ``<prefix>-fraud-studio`` in the ``cases`` env.

fraud's users get profiles in the platform's one Studio domain, running as persona roles of their
own stack (private spaces only); the project's own personas carry a Deny on fraud's names. What
the roles may and may not do is decided as requests in tests/security/test_use_case_isolation.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from nag_findings import findings
from platform_synth import SynthesizedPlatform, approved_project_root, cdk_context, resources, synth_platform

from contracts.config import load_config
from stacks.application import build_platform

PREFIX = "mlops-demo-cases"
FRAUD = f"{PREFIX}-fraud"
PERSONA_ROLES = {
    "data_scientist": "DataScientistRole",
    "ml_engineer": "MlEngineerRole",
    "approver": "ApproverRole",
}


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> SynthesizedPlatform:
    return synth_platform(tmp_path_factory.mktemp("use-case-studio"), env="cases")


def _role_id(template: dict[str, Any], persona: str) -> str:
    (found,) = (
        lid for lid in resources(template, "AWS::IAM::Role") if lid.startswith(PERSONA_ROLES[persona])
    )
    return found


def _statements(template: dict[str, Any], policy_prefix: str) -> dict[str, list[dict[str, Any]]]:
    """The statements of each managed policy whose logical ID starts with ``policy_prefix``, by ID."""
    return {
        lid: policy["Properties"]["PolicyDocument"]["Statement"]
        for lid, policy in resources(template, "AWS::IAM::ManagedPolicy").items()
        if lid.startswith(policy_prefix)
    }


def test_fraud_users_get_profiles_in_the_platform_domain_running_as_their_persona(
    cases: SynthesizedPlatform,
) -> None:
    template = cases.raw["fraud-studio"]
    profiles = resources(template, "AWS::SageMaker::UserProfile")
    (fraud,) = (case for case in cases.config.use_cases if case.name == "fraud")
    assert {p["Properties"]["UserProfileName"] for p in profiles.values()} == {u.name for u in fraud.users}
    (domain_output,) = cases.raw["studio"]["Outputs"].values()
    assert domain_output["Value"] == {"Fn::GetAtt": ["StudioDomain", "DomainId"]}
    for user in fraud.users:
        # the logical ID is the name's (no hash): renaming code never replaces a user's profile
        props = profiles["User" + "".join(part.capitalize() for part in user.name.split("-"))]["Properties"]
        assert props["DomainId"]["Fn::GetStackOutput"]["StackName"] == f"{PREFIX}-studio"
        assert props["DomainId"]["Fn::GetStackOutput"]["OutputName"] in cases.raw["studio"]["Outputs"]
        assert props["UserSettings"]["ExecutionRole"] == {
            "Fn::GetAtt": [_role_id(template, user.persona), "Arn"]
        }
    # ... and no second domain
    assert not resources(template, "AWS::SageMaker::Domain")


def test_fraud_persona_policies_name_only_fraud_stores_and_the_platform(cases: SynthesizedPlatform) -> None:
    template = cases.raw["fraud-studio"]
    text = json.dumps(template)
    referenced = {ref["StackName"] for ref in _values(template, "Fn::GetStackOutput")}
    assert referenced == {f"{FRAUD}-data", f"{PREFIX}-network", f"{PREFIX}-studio"}
    # every resource name pattern is fraud's (<prefix>-fraud-*), none the project's own
    assert not re.findall(rf"{PREFIX}-(?!fraud\b|studio\"|network\")", text)
    assert f":pipeline/{FRAUD}-training" in text
    assert f":model-package-group/{FRAUD}-models" in text


def _values(value: Any, key: str) -> list[Any]:
    if isinstance(value, dict):
        return ([value[key]] if key in value else []) + [
            v for item in value.values() for v in _values(item, key)
        ]
    if isinstance(value, list):
        return [v for item in value for v in _values(item, key)]
    return []


def _space_sharing(statements: list[dict[str, Any]]) -> tuple[set[str], list[str]]:
    sids = {s.get("Sid", "") for s in statements}
    (own,) = (s for s in statements if s.get("Sid") == "OwnSpacesOnly")
    return sids, own["Condition"]["StringEquals"]["sagemaker:SpaceSharingType"]


def test_fraud_personas_use_private_spaces_only(cases: SynthesizedPlatform) -> None:
    """A shared space's apps run as the domain's default space role: the project's data scientist."""
    fraud = _statements(cases.raw["fraud-studio"], "")
    studio_ui = {lid: s for lid, s in fraud.items() if "StudioUiPolicy" in lid}
    assert len(studio_ui) == 3
    for lid, statements in studio_ui.items():
        sids, sharing = _space_sharing(statements)
        assert "AppsInSharedSpaces" not in sids, lid
        assert sharing == ["Private"], lid
    # ... while the project's own builders keep shared spaces (the control: the check can fail)
    own = _statements(cases.raw["studio"], "DataScientistStudioUiPolicy")
    (statements,) = own.values()
    sids, sharing = _space_sharing(statements)
    assert "AppsInSharedSpaces" in sids
    assert sharing == ["Private", "Shared"]


def test_the_project_personas_are_fenced_off_fraud_names(cases: SynthesizedPlatform) -> None:
    template = cases.raw["studio"]
    for persona, role in PERSONA_ROLES.items():
        prefix = role.removesuffix("Role")
        ((lid, statements),) = _statements(template, f"{prefix}FencePolicy").items()
        policy = template["Resources"][lid]["Properties"]
        assert policy["Roles"] == [{"Ref": _role_id(template, persona)}]
        (deny,) = statements
        assert (deny["Effect"], deny["Sid"]) == ("Deny", "NothingOfUseCaseFraud")
        assert sorted(deny["Action"]) == ["ecr:*", "sagemaker:*"]
        assert sorted(_joined(resource) for resource in deny["Resource"]) == [
            f"arn:{{}}:ecr:{{}}:{{}}:repository/{FRAUD}-*",
            f"arn:{{}}:sagemaker:{{}}:{{}}:*/{FRAUD}-*",
        ]


def _joined(value: dict[str, Any]) -> str:
    """An ``Fn::Join`` ARN with its pseudo parameters as ``{}``."""
    separator, parts = value["Fn::Join"]
    return separator.join(part if isinstance(part, str) else "{}" for part in parts)


def test_a_use_case_without_users_has_no_studio_stack_and_is_still_fenced(tmp_path: Path) -> None:
    def no_users(context: dict[str, Any]) -> None:
        del context["environments"]["cases"]["useCases"]["fraud"]["users"]

    bare = synth_platform(tmp_path, env="cases", edit=no_users, approved=False)
    assert bare.platform.use_cases["fraud"].studio is None
    assert "fraud-studio" not in bare.raw
    assert len([lid for lid in _statements(bare.raw["studio"], "") if "FencePolicy" in lid]) == 3


def test_the_cases_app_has_zero_guardrail_findings(tmp_path: Path) -> None:
    """Every guardrail pack (cdk-nag AwsSolutions and NIST, ours) over the whole app, fraud's Studio
    stack and the fenced project personas included: each wildcard acknowledged with its reason."""
    context = cdk_context()
    config = load_config(
        context, "cases", project_root=approved_project_root(tmp_path / "p", context, "cases")
    )
    app = cdk.App(context=context, outdir=str(tmp_path / "out"))
    platform = build_platform(app, config)
    assert platform.use_cases["fraud"].studio is not None
    assert findings(app) == set()
