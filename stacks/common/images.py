"""Where the SageMaker XGBoost framework image lives, per region, for an env-agnostic stack.

The stack has no region at synth, so the image URI cannot be a literal. The region -> ECR
registry account table is read from the SDK's own bundled ``image_uri_config/xgboost.json``
(a file in the pinned package: offline, deterministic) and becomes a CloudFormation mapping;
the definition names the image as ``${Registry}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}/...``.
One image, one set of library versions, serves every step: preprocess, train, evaluate and
the registered model.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Final

import aws_cdk as cdk
from constructs import Construct

#: The framework version every step runs (xgboost 3.0.5; matches requirements.txt).
XGBOOST_VERSION: Final = "3.0-5"
XGBOOST_REPOSITORY: Final = "sagemaker-xgboost"


def _sdk_table(framework: str) -> Path:
    """The SDK's bundled image table, found without importing the SDK (a slow, client-creating import)."""
    spec = importlib.util.find_spec("sagemaker")
    roots = list(spec.submodule_search_locations or []) if spec else []
    for root in roots:
        table = Path(root, "core", "image_uri_config", f"{framework}.json")
        if table.is_file():
            return table
    raise FileNotFoundError(f"the SageMaker SDK's image_uri_config/{framework}.json is not installed")


def xgboost_registries(version: str = XGBOOST_VERSION) -> dict[str, str]:
    """Return ``{region: ECR registry account}`` for the XGBoost training image, sorted by region.

    Raises:
        KeyError: the SDK's table has no such version (the pinned SDK is older than the image).
    """
    config = json.loads(_sdk_table("xgboost").read_text(encoding="utf-8"))
    versions = config["training"]["versions"]
    if version not in versions:
        raise KeyError(f"xgboost {version} is not in the SageMaker SDK's image table: {sorted(versions)}")
    registries: dict[str, str] = versions[version]["registries"]
    return dict(sorted(registries.items()))


def image_uri(registry: str, region: str, url_suffix: str, version: str = XGBOOST_VERSION) -> str:
    """Return the image URI from its parts (each may be a placeholder resolved at deploy time)."""
    return f"{registry}.dkr.ecr.{region}.{url_suffix}/{XGBOOST_REPOSITORY}:{version}"


def registry_account(scope: Construct, construct_id: str) -> str:
    """The region's XGBoost registry account, from a ``CfnMapping`` of :func:`xgboost_registries`
    added to ``scope`` as ``construct_id`` (a ``Fn::FindInMap`` on ``AWS::Region``)."""
    registries = cdk.CfnMapping(
        scope,
        construct_id,
        mapping={region: {"Account": account} for region, account in xgboost_registries().items()},
    )
    return registries.find_in_map(cdk.Aws.REGION, "Account")


def repository_arn(scope: Construct, registry: str) -> str:
    """ARN of the XGBoost image's repository in ``registry`` (an account), in ``scope``'s region."""
    return cdk.Stack.of(scope).format_arn(
        service="ecr", account=registry, resource="repository", resource_name=XGBOOST_REPOSITORY
    )
