"""Many use cases on one platform (issue 18): an additional use case's stacks on the platform's network.

The ``cases`` environment of cdk.json has the project's own use case and ``fraud``. The platform
(one VPC, one Studio domain, one budget) is the project's; ``fraud`` gets its own data stores,
pipeline, monitoring, delivery and endpoints, which name nothing of the project's own use case.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from platform_synth import SynthesizedPlatform, resources, synth_platform, values_of

PREFIX = "mlops-demo-cases"
FRAUD = f"{PREFIX}-fraud"
FRAUD_PARTS = (
    "fraud-data",
    "fraud-monitoring",
    "fraud-delivery",
    "fraud-endpoint-staging",
    "fraud-endpoint-prod",
)


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> SynthesizedPlatform:
    return synth_platform(tmp_path_factory.mktemp("use-cases"), env="cases")


def _count(cases: SynthesizedPlatform, resource_type: str) -> dict[str, int]:
    found = {part: len(resources(template, resource_type)) for part, template in cases.raw.items()}
    return {part: n for part, n in found.items() if n}


def test_the_use_case_has_its_own_stacks_beside_the_platform(cases: SynthesizedPlatform) -> None:
    assert set(FRAUD_PARTS) <= set(cases.raw)
    assert "fraud-pipeline" in cases.raw  # (the primary's pipeline template is left out of raw)
    assert set(cases.platform.use_cases) == {"fraud"}
    assert set(cases.platform.use_cases["fraud"].endpoints) == {"staging", "prod"}


def test_one_network_one_studio_domain_one_budget_for_every_use_case(cases: SynthesizedPlatform) -> None:
    assert _count(cases, "AWS::EC2::VPC") == {"network": 1}
    assert _count(cases, "AWS::SageMaker::Domain") == {"studio": 1}
    assert _count(cases, "AWS::Budgets::Budget") == {"monitoring": 1}
    # ... while each use case has its own key, buckets and registry group
    assert _count(cases, "AWS::SageMaker::ModelPackageGroup") == {"data": 1, "fraud-data": 1}
    assert _count(cases, "AWS::KMS::Key")["fraud-data"] == _count(cases, "AWS::KMS::Key")["data"]


def test_the_use_case_references_only_its_own_stacks_and_the_platform_network(
    cases: SynthesizedPlatform,
) -> None:
    for part, template in cases.raw.items():
        if not part.startswith("fraud-"):
            continue
        referenced = {ref["StackName"] for ref in values_of(template, "Fn::GetStackOutput")}
        # its Studio users' profiles live in the platform's domain (the domain ID, nothing else)
        platform = {f"{PREFIX}-network", *([f"{PREFIX}-studio"] if part == "fraud-studio" else [])}
        assert referenced <= {f"{FRAUD}-data", f"{FRAUD}-monitoring", *platform}, part


def test_no_name_of_one_use_case_appears_in_the_others_templates(cases: SynthesizedPlatform) -> None:
    # the project's own names are <prefix>-<part>; fraud's are <prefix>-fraud-<part>
    primary_name = re.compile(rf"{PREFIX}-(?!fraud\b|network\b)[a-z]")
    for part, template in cases.raw.items():
        text = json.dumps(_without_denies(template))
        if part.startswith("fraud-"):
            platform = text.replace(f'"{PREFIX}-network"', "").replace(f'"{PREFIX}-studio"', "")
            assert not primary_name.findall(platform), part
        else:  # (the project's own personas name fraud's resources only to deny them)
            assert FRAUD not in text, part


def _without_denies(template: dict[str, Any]) -> dict[str, Any]:
    """``template`` without its policies' Deny statements."""
    return json.loads(
        json.dumps(template),
        object_hook=lambda d: (
            {**d, "Statement": [s for s in d["Statement"] if s.get("Effect") != "Deny"]}
            if isinstance(d.get("Statement"), list)
            else d
        ),
    )


def test_the_use_case_pipeline_trains_on_its_own_schema(cases: SynthesizedPlatform) -> None:
    (pipeline,) = resources(cases.raw["fraud-pipeline"], "AWS::SageMaker::Pipeline").values()
    assert pipeline["Properties"]["PipelineName"] == f"{FRAUD}-training"
    body = pipeline["Properties"]["PipelineDefinition"]["PipelineDefinitionBody"]
    text = json.dumps(body)
    assert '{\\"DefaultValue\\":\\"is_fraud\\",\\"Name\\":\\"TargetColumn\\"' in text
    assert '/data/fraud/\\",\\"Name\\":\\"InputDataUri\\"' in text


