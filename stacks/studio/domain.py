"""A locked-down SageMaker Studio domain: VpcOnly, IAM auth, CMK storage, idle shutdown."""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct


@dataclass(frozen=True, kw_only=True)
class StudioDomainProps:
    """Everything the domain is wired to; values, not config."""

    domain_name: str
    vpc_id: str
    subnet_ids: list[str]
    security_group_id: str
    kms_key_arn: str
    default_execution_role_arn: str
    idle_timeout_minutes: int


def idle_shutdown(timeout_minutes: int) -> sagemaker.CfnDomain.AppLifecycleManagementProperty:
    """Built-in idle shutdown: apps stop after ``timeout_minutes``; users may only shorten it."""
    return sagemaker.CfnDomain.AppLifecycleManagementProperty(
        idle_settings=sagemaker.CfnDomain.IdleSettingsProperty(
            lifecycle_management="ENABLED",
            idle_timeout_in_minutes=timeout_minutes,
            min_idle_timeout_in_minutes=60,
            max_idle_timeout_in_minutes=timeout_minutes,
        )
    )


class StudioDomain(Construct):
    """The ``AWS::SageMaker::Domain`` (logical ID pinned to ``StudioDomain``, retained).

    Attributes:
        domain: the L1 domain; ``domain.attr_domain_id`` / ``attr_domain_arn`` for wiring.
    """

    def __init__(self, scope: Construct, construct_id: str, *, props: StudioDomainProps) -> None:
        super().__init__(scope, construct_id)
        lifecycle = idle_shutdown(props.idle_timeout_minutes)
        security_groups = [props.security_group_id]
        self.domain = sagemaker.CfnDomain(
            self,
            "Domain",
            domain_name=props.domain_name,
            auth_mode="IAM",
            # No direct internet: every app reaches AWS through the VPC's endpoints only.
            app_network_access_type="VpcOnly",
            vpc_id=props.vpc_id,
            subnet_ids=props.subnet_ids,
            kms_key_id=props.kms_key_arn,
            tag_propagation="ENABLED",
            domain_settings=sagemaker.CfnDomain.DomainSettingsProperty(
                security_group_ids=security_groups,
                docker_settings=sagemaker.CfnDomain.DockerSettingsProperty(enable_docker_access="DISABLED"),
            ),
            default_user_settings=sagemaker.CfnDomain.UserSettingsProperty(
                execution_role=props.default_execution_role_arn,
                security_groups=security_groups,
                studio_web_portal="ENABLED",
                default_landing_uri="studio::",
                jupyter_lab_app_settings=sagemaker.CfnDomain.JupyterLabAppSettingsProperty(
                    app_lifecycle_management=lifecycle
                ),
                code_editor_app_settings=sagemaker.CfnDomain.CodeEditorAppSettingsProperty(
                    app_lifecycle_management=lifecycle
                ),
            ),
            default_space_settings=sagemaker.CfnDomain.DefaultSpaceSettingsProperty(
                execution_role=props.default_execution_role_arn,
                security_groups=security_groups,
                jupyter_lab_app_settings=sagemaker.CfnDomain.JupyterLabAppSettingsProperty(
                    app_lifecycle_management=lifecycle
                ),
            ),
        )
        # CloudFormation has no HomeEfsFileSystem retention property (only the DeleteDomain API
        # does), so RETAIN on the domain is what keeps users' home EFS volume.
        self.domain.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
        self.domain.override_logical_id("StudioDomain")


def user_profile(
    scope: Construct,
    *,
    domain: sagemaker.CfnDomain,
    name: str,
    execution_role_arn: str,
    security_group_id: str,
) -> sagemaker.CfnUserProfile:
    """A Studio user profile running with its persona's execution role (tagged by the stack)."""
    return sagemaker.CfnUserProfile(
        scope,
        f"User{''.join(part.capitalize() for part in name.split('-'))}",
        domain_id=domain.attr_domain_id,
        user_profile_name=name,
        user_settings=sagemaker.CfnUserProfile.UserSettingsProperty(
            execution_role=execution_role_arn,
            security_groups=[security_group_id],
        ),
    )
