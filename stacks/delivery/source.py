"""Where the delivery pipelines get the code: a CodeConnections repository, or an S3 object.

**Connection** (``delivery.source.connectionArn`` + ``repository`` in cdk.json): a
CodeConnections (GitHub, GitLab, Bitbucket) source. The build pipeline carries a V2 trigger whose
push filter names the branch and the file paths (``ml_code/**`` by default), so only pushes that
touch the ML code run it; the deploy pipeline reads the same branch without any trigger.

**Per use case** (:func:`use_case_delivery`): an additional use case with a code directory of its
own (``useCases.<name>.codeDir``) is built only on pushes under it (``<codeDir>/**``). One that
shares ``ml_code/`` triggers on the environment's file paths, as the project's own use case does:
a push to the shared code rebuilds (and retrains) every use case that runs it.

**S3 fallback** (no connection): a zip of the repository at ``source/<prefix>.zip`` in the
delivery bucket (versioned, KMS, TLS-only; no persona, job or endpoint role can write it, since
whatever lands there is built and deployed). Upload a commit with::

    git archive --format=zip -o /tmp/source.zip HEAD
    aws s3 cp /tmp/source.zip s3://<delivery bucket>/source/<prefix>.zip

The build pipeline *polls* that object (``PollForSourceChanges``): an S3 ``EVENTS`` trigger
would rely on a CloudTrail trail recording S3 data events for the bucket, which this project does
not create or assume. There is no file-path filter on this path: every upload runs the build.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_codepipeline_actions as actions
from aws_cdk import aws_s3 as s3

from contracts import layout
from contracts.config import DeliveryConfig, SourceConfig
from contracts.config.use_cases import DEFAULT_CODE_DIR, UseCase


def use_case_delivery(config: DeliveryConfig, case: UseCase) -> DeliveryConfig:
    """The environment's delivery ``config`` as ``case``'s build uses it: the push filter's file
    paths are ``<codeDir>/**`` when it has its own code, the environment's when it runs ``ml_code``."""
    if case.code_dir == DEFAULT_CODE_DIR:
        return config
    source = dataclasses.replace(config.source, file_paths=(f"{case.code_dir}/**",))
    return dataclasses.replace(config, source=source)


@dataclass(frozen=True, kw_only=True)
class SourceProps:
    """The configured source and, for the S3 fallback, the bucket holding the zip."""

    config: SourceConfig
    bucket: s3.IBucket
    prefix: str


class PipelineSource:
    """Makes the source action of each pipeline and the build pipeline's push trigger."""

    def __init__(self, props: SourceProps) -> None:
        self._props = props
        self.object_key = layout.source_object_key(props.prefix)

    @property
    def connected(self) -> bool:
        """True when a CodeConnections connection and repository are configured."""
        src = self._props.config
        return src.connection_arn is not None and src.repository is not None

    def action(self, output: codepipeline.Artifact, *, on_push: bool) -> codepipeline.IAction:
        """The source action writing ``output``; ``on_push`` False: runs only when started."""
        src = self._props.config
        if src.connection_arn is not None and src.repository is not None:
            owner, _, repo = src.repository.partition("/")
            return actions.CodeStarConnectionsSourceAction(
                action_name="Source",
                connection_arn=src.connection_arn,
                owner=owner,
                repo=repo,
                branch=src.branch,
                output=output,
                trigger_on_push=on_push,
            )
        return actions.S3SourceAction(
            action_name="Source",
            bucket=self._props.bucket,
            bucket_key=self.object_key,
            output=output,
            trigger=actions.S3Trigger.POLL if on_push else actions.S3Trigger.NONE,
        )

    def push_triggers(self, action: codepipeline.IAction) -> list[codepipeline.TriggerProps] | None:
        """The V2 trigger: pushes to the branch touching the file paths (None for the S3 fallback)."""
        if not self.connected:
            return None
        src = self._props.config
        return [
            codepipeline.TriggerProps(
                provider_type=codepipeline.ProviderType.CODE_STAR_SOURCE_CONNECTION,
                git_configuration=codepipeline.GitConfiguration(
                    source_action=action,
                    push_filter=[
                        codepipeline.GitPushFilter(
                            branches_includes=[src.branch],
                            file_paths_includes=list(src.file_paths),
                        )
                    ],
                ),
            )
        ]
