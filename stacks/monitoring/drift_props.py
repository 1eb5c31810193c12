"""What a drift-check pipeline is built from (:class:`stacks.monitoring.drift_pipeline.DriftPipeline`):
the tooling account's own check and a stage account's check differ only in where the baselines are."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3

from contracts.config import MonitoringConfig
from stacks.common.shared import Network, SharedResources


@dataclass(frozen=True, kw_only=True)
class ToolingBaselines:
    """A check in a stage account: its role's fixed name and the account the baselines are in."""

    role_name: str
    tooling_account: str


@dataclass(frozen=True, kw_only=True)
class DriftPipelineProps:
    """Where the check runs and what it may touch."""

    name: str
    monitoring: MonitoringConfig
    instance_type: str
    #: The configured allowlist (``instances.allowed``) its jobs are held to.
    allowed_instance_types: Sequence[str]
    max_runtime_seconds: int
    key: kms.IKey
    artifact_bucket: s3.IBucket
    network: Network
    publisher: lambda_.IFunction
    model_package_group_name: str
    source_dir: Path
    build_dir: Path
    #: None: the baselines are in ``artifact_bucket`` (the tooling account's own check).
    baselines: ToolingBaselines | None = None

    @classmethod
    def of(
        cls,
        shared: SharedResources,
        *,
        name: str,
        monitoring: MonitoringConfig,
        max_runtime_seconds: int,
        publisher: lambda_.IFunction,
        source_dir: Path,
        build_dir: Path,
        baselines: ToolingBaselines | None = None,
    ) -> DriftPipelineProps:
        """The props of a check that runs on ``shared``'s instances, key, bucket and network."""
        return cls(
            name=name,
            monitoring=monitoring,
            instance_type=shared.instances.processing,
            allowed_instance_types=shared.instances.allowed,
            max_runtime_seconds=max_runtime_seconds,
            key=shared.key,
            artifact_bucket=shared.artifact_bucket,
            network=shared.network,
            publisher=publisher,
            model_package_group_name=shared.model_package_group_name,
            source_dir=source_dir,
            build_dir=build_dir,
            baselines=baselines,
        )
