"""One CodeBuild project of the delivery pipelines: pinned image, KMS, encrypted logs, narrow role."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks.delivery.acknowledgements import acknowledge_project

#: The CDK bootstrap roles (default qualifier) the CDK CLI assumes to publish assets and deploy.
BOOTSTRAP_ROLES: tuple[str, ...] = ("deploy", "file-publishing", "image-publishing", "lookup")


@dataclass(frozen=True, kw_only=True)
class BuildProjectProps:
    """The commands a build runs and what its role may do besides deploying through CDK."""

    name: str
    commands: Sequence[str]
    key: kms.IKey
    statements: Sequence[iam.PolicyStatement] = ()
    artifact_files: Sequence[str] = ()
    deploys_with_cdk: bool = True


class BuildProject(Construct):
    """A ``PipelineProject`` whose buildspec sets the project up with ``make setup`` first."""

    def __init__(self, scope: Construct, construct_id: str, *, props: BuildProjectProps) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        log_group = logs.LogGroup(
            self,
            "Logs",
            encryption_key=props.key,
            retention=logs.RetentionDays.ONE_YEAR,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        spec: dict[str, object] = {
            "version": "0.2",
            "env": {"shell": "bash"},
            "phases": {
                "install": {
                    "runtime-versions": {"python": "3.11", "nodejs": "20"},
                    "commands": ["make setup"],
                },
                "build": {"commands": list(props.commands)},
            },
        }
        if props.artifact_files:
            spec["artifacts"] = {"files": list(props.artifact_files)}
        self.project = codebuild.PipelineProject(
            self,
            "Project",
            project_name=props.name,
            build_spec=codebuild.BuildSpec.from_object(spec),
            environment=codebuild.BuildEnvironment(
                build_image=codebuild.LinuxBuildImage.STANDARD_7_0,
                compute_type=codebuild.ComputeType.MEDIUM,
                privileged=False,
            ),
            encryption_key=props.key,
            timeout=cdk.Duration.minutes(60),
            logging=codebuild.LoggingOptions(
                cloud_watch=codebuild.CloudWatchLoggingOptions(log_group=log_group)
            ),
        )
        role = self.project.role
        assert role is not None
        policy = iam.ManagedPolicy(self, "Policy", roles=[role])
        if props.deploys_with_cdk:
            policy.add_statements(
                iam.PolicyStatement(
                    sid="DeployThroughCdkBootstrapRoles",
                    actions=["sts:AssumeRole"],
                    resources=[
                        stack.format_arn(
                            service="iam",
                            region="",
                            resource="role",
                            resource_name=f"cdk-hnb659fds-{kind}-role-{stack.account}-{stack.region}",
                        )
                        for kind in BOOTSTRAP_ROLES
                    ],
                )
            )
        for statement in props.statements:
            policy.add_statements(statement)
        acknowledge_project(self.project)
