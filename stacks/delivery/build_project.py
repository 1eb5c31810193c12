"""One CodeBuild project of the delivery pipelines: pinned image, KMS, encrypted logs, narrow role."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import aws_cdk as cdk
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks.delivery import commands
from stacks.delivery.acknowledgements import acknowledge_project


@dataclass(frozen=True, kw_only=True)
class BuildProjectProps:
    """The commands a build runs and what its role may do (see :mod:`stacks.delivery.role_policies`)."""

    name: str
    commands: Sequence[str]
    key: kms.IKey
    statements: Sequence[iam.PolicyStatement] = ()
    #: Files (relative to the source root) the build hands to later actions.
    artifact_files: Sequence[str] = ()
    #: Environment variables exported as CodePipeline variables of the action.
    exported_variables: Sequence[str] = ()
    #: The project's own environment variables (plain text; values may be deploy-time tokens, which
    #: a buildspec string could not hold).
    variables: Mapping[str, str] = field(default_factory=dict)
    #: Build timeout (deploy builds wait for CloudFormation to finish an endpoint rollout).
    timeout_minutes: int = 60
    #: A fixed name for the build's role (a role in another account trusts it by name); None:
    #: CloudFormation generates one.
    role_name: str | None = None


class BuildProject(Construct):
    """A ``PipelineProject`` whose buildspec sets the project up with ``make setup`` first."""

    def __init__(self, scope: Construct, construct_id: str, *, props: BuildProjectProps) -> None:
        super().__init__(scope, construct_id)
        log_group = logs.LogGroup(
            self,
            "Logs",
            encryption_key=props.key,
            retention=logs.RetentionDays.ONE_YEAR,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        env: dict[str, object] = {"shell": "bash"}
        if props.exported_variables:
            env["exported-variables"] = list(props.exported_variables)
        spec: dict[str, object] = {
            "version": "0.2",
            "env": env,
            "phases": {
                "install": {
                    "runtime-versions": {"python": "3.11", "nodejs": "22"},
                    "commands": [commands.SETUP],
                },
                "build": {"commands": list(props.commands)},
            },
        }
        if props.artifact_files:
            spec["artifacts"] = {"files": list(props.artifact_files)}
        named = self._named_role(props.role_name)
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
            environment_variables={
                name: codebuild.BuildEnvironmentVariable(value=value)
                for name, value in props.variables.items()
            }
            or None,
            encryption_key=props.key,
            role=named,
            timeout=cdk.Duration.minutes(props.timeout_minutes),
            logging=codebuild.LoggingOptions(
                cloud_watch=codebuild.CloudWatchLoggingOptions(log_group=log_group)
            ),
        )
        role = self.project.role
        assert role is not None
        # A customer-managed policy (not CDK's inline DefaultPolicy) holds what the build does.
        iam.ManagedPolicy(self, "Policy", roles=[role], statements=list(props.statements))
        acknowledge_project(self.project, role=named)

    def _named_role(self, name: str | None) -> iam.IRole | None:
        """CodeBuild's service role under ``name``; None (the project makes its own) without one."""
        if name is None:
            return None
        return iam.Role(
            self, "Role", role_name=name, assumed_by=iam.ServicePrincipal("codebuild.amazonaws.com")
        )
