"""emulator.deploy on the endpoint stacks as synthesized (session fixture): every property reaches
the API, and a new version rolls the endpoint through the UpdateEndpoint fake."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
from platform_synth import APPROVED, SynthesizedPlatform

from contracts.config import STAGES
from contracts.names import endpoint_name
from emulator.cfn import Assembly
from emulator.deploy import deploy_endpoint_stack
from emulator.local_aws import LocalAws, moto_server


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAws]:
    with moto_server() as local:
        yield local


def assembly_of(synthesized: SynthesizedPlatform) -> Assembly:
    """The session's templates (all but the pipeline's, which endpoint stacks do not reference)."""
    prefix = synthesized.config.prefix
    return Assembly({f"{prefix}-{part}": copy.deepcopy(t) for part, t in synthesized.raw.items()})


def next_version(template: dict[str, Any], prefix: str, stage: str) -> dict[str, Any]:
    """The same stack for the next model version (what a re-synth after a new approval changes;
    the names keep their fingerprints here, a real synth would compute new ones)."""
    old, new = f"{endpoint_name(prefix, stage)}-v{APPROVED.version}-", f"-v{APPROVED.version + 1}-"
    text = json.dumps(template).replace(old, f"{endpoint_name(prefix, stage)}{new}")
    text = text.replace(f"model-package/{APPROVED.model_package_group}/{APPROVED.version}\"",
                        f"model-package/{APPROVED.model_package_group}/{APPROVED.version + 1}\"")  # fmt: skip
    changed: dict[str, Any] = json.loads(text)
    assert changed != template, "the versioned names were not found: update this helper"
    return changed


def config_name(template: dict[str, Any]) -> str:
    """The endpoint config name the stack sets (``<endpoint>-v<N>-<fingerprint>``)."""
    (config,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::SageMaker::EndpointConfig"]
    name: str = config["Properties"]["EndpointConfigName"]
    return name


@pytest.mark.parametrize("stage", STAGES)
def test_synthesized_endpoint_stack_deploys_then_updates(
    synthesized: SynthesizedPlatform, aws: LocalAws, stage: str
) -> None:
    prefix = synthesized.config.prefix
    stack, name = f"{prefix}-endpoint-{stage}", endpoint_name(prefix, stage)
    assembly = assembly_of(synthesized)
    # WHEN the stack is deployed to the stand-in
    created = deploy_endpoint_stack(assembly, stack, aws)
    # THEN all three resources exist and no synthesized property was left out of the requests
    assert [a.split()[0] for a in created.actions] == ["created"] * 3
    assert created.dropped == (), "these CloudFormation properties are not applied offline"
    sagemaker = aws.client("sagemaker")
    v3 = config_name(assembly.templates[stack])
    assert v3.startswith(f"{name}-v3-")
    assert sagemaker.describe_endpoint(EndpointName=name)["EndpointConfigName"] == v3
    # WHEN the next version's stack is deployed (its DeploymentConfig goes through the fake)
    assembly.templates[stack] = next_version(assembly.templates[stack], prefix, stage)
    v4 = config_name(assembly.templates[stack])
    updated = deploy_endpoint_stack(Assembly(assembly.templates), stack, aws)
    # THEN the endpoint now serves the new config, whose model is the new package version
    assert updated.updated
    assert updated.actions[-1] == f"updated Endpoint {name}: {v3} -> {v4}"
    config = sagemaker.describe_endpoint_config(EndpointConfigName=v4)
    model = sagemaker.describe_model(ModelName=config["ProductionVariants"][0]["ModelName"])
    assert model["Containers"][0]["ModelPackageName"].endswith(f"/{APPROVED.model_package_group}/4")
    assert sagemaker.describe_endpoint(EndpointName=name)["EndpointConfigName"] == v4
