"""Push → ``<prefix>-build``: test the pushed code, update the SageMaker pipeline, start one run.

The build does not wait for training: ``release.start_pipeline`` prints the execution ARN and its
console link into the build log and returns. Training, evaluation and registration run in
SageMaker; a registered version then waits for a person's approval in the Model Registry.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_codepipeline_actions as actions
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from contracts.names import build_pipeline_name
from stacks.delivery import commands, role_policies
from stacks.delivery.acknowledgements import acknowledge_artifact_grants
from stacks.delivery.build_project import BuildProject, BuildProjectProps
from stacks.delivery.codepipeline_v2 import v2_pipeline
from stacks.delivery.source import PipelineSource


@dataclass(frozen=True, kw_only=True)
class BuildPipelineProps:
    """Names, the source, and the resources the build uses."""

    prefix: str
    env_name: str
    training_pipeline_name: str
    source: PipelineSource
    key: kms.IKey
    #: The delivery bucket: the S3 source and every pipeline artifact (no persona or job writes it).
    delivery_bucket: s3.IBucket
    #: The tooling account's CDK bootstrap the pipeline stack deploys through (the use case's own).
    qualifier: str
    #: The environment has a tracking server: each execution names the pushed commit (``SourceCommit``).
    tracked: bool = False


class BuildPipeline(Construct):
    """The build CodePipeline (V2) and its CodeBuild project; ``pipeline`` and ``project`` exposed."""

    def __init__(self, scope: Construct, construct_id: str, *, props: BuildPipelineProps) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        build = BuildProject(
            self,
            "Build",
            props=BuildProjectProps(
                name=build_pipeline_name(props.prefix),
                commands=commands.build_commands(
                    env=props.env_name, prefix=props.prefix, tracked=props.tracked
                ),
                key=props.key,
                statements=[
                    role_policies.cdk_deploy(stack, qualifier=props.qualifier),
                    role_policies.start_pipeline(stack, props.training_pipeline_name),
                ],
            ),
        )
        acknowledge_artifact_grants(build, props.delivery_bucket)
        self.project = build.project
        source = codepipeline.Artifact("Source")
        source_action = props.source.action(source, on_push=True)
        self.pipeline = v2_pipeline(
            self,
            "Pipeline",
            name=build_pipeline_name(props.prefix),
            bucket=props.delivery_bucket,
            stages=[
                codepipeline.StageProps(stage_name="Source", actions=[source_action]),
                codepipeline.StageProps(
                    stage_name="TestAndTrain",
                    actions=[
                        actions.CodeBuildAction(
                            action_name="TestUpdateStart", project=build.project, input=source
                        )
                    ],
                ),
            ],
            triggers=props.source.push_triggers(source_action),
        )
