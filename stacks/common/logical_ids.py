"""Pinning a resource's CloudFormation logical ID, so a refactor of construct paths never replaces it."""

from __future__ import annotations

import aws_cdk as cdk
from constructs import IConstruct


def pin_logical_id(construct: IConstruct, logical_id: str) -> None:
    """Give ``construct``'s CloudFormation resource (itself, or its default child) ``logical_id``.

    Raises:
        TypeError: ``construct`` is no CloudFormation element and has none as its default child.
    """
    element = construct if isinstance(construct, cdk.CfnElement) else construct.node.default_child
    if not isinstance(element, cdk.CfnElement):
        raise TypeError(f"{construct.node.path} has no CloudFormation resource to pin")
    element.override_logical_id(logical_id)
