"""Endpoint stacks in a serving mode (shadow, async), built from cdk.json's stages with the mode's
section loaded through config (so its rules apply), with cdk-nag and our guardrails on the app;
and the botocore check of a synthesized EndpointConfig."""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path
from typing import Any, cast

import aws_cdk as cdk
from botocore.model import StructureShape
from botocore.validate import validate_parameters
from nag_check import stack_findings
from platform_synth import APPROVED, cdk_context, resources
from stand_ins import shared_resources, with_network_and_topic

from contracts.approved_model import ApprovedModel
from contracts.config import StageConfig, load_config
from emulator.deploy import fit_to_shape
from emulator.sagemaker_fakes import SERVICE_MODEL
from stacks.endpoint_stack import EndpointStack
from stacks.guardrails import add_guardrails


def stage(name: str, settings: dict[str, Any]) -> StageConfig:
    """cdk.json's ``dev`` stage ``name`` with ``settings`` laid over it (null removes a key)."""
    context = copy.deepcopy(cdk_context())
    endpoints = context["environments"]["dev"]["endpoints"]
    if "async" in settings:  # dev's prod shadow-tests, which an async stage cannot
        settings = {"shadow": None, **settings}
    endpoints[name] = {k: v for k, v in {**endpoints[name], **settings}.items() if v is not None}
    return load_config(context).env.stage(name)


def version(number: int) -> ApprovedModel:
    """cdk.json's approved model as version ``number`` of its group."""
    arn = APPROVED.model_package_arn.rsplit("/", 1)[0] + f"/{number}"
    return APPROVED.model_copy(update={"version": number, "model_package_arn": arn})


def build(config: StageConfig, approved: ApprovedModel) -> tuple[cdk.App, EndpointStack]:
    """The stage's endpoint stack serving ``approved``, in an app with every guardrail pack."""
    app = cdk.App(context=cdk_context())
    add_guardrails(app, production=False)
    deps = cdk.Stack(app, "Deps")
    shared = dataclasses.replace(shared_resources(deps, load_config(cdk_context())), prefix="mlops-demo-dev")
    shared = with_network_and_topic(shared, deps, cidr="10.42.0.0/16", subnet_ids=None)
    stack = EndpointStack(
        app,
        f"mlops-demo-dev-endpoint-{config.name}",
        config=dataclasses.replace(config, approved_model=approved),
        shared=shared,
    )
    return app, stack


def synth(app: cdk.App, stack: EndpointStack) -> tuple[dict[str, Any], set[str]]:
    """The stack's template and its findings (``<rule>@<logical id>``; its dependencies left out)."""
    found = stack_findings(app, stack.stack_name)
    path = Path(app.outdir) / f"{stack.artifact_id}.template.json"
    return json.loads(path.read_text()), found


def template(app: cdk.App, stack: EndpointStack) -> dict[str, Any]:
    return synth(app, stack)[0]


def endpoint_config(tpl: dict[str, Any]) -> dict[str, Any]:
    (config,) = resources(tpl, "AWS::SageMaker::EndpointConfig").values()
    return dict(config["Properties"])


def _placeholders(value: Any) -> Any:
    """Intrinsics replaced by a plausible string (what CloudFormation would resolve them to)."""
    if isinstance(value, dict):
        if len(value) == 1 and next(iter(value)).startswith(("Fn::", "Ref")):
            return "arn:aws:sns:eu-west-1:111122223333:resolved"
        return {k: _placeholders(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_placeholders(v) for v in value]
    return value


def check_against_botocore(properties: dict[str, Any]) -> list[str]:
    """Validate the config as a CreateEndpointConfig request; returns what the API has no field for.

    Raises:
        botocore.exceptions.ParamValidationError: a property of the wrong type or shape.
    """
    shape = cast(StructureShape, SERVICE_MODEL.operation_model("CreateEndpointConfig").input_shape)
    dropped: list[str] = []
    request = fit_to_shape(_placeholders(properties), shape, "EndpointConfig", dropped)
    validate_parameters(request, shape)
    return dropped
