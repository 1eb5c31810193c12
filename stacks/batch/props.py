"""What a batch scoring pipeline is built from (:class:`stacks.batch.pipeline.BatchPipeline`)."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import aws_s3_assets as s3_assets

from contracts.config import BatchConfig, MonitoringConfig
from stacks.common.shared import SharedResources


@dataclass(frozen=True, kw_only=True)
class BatchScoring:
    """The environment's ``batch`` section and the drift settings its reports use."""

    config: BatchConfig
    monitoring: MonitoringConfig


def batch_scoring(config: BatchConfig, monitoring: MonitoringConfig) -> BatchScoring | None:
    """:class:`BatchScoring` when ``config.enabled``, else None (no batch pipeline, nothing changes)."""
    return BatchScoring(config=config, monitoring=monitoring) if config.enabled else None


@dataclass(frozen=True, kw_only=True)
class BatchPipelineProps:
    """Where the pipeline runs, what it may touch, and the use case's problem type."""

    name: str
    scoring: BatchScoring
    shared: SharedResources
    #: The training pipeline's source bundle (ScoreReport runs from it).
    bundle: s3_assets.Asset
    #: The training pipeline's ``ProblemType`` default (the use case's).
    problem_type: str
    #: ScoreReport's time limit (``pipeline.maxRuntimeSeconds``); the Transform job has none of its own.
    max_runtime_seconds: int

    @property
    def instance_type(self) -> str:
        """The Transform job's instance type (``batch.instanceType``, else ``instances.endpoint``).

        Raises:
            ValueError: it is not in the use case's ``instances.allowed``.
        """
        instances = self.shared.instances
        chosen = self.scoring.config.instance_type_or(instances.endpoint)
        if chosen not in instances.allowed:
            raise ValueError(
                f"batch.instanceType {chosen} is not in instances.allowed ({', '.join(instances.allowed)}) "
                f"of {self.shared.prefix}"
            )
        return chosen
