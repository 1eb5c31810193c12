"""``SageMakerChecks``: our SageMaker rules as a cdk-nag 3 NagPack (a validation plugin).

Because it is a real NagPack, findings fail ``app.synth()`` exactly like AwsSolutions, and are
acknowledged the same way (``cdk.Validations.of(construct).acknowledge(...)`` with the id
``SageMaker-<Rule>`` or ``SageMaker-<Rule>[<finding>]``).

Rules read each resource's *synthesized* properties from its stack's template in the cloud
assembly, so escape-hatch overrides are checked too; when no template exists yet (a pack run
directly with ``validate_scope``) the construct's own properties are resolved instead.
"""

from __future__ import annotations

import json
import os
from typing import Any

import aws_cdk as cdk
import jsii
from cdk_nag import IApplyRule, NagMessageLevel, NagPack, NagRuleCompliance

from stacks.guardrails.sagemaker_rules import Props, SageMakerRule, rules

PACK_NAME = "SageMaker"


@jsii.implements(IApplyRule)
class _AppliedRule:
    """Bridges one Python rule to cdk-nag's ``applyRule`` (jsii needs real properties)."""

    def __init__(self, rule: SageMakerRule, node: cdk.CfnResource, props: Props) -> None:
        self._rule = rule
        self._node = node
        self._props = props

    @property
    def node(self) -> cdk.CfnResource:
        return self._node

    @property
    def explanation(self) -> str:
        return self._rule.explanation

    @property
    def info(self) -> str:
        return self._rule.info

    @property
    def level(self) -> NagMessageLevel:
        return NagMessageLevel.ERROR

    @property
    def rule_suffix_override(self) -> str:
        return self._rule.rule_id

    def rule(self, node: cdk.CfnResource) -> NagRuleCompliance | list[str]:
        result = self._rule.check(node.cfn_resource_type, self._props)
        if result is None:
            return NagRuleCompliance.NOT_APPLICABLE
        if not result:
            return NagRuleCompliance.COMPLIANT
        return result


class SageMakerChecks(NagPack):
    """SageMaker hardening rules (see :mod:`stacks.guardrails.sagemaker_rules`)."""

    def __init__(self, *, production: bool) -> None:
        super().__init__()
        self._pack_name = PACK_NAME
        self._rules = rules(production=production)
        self._templates: dict[tuple[str, int], dict[str, Any]] = {}

    @property
    def name(self) -> str:
        return "SageMakerChecks"

    def _check_resource(self, node: cdk.CfnResource) -> None:
        if not node.cfn_resource_type.startswith("AWS::SageMaker::"):
            return  # every rule is about SageMaker; skip the jsii round trips
        props = self._properties(node)
        for rule in self._rules:
            self._apply_rule(_AppliedRule(rule, node, props))  # type: ignore[arg-type]

    def _properties(self, node: cdk.CfnResource) -> Props:
        stack = cdk.Stack.of(node)
        stage = cdk.Stage.of(stack)
        outdir = stage.outdir if stage is not None else None
        path = os.path.join(outdir, stack.template_file) if outdir else ""
        if path and os.path.exists(path):
            key = (path, os.stat(path).st_mtime_ns)
            if key not in self._templates:
                with open(path, encoding="utf-8") as handle:
                    self._templates[key] = json.load(handle)
            resource = self._templates[key].get("Resources", {}).get(stack.get_logical_id(node))
            if isinstance(resource, dict):
                return dict(resource.get("Properties", {}))
        rendered = stack.resolve(node._render_properties(node._cfn_properties))
        return rendered if isinstance(rendered, dict) else {}
