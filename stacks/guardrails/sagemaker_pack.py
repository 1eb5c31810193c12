"""``SageMakerChecks``: our SageMaker rules as a cdk-nag 3 NagPack (a validation plugin).

Because it is a real NagPack, findings fail ``app.synth()`` exactly like AwsSolutions, and are
acknowledged the same way (``cdk.Validations.of(construct).acknowledge(...)`` with the id
``SageMaker-<Rule>`` or ``SageMaker-<Rule>[<finding>]``).

Rules read each resource's *synthesized* properties (and, for rules that follow references,
the other resources of its stack) from its stack's template in the cloud assembly, so
escape-hatch overrides are checked too; when no template exists yet (a pack run directly with
``validate_scope``) the construct's own properties are resolved instead, and rules that need the
rest of the stack see none of it (so what they cannot verify is a finding).
"""

from __future__ import annotations

import json
import os
from typing import Any, cast

import aws_cdk as cdk
import jsii
from cdk_nag import IApplyRule, NagMessageLevel, NagPack, NagRuleCompliance

from stacks.guardrails.sagemaker_rules import Props, Resources, SageMakerRule, rules

PACK_NAME = "SageMaker"


@jsii.implements(IApplyRule)
class _AppliedRule:
    """Bridges one Python rule to cdk-nag's ``applyRule`` (jsii needs real properties)."""

    def __init__(
        self, rule: SageMakerRule, node: cdk.CfnResource, props: Props, resources: Resources
    ) -> None:
        self._rule = rule
        self._node = node
        self._props = props
        self._resources = resources

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
        result = self._rule.apply(node.cfn_resource_type, self._props, self._resources)
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
        props, resources = self._synthesized(node)
        for rule in self._rules:
            # jsii declares IApplyRule's members settable; cdk-nag only reads them (properties here).
            self._apply_rule(cast(IApplyRule, _AppliedRule(rule, node, props, resources)))

    def _synthesized(self, node: cdk.CfnResource) -> tuple[Props, Resources]:
        """The resource's properties and its stack's ``Resources``, as synthesized."""
        stack = cdk.Stack.of(node)
        stage = cdk.Stage.of(stack)
        outdir = stage.outdir if stage is not None else None
        path = os.path.join(outdir, stack.template_file) if outdir else ""
        if path and os.path.exists(path):
            key = (path, os.stat(path).st_mtime_ns)
            if key not in self._templates:
                with open(path, encoding="utf-8") as handle:
                    self._templates[key] = json.load(handle)
            resources = self._templates[key].get("Resources", {})
            # node.logical_id resolves to the ID in the template (override_logical_id included);
            # stack.get_logical_id would give the allocated one.
            resource = resources.get(stack.resolve(node.logical_id))
            if isinstance(resource, dict):
                return dict(resource.get("Properties", {})), resources
        rendered = stack.resolve(node._render_properties(node._cfn_properties))
        return (rendered if isinstance(rendered, dict) else {}), {}
