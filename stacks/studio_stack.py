"""Studio stack: the VpcOnly SageMaker Studio domain, persona roles and user profiles."""

from __future__ import annotations

from typing import cast

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from contracts.config import PERSONAS, Persona, StudioConfig
from contracts.names import studio_domain_name, training_pipeline_name
from stacks.common.shared import SharedResources
from stacks.studio.acknowledgements import acknowledge_persona_role
from stacks.studio.domain import StudioDomain, StudioDomainProps, user_profile
from stacks.studio.persona_roles import PersonaRole, PersonaRoleProps


class StudioStack(cdk.Stack):
    """A Studio domain nobody reaches from the internet, with one role per persona.

    Attributes:
        domain: the ``AWS::SageMaker::Domain`` L1 (``attr_domain_id``, ``attr_domain_arn``).
        roles: the execution role of each persona (``data_scientist``, ``ml_engineer``).
        user_profiles: the ``AWS::SageMaker::UserProfile`` L1s by user name.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StudioConfig,
        shared: SharedResources,
        env: cdk.Environment | None = None,
        description: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id, env=env, description=description)
        network = shared.network
        personas: dict[Persona, PersonaRole] = {}
        for name in PERSONAS:
            persona = cast(Persona, name)
            personas[persona] = PersonaRole(
                self,
                "".join(part.capitalize() for part in persona.split("_")),
                props=PersonaRoleProps(
                    prefix=shared.prefix,
                    persona=persona,
                    artifact_bucket=shared.artifact_bucket,
                    key=shared.key,
                    model_package_group_name=shared.model_package_group_name,
                    vpc_id=network.vpc.vpc_id,
                    boundary=shared.job_boundary,
                    training_pipeline_name=training_pipeline_name(shared.prefix),
                ),
            )
        self.roles: dict[Persona, iam.IRole] = {name: p.role for name, p in personas.items()}
        self.personas = personas

        self.domain: sagemaker.CfnDomain = StudioDomain(
            self,
            "Studio",
            props=StudioDomainProps(
                domain_name=studio_domain_name(shared.prefix),
                vpc_id=network.vpc.vpc_id,
                subnet_ids=network.subnet_ids,
                security_group_id=network.security_group.security_group_id,
                kms_key_arn=shared.key.key_arn,
                # The least-privileged persona is the default for anyone without a profile role.
                default_execution_role_arn=personas["data_scientist"].role.role_arn,
                idle_timeout_minutes=config.idle_timeout_minutes,
            ),
        ).domain
        for role in personas.values():
            role.allow_studio_apps(self.domain.attr_domain_id, config.instance_types)
            acknowledge_persona_role(role, artifact_bucket=shared.artifact_bucket)

        self.user_profiles: dict[str, sagemaker.CfnUserProfile] = {
            user.name: user_profile(
                self,
                domain=self.domain,
                name=user.name,
                execution_role_arn=personas[user.persona].role.role_arn,
                security_group_id=network.security_group.security_group_id,
            )
            for user in config.users
        }
