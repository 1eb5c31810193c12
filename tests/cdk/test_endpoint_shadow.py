"""Prod with a shadow variant: a second model of the challenger version, ``ShadowProductionVariants``
sampled by weight, capture over both variants, an all-at-once update, a fingerprint covering it,
a request botocore accepts and no cdk-nag finding."""

from __future__ import annotations

import json
from typing import Any

import pytest
from mode_stacks import build, check_against_botocore, endpoint_config, stage, synth, template, version
from platform_synth import resources

from stacks.endpoint.shadow import SHADOW_VARIANT
from stacks.endpoint_stack import EndpointStack

PROD = stage("prod", {"shadow": {"samplingPercent": 40, "instanceType": "ml.m5.xlarge"}})
WITH_SHADOW = version(4).model_copy(update={"shadow": version(5)})


@pytest.fixture(scope="module")
def synthesized() -> tuple[EndpointStack, dict[str, Any], set[str]]:
    app, stack = build(PROD, WITH_SHADOW)
    tpl, findings = synth(app, stack)
    return stack, tpl, findings


def test_the_shadow_variant_serves_the_challenger_sampled_by_weight(
    synthesized: tuple[EndpointStack, dict[str, Any], set[str]],
) -> None:
    stack, tpl, _ = synthesized
    config = endpoint_config(tpl)
    (production,) = config["ProductionVariants"]
    (shadow,) = config["ShadowProductionVariants"]
    assert shadow["VariantName"] == SHADOW_VARIANT
    assert (shadow["InstanceType"], shadow["InitialInstanceCount"]) == ("ml.m5.xlarge", 1)
    # 40% of requests are copied: the shadow's weight relative to production's
    assert shadow["InitialVariantWeight"] / production["InitialVariantWeight"] == pytest.approx(0.40)
    assert stack.shadow_model is not None
    assert shadow["ModelName"] == {
        "Fn::GetAtt": [stack.resolve(stack.get_logical_id(stack.shadow_model.model)), "ModelName"]
    }


def test_two_models_each_named_for_its_own_version(
    synthesized: tuple[EndpointStack, dict[str, Any], set[str]],
) -> None:
    stack, tpl, _ = synthesized
    models = {
        m["Properties"]["ModelName"]: m["Properties"]
        for m in resources(tpl, "AWS::SageMaker::Model").values()
    }
    assert stack.shadow_model is not None
    assert stack.hosted.name.startswith("mlops-demo-dev-prod-v4-")
    assert stack.shadow_model.name.startswith("mlops-demo-dev-prod-v5-")
    assert models[stack.shadow_model.name]["Containers"] == [
        {"ModelPackageName": version(5).model_package_arn}
    ]
    assert models[stack.hosted.name]["Containers"] == [{"ModelPackageName": version(4).model_package_arn}]
    assert stack.serving.name.startswith("mlops-demo-dev-prod-v4-")


def test_capture_covers_both_variants(synthesized: tuple[EndpointStack, dict[str, Any], set[str]]) -> None:
    stack, tpl, _ = synthesized
    capture = endpoint_config(tpl)["DataCaptureConfig"]
    # one endpoint-level capture config: SageMaker writes <endpoint>/<variant>/ for each variant
    assert capture["EnableCapture"] is True
    assert capture["InitialSamplingPercentage"] == PROD.data_capture_percent
    # each variant's role may write captures: production's the endpoint's folder, the shadow's
    # only its own (it must not write into the production traffic its report compares against)
    written = {}
    for logical_id, policy in resources(tpl, "AWS::IAM::ManagedPolicy").items():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        (write,) = [s for s in statements if s["Sid"] == "WriteCapturedData"]
        assert write["Action"] == "s3:PutObject"
        written["shadow" if logical_id.startswith("ShadowModel") else "production"] = json.dumps(
            write["Resource"]
        )
    endpoint = f"/data-capture/{stack.endpoint_name}/"  # SageMaker adds <endpoint>/<variant>/ itself
    assert f'{endpoint}*"' in written["production"]
    assert f'{endpoint}Shadow/*"' in written["shadow"]
    assert f'{endpoint}*"' not in written["shadow"]


def test_the_update_that_adds_the_shadow_shifts_all_at_once(
    synthesized: tuple[EndpointStack, dict[str, Any], set[str]],
) -> None:
    _, tpl, _ = synthesized
    (endpoint,) = resources(tpl, "AWS::SageMaker::Endpoint").values()
    deployment = endpoint["Properties"]["DeploymentConfig"]
    routing = deployment["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"]
    assert routing["Type"] == "ALL_AT_ONCE"
    assert routing["WaitIntervalInSeconds"] == PROD.rollout.wait_minutes * 60  # still baked
    assert len(deployment["AutoRollbackConfiguration"]["Alarms"]) == 2  # still rolled back


def test_promotion_without_shadow_keeps_the_stage_rollout() -> None:
    app, stack = build(PROD, version(5))
    tpl = template(app, stack)
    (endpoint,) = resources(tpl, "AWS::SageMaker::Endpoint").values()
    routing = endpoint["Properties"]["DeploymentConfig"]["BlueGreenUpdatePolicy"][
        "TrafficRoutingConfiguration"
    ]
    assert routing["Type"] == PROD.rollout.mode.upper() == "CANARY"
    assert stack.shadow_model is None
    assert "ShadowProductionVariants" not in endpoint_config(tpl)


def test_the_fingerprint_covers_the_shadow() -> None:
    _, base = build(PROD, WITH_SHADOW)
    for changed in (
        stage("prod", {"shadow": {"samplingPercent": 50, "instanceType": "ml.m5.xlarge"}}),
        stage("prod", {"shadow": {"samplingPercent": 40, "instanceType": "ml.m5.large"}}),
        stage(
            "prod", {"shadow": {"samplingPercent": 40, "instanceType": "ml.m5.xlarge", "instanceCount": 2}}
        ),
    ):
        _, other = build(changed, WITH_SHADOW)
        assert other.serving.name != base.serving.name
    _, challenger = build(PROD, version(4).model_copy(update={"shadow": version(6)}))
    assert challenger.serving.name != base.serving.name


def test_the_config_validates_against_botocore(
    synthesized: tuple[EndpointStack, dict[str, Any], set[str]],
) -> None:
    _, tpl, _ = synthesized
    dropped = check_against_botocore(endpoint_config(tpl))
    assert not [d for d in dropped if "Shadow" in d]


def test_no_nag_findings(synthesized: tuple[EndpointStack, dict[str, Any], set[str]]) -> None:
    _, _, findings = synthesized
    assert findings == set()


def test_a_shadow_version_without_a_shadow_section_is_refused() -> None:
    with pytest.raises(ValueError, match=r"names shadow version 5 but endpoints\.prod\.shadow is not set"):
        build(stage("prod", {"shadow": None}), WITH_SHADOW)
