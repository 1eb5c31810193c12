"""Model and endpoint-config names follow exactly what CloudFormation cannot change in place.

A change of a create-only property (instance count or type, capture percentage, serverless
memory, subnets) must rename the resource, or CloudFormation fails to replace a custom-named one;
an unrelated change must keep the name (no needless replacement, no redeploy). Endpoint stacks are
built here on small stand-in dependencies (``endpoint_builder.build``), so each case costs a
construct tree, not a platform synth.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import aws_cdk as cdk
import pytest
from endpoint_builder import build
from platform_synth import APPROVED, cdk_context, resources

from contracts.config import StageConfig, load_config
from contracts.names import (
    SAGEMAKER_NAME_MAX,
    SAGEMAKER_NAME_RE,
    ResourceNameError,
    endpoint_name,
    versioned_name,
)
from stacks.endpoint_stack import EndpointStack

CONFIG = load_config(cdk_context())
PROD, STAGING = CONFIG.env.stage("prod"), CONFIG.env.stage("staging")
#: The longest project name config accepts (``_NAME_RE``: 32 characters) and the longest
#: environment name that still leaves ``<project>-<env>-staging`` within SageMaker's 63.
LONGEST_PREFIX = f"{'p' * 32}-{'e' * 22}"


def names(stack: EndpointStack) -> tuple[str, str]:
    """(model name, endpoint config name)."""
    return stack.hosted.name, stack.serving.name


def _replace(stage: StageConfig, field: str, **changes: Any) -> StageConfig:
    return dataclasses.replace(stage, **{field: dataclasses.replace(getattr(stage, field), **changes)})


def test_names_carry_endpoint_version_and_a_fingerprint() -> None:
    model, config = names(build(PROD))
    assert model.startswith(f"mlops-demo-dev-prod-v{APPROVED.version}-")
    assert config.startswith(f"mlops-demo-dev-prod-v{APPROVED.version}-")
    assert len(model.rsplit("-", 1)[1]) == len(config.rsplit("-", 1)[1]) == 8
    assert model != config  # the config's fingerprint covers other properties (and the model's name)


@pytest.mark.parametrize(
    ("stage", "change"),
    [
        (PROD, lambda s: dataclasses.replace(s, instance_count=s.instance_count + 1)),
        (PROD, lambda s: dataclasses.replace(s, instance_type="ml.c5.xlarge")),
        (PROD, lambda s: dataclasses.replace(s, data_capture_percent=s.data_capture_percent // 2)),
        (PROD, lambda s: dataclasses.replace(s, data_capture_percent=0)),
        (STAGING, lambda s: _replace(s, "serverless", memory_size_mb=4096)),
        (STAGING, lambda s: _replace(s, "serverless", max_concurrency=7)),
    ],
    ids=["instance-count", "instance-type", "capture-percent", "capture-off", "memory", "concurrency"],
)
def test_a_create_only_config_change_renames_the_config(stage: StageConfig, change: Any) -> None:
    # GIVEN a stage already deployed at this version
    model, config = names(build(stage))
    # WHEN a create-only property of the endpoint config changes, for the same version
    changed_model, changed_config = names(build(change(stage)))
    # THEN the config gets a new name (CloudFormation can replace it); the model is unchanged
    assert changed_config != config
    assert changed_model == model


def test_new_subnets_rename_the_model_and_so_the_config() -> None:
    # Created subnets: IDs are unknown at synth, their CIDRs are not (a new CIDR is a new subnet)
    model, config = names(build(PROD))
    moved_model, moved_config = names(build(PROD, cidr="10.43.0.0/16"))
    assert moved_model != model
    assert moved_config != config  # it names the model
    # Existing subnets from config: their IDs are literals, hashed as they are
    existing = names(build(PROD, subnet_ids=["subnet-0a", "subnet-0b"]))
    assert names(build(PROD, subnet_ids=["subnet-0a", "subnet-0c"]))[0] != existing[0]
    assert names(build(PROD, subnet_ids=["subnet-0a", "subnet-0b"])) == existing


def test_serverless_to_instances_renames_the_model() -> None:
    # VpcConfig and network isolation are create-only on the model
    instances = dataclasses.replace(STAGING, serverless=None, rollout=PROD.rollout)
    assert names(build(instances))[0] != names(build(STAGING))[0]


@pytest.mark.parametrize(
    ("stage", "change"),
    [
        (PROD, lambda s: _replace(s, "alarms", max_model_latency_ms=s.alarms.max_model_latency_ms + 1)),
        (PROD, lambda s: _replace(s, "alarms", evaluation_minutes=s.alarms.evaluation_minutes + 1)),
        (PROD, lambda s: _replace(s, "autoscaling", max_capacity=s.autoscaling.max_capacity + 1)),
        (PROD, lambda s: _replace(s, "rollout", wait_minutes=s.rollout.wait_minutes + 1)),
        (PROD, lambda s: _replace(s, "smoke_test", samples=s.smoke_test.samples + 1)),
        (PROD, lambda s: dataclasses.replace(s, idle_alarm_days=3)),
        (STAGING, lambda s: dataclasses.replace(s, idle_alarm_days=2)),
    ],
    ids=["latency-threshold", "alarm-minutes", "autoscaling-max", "rollout-wait", "smoke", "idle", "idle-sl"],
)
def test_an_unrelated_change_keeps_both_names(stage: StageConfig, change: Any) -> None:
    assert names(build(change(stage))) == names(build(stage))


def test_a_new_version_renames_both() -> None:
    model, config = names(build(PROD))
    next_model, next_config = names(build(PROD, version=APPROVED.version + 1))
    assert next_model.startswith(f"mlops-demo-dev-prod-v{APPROVED.version + 1}-")
    assert (next_model, next_config) != (model, config)


def test_names_fit_sagemaker_for_the_longest_config() -> None:
    # GIVEN the longest prefix config accepts with an endpoint name of exactly 63 characters
    assert len(endpoint_name(LONGEST_PREFIX, "staging")) == SAGEMAKER_NAME_MAX
    for stage in (STAGING, PROD):
        # WHEN its stack is built for a high version number
        stack = build(stage, prefix=LONGEST_PREFIX, version=123456)
        # THEN the names are shortened to SageMaker's limit, and still differ by stage and resource
        for name in names(stack):
            assert len(name) <= SAGEMAKER_NAME_MAX
            assert SAGEMAKER_NAME_RE.match(name), name
            assert "-v123456-" in name
    both = {*names(build(STAGING, prefix=LONGEST_PREFIX)), *names(build(PROD, prefix=LONGEST_PREFIX))}
    assert len(both) == 4


def test_an_endpoint_name_over_63_characters_is_refused_naming_the_keys() -> None:
    with pytest.raises(ResourceNameError, match=r"'project\.name' and 'env'.*64 characters"):
        endpoint_name(f"{'p' * 32}-{'e' * 23}", "staging")


def test_versioned_name_refuses_what_cannot_fit() -> None:
    with pytest.raises(ValueError, match="cannot name version"):
        versioned_name("e", 10**60, {})


def _template(stack: EndpointStack) -> dict[str, Any]:
    return dict(cdk.App.of(stack).synth().get_stack_by_name(stack.stack_name).template)  # type: ignore[union-attr]


def test_two_synths_give_identical_names_and_templates() -> None:
    first, second = build(PROD), build(PROD)
    assert names(first) == names(second)
    assert json.dumps(_template(first), sort_keys=True) == json.dumps(_template(second), sort_keys=True)


def _is_intrinsic(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)).startswith(("Fn::", "Ref"))


def _matches(rendered: Any, hashed: Any, model_name: str, where: str) -> None:
    """``hashed`` (the fingerprint input) says what ``rendered`` (the template) says: equal
    literals, the same keys, and a stand-in (or the model's own name) wherever CloudFormation
    resolves a value at deploy."""
    if _is_intrinsic(rendered):
        stand_ins = list(hashed.values()) if isinstance(hashed, dict) else [hashed]  # a created subnet
        assert hashed == model_name or any("<" in str(v) for v in stand_ins), f"{where}: {hashed!r}"
    elif isinstance(rendered, dict):
        assert isinstance(hashed, dict), where
        assert set(rendered) == {k for k, v in hashed.items() if v is not None}, where
        for key, value in rendered.items():
            _matches(value, hashed[key], model_name, f"{where}.{key}")
    elif isinstance(rendered, list):
        assert isinstance(hashed, list), where
        assert len(hashed) == len(rendered), where
        for i, (r, h) in enumerate(zip(rendered, hashed, strict=True)):
            _matches(r, h, model_name, f"{where}[{i}]")
    else:
        assert rendered == hashed, f"{where}: {rendered!r} != {hashed!r}"


@pytest.mark.parametrize("stage", [STAGING, PROD], ids=["serverless", "instances"])
def test_the_fingerprint_covers_every_create_only_property_as_rendered(stage: StageConfig) -> None:
    # Everything but the name and Tags is create-only on both resource types; if a property is
    # added to the resource but not to its fingerprint, this fails (and a deploy would, later).
    stack = build(stage)
    template = _template(stack)
    (model,) = resources(template, "AWS::SageMaker::Model").values()
    (config,) = resources(template, "AWS::SageMaker::EndpointConfig").values()
    rendered_model = {k: v for k, v in model["Properties"].items() if k not in ("ModelName", "Tags")}
    rendered_config = {
        k: v for k, v in config["Properties"].items() if k not in ("EndpointConfigName", "Tags")
    }
    assert model["Properties"]["ModelName"] == stack.hosted.name
    assert config["Properties"]["EndpointConfigName"] == stack.serving.name
    _matches(rendered_model, stack.hosted.create_only, stack.hosted.name, "Model")
    _matches(rendered_config, stack.serving.create_only, stack.hosted.name, "EndpointConfig")
