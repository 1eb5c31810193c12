"""Studio stack: the VpcOnly SageMaker Studio domain, persona roles and user profiles."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from contracts.config import Persona, StudioConfig
from contracts.names import studio_domain_name
from stacks.common.shared import SharedResources
from stacks.studio.domain import StudioDomain, StudioDomainProps
from stacks.studio.personas import open_studio, persona_roles, user_profiles


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
        personas = persona_roles(self, shared)
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
        open_studio(
            personas, shared, domain_id=self.domain.attr_domain_id, instance_types=config.instance_types
        )
        self.user_profiles: dict[str, sagemaker.CfnUserProfile] = user_profiles(
            self, domain=self.domain, users=config.users, personas=personas, shared=shared
        )

    def fence_off(self, use_case: str, prefix: str) -> None:
        """Keep every persona of the project's own use case out of ``use_case``'s ``<prefix>-*``
        names (:meth:`PersonaRole.fence_off`); its buckets and key are never granted here."""
        for persona in self.personas.values():
            persona.fence_off(use_case, prefix)
