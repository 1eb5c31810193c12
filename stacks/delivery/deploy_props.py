"""What the deploy pipeline is built from: its stages, group, source and the resources its builds use."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns

from contracts.config import StageConfig
from stacks.delivery.source import PipelineSource
from stacks.delivery.stage_accounts import StageAccount


@dataclass(frozen=True, kw_only=True)
class DeployPipelineProps:
    """The two stages, the model group, the source and the resources the builds use."""

    prefix: str
    env_name: str
    group: str
    staging: StageConfig
    prod: StageConfig
    source: PipelineSource
    key: kms.IKey
    #: Read by the smoke test (the approved version's samples under pipeline-runs/).
    artifact_bucket: s3.IBucket
    #: The delivery bucket: source and pipeline artifacts.
    delivery_bucket: s3.IBucket
    approval_topic: sns.ITopic
    #: The tooling account's CDK bootstrap the endpoint stacks deploy through (the use case's own).
    qualifier: str
    #: The stages in other accounts (stage name -> what their build may reach there); empty: none.
    stage_accounts: Mapping[str, StageAccount] = field(default_factory=dict)
    #: The environment's MLflow tracking server; None: it has none (nothing is marked shipped).
    tracking_server_arn: str | None = None

    def smoke_role(self, stage: StageConfig) -> str | None:
        """The smoke role ``stage``'s build smoke-tests through; None in the tooling account."""
        into = self.stage_accounts.get(stage.name)
        return None if into is None else into.smoke_role