def test_the_use_case_resources_carry_its_tag(cases: SynthesizedPlatform) -> None:
    for part, template in cases.raw.items():
        tagged = [
            r["Properties"]["Tags"]
            for r in template["Resources"].values()
            if "Tags" in r.get("Properties", {})
        ]
        use_case = {
            tag.get("Value")
            for tags in tagged
            if isinstance(tags, list)
            for tag in tags
            if tag.get("Key") == "UseCase"
        }
        assert use_case == ({"fraud"} if part.startswith("fraud-") else set()), part


def test_a_use_case_without_approved_models_has_no_endpoint_stacks(tmp_path: Path) -> None:
    bare = synth_platform(tmp_path, env="cases", approved=False)
    assert bare.platform.use_cases["fraud"].endpoints == {}
    assert not [part for part in bare.raw if "endpoint" in part]


def _stack_artifacts(cases: SynthesizedPlatform) -> dict[str, dict[str, Any]]:
    """The cloud assembly's stack artifacts (what ``cdk deploy`` reads), by stack part."""
    manifest = json.loads((cases.outdir / "manifest.json").read_text())
    return {
        name.removeprefix(f"{PREFIX}-"): artifact
        for name, artifact in manifest["artifacts"].items()
        if artifact["type"] == "aws:cloudformation:stack"
    }


def _bootstrap(qualifier: str, role: str) -> str:
    here = "${AWS::AccountId}-${AWS::Region}"
    return f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role/cdk-{qualifier}-{role}-{here}"


def test_every_stack_of_the_use_case_deploys_through_its_own_bootstrap(cases: SynthesizedPlatform) -> None:
    artifacts = _stack_artifacts(cases)
    fraud_parts = {part for part in artifacts if part.startswith("fraud-")}
    assert fraud_parts == {*FRAUD_PARTS, "fraud-pipeline", "fraud-studio"}
    for part, artifact in artifacts.items():
        # its stacks use the bootstrap of qualifier 'fraud' (its name); the platform's and the project's
        # own keep CDK's default
        qualifier = "fraud" if part in fraud_parts else "hnb659fds"
        properties = artifact["properties"]
        assert properties["assumeRoleArn"] == _bootstrap(qualifier, "deploy-role"), part
        assert properties["cloudFormationExecutionRoleArn"] == _bootstrap(qualifier, "cfn-exec-role"), part
        assert properties["bootstrapStackVersionSsmParameter"] == f"/cdk-bootstrap/{qualifier}/version", part
        template = json.loads((cases.outdir / properties["templateFile"]).read_text())
        assert template["Parameters"]["BootstrapVersion"]["Default"] == f"/cdk-bootstrap/{qualifier}/version"
        assets = json.loads((cases.outdir / f"{PREFIX}-{part}.assets.json").read_text())
        destinations = [d for asset in assets["files"].values() for d in asset["destinations"].values()]
        assert destinations, part  # (at least its template)
        for destination in destinations:
            assert destination["bucketName"] == f"cdk-{qualifier}-assets-${{AWS::AccountId}}-${{AWS::Region}}"
            assert destination["assumeRoleArn"] == _bootstrap(qualifier, "file-publishing-role")
        if part in fraud_parts:  # nothing of the default bootstrap left in its template
            assert "hnb659fds" not in json.dumps(template), part


def test_a_use_cases_overrides_reach_its_stacks_only(tmp_path: Path) -> None:
    # GIVEN fraud with its own quality threshold and its own team's address
    def edit(context: dict[str, Any]) -> None:
        fraud = context["environments"]["cases"]["useCases"]["fraud"]
        fraud["pipeline"] = {"qualityThreshold": 0.85}
        fraud["monitoring"] = {"notificationEmails": ["fraud-team@example.com"]}

    synthesized = synth_platform(tmp_path, env="cases", edit=edit, approved=False)
    # THEN fraud's pipeline gates on 0.85 by default, and fraud's topic alone tells its team
    (pipeline,) = resources(synthesized.raw["fraud-pipeline"], "AWS::SageMaker::Pipeline").values()
    body = json.dumps(pipeline["Properties"]["PipelineDefinition"]["PipelineDefinitionBody"])
    # (QualityThreshold is a String parameter: a number, or none)
    assert '{\\"DefaultValue\\":\\"0.85\\",\\"Name\\":\\"QualityThreshold\\"' in body
    subscribed = {
        part: [s["Properties"]["Endpoint"] for s in resources(t, "AWS::SNS::Subscription").values()]
        for part, t in synthesized.raw.items()
    }
    assert {part: found for part, found in subscribed.items() if found} == {
        "fraud-monitoring": ["fraud-team@example.com"]
    }
