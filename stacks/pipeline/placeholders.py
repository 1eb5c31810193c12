"""What only CloudFormation knows, as ``${Name}`` placeholders in a pipeline definition.

Both pipelines (training, drift check) are built at synth as JSON whose role, key, bucket, code
location, image registry and network are ``${Name}`` placeholders; ``PipelineDefinitionBody`` is
an ``Fn::Sub`` of that JSON with :meth:`DeployValues.variables` (``AWS::Region`` and
``AWS::URLSuffix`` are CloudFormation's own), so the template carries the definition as one
string and deploys to any account and region.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import aws_cdk as cdk

from stacks.common.images import image_uri
from stacks.pipeline.requests import JobSettings


def var(name: str) -> str:
    """The placeholder ``${name}``."""
    return "${" + name + "}"


def job_settings(*, subnet_count: int, max_runtime_seconds: int) -> JobSettings:
    """What every job shares, as placeholders for :meth:`DeployValues.variables`."""
    return JobSettings(
        role_arn=var("RoleArn"),
        kms_key_arn=var("KmsKeyArn"),
        image_uri=image_uri(var("ImageRegistry"), var("AWS::Region"), var("AWS::URLSuffix")),
        subnet_ids=tuple(var(f"Subnet{i}") for i in range(subnet_count)),
        security_group_ids=(var("SecurityGroup"),),
        max_runtime_seconds=max_runtime_seconds,
    )


@dataclass(frozen=True, kw_only=True)
class DeployValues:
    """The values (tokens) the placeholders stand for."""

    artifact_bucket: str
    code_bucket: str
    image_registry: str
    key_arn: str
    role_arn: str
    security_group_id: str
    subnet_ids: Sequence[str]
    #: Placeholders only one pipeline has (the model package group, the drift check's functions).
    extra: Mapping[str, str] = field(default_factory=dict)

    def variables(self) -> dict[str, str]:
        """Placeholder name -> value: the names in alphabetical order, then ``Subnet0``, ``Subnet1``, ..."""
        named = {
            "ArtifactBucket": self.artifact_bucket,
            "CodeBucket": self.code_bucket,
            "ImageRegistry": self.image_registry,
            "KmsKeyArn": self.key_arn,
            "RoleArn": self.role_arn,
            "SecurityGroup": self.security_group_id,
            **self.extra,
        }
        return {**dict(sorted(named.items())), **{f"Subnet{i}": s for i, s in enumerate(self.subnet_ids)}}

    def definition_body(self, definition: str) -> str:
        """``PipelineDefinitionBody``: ``Fn::Sub`` of ``definition`` with :meth:`variables`."""
        return cdk.Fn.sub(definition, self.variables())
