"""An additional use case's Studio access: its persona roles and user profiles in the platform's domain.

``<project>-<env>-<use case>-studio`` (issue 18). Its own stack rather than part of the use case's
data stack: user profiles and role policies change with the team, the data stack is stateful
(RETAIN, pinned logical IDs) and must not depend on the platform's Studio stack, nor be updated
when someone joins. This stack depends on the platform's Studio stack (the domain ID) and the use
case's data stack, never the other way.
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from contracts.config import Persona, StudioConfig, StudioUser
from stacks.common.shared import SharedResources
from stacks.studio.persona_roles import PersonaRole
from stacks.studio.personas import open_studio, persona_roles, user_profiles


class UseCaseStudioStack(cdk.Stack):
    """One role per persona scoped to the use case's own data stores, group, pipeline and endpoints,
    and a user profile per configured user in the platform's Studio ``domain``.

    Attributes:
        personas: the persona roles by persona.
        user_profiles: the ``AWS::SageMaker::UserProfile`` L1s by user name.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StudioConfig,
        users: Sequence[StudioUser],
        shared: SharedResources,
        domain: sagemaker.CfnDomain,
        env: cdk.Environment | None = None,
        description: str | None = None,
        synthesizer: cdk.IStackSynthesizer | None = None,
    ) -> None:
        super().__init__(scope, construct_id, env=env, synthesizer=synthesizer, description=description)
        self.personas: dict[Persona, PersonaRole] = persona_roles(self, shared)
        # Private spaces only: a shared space's apps run as the domain's default space role, the
        # project's own data scientist's (its data, its pipeline).
        open_studio(
            self.personas,
            shared,
            domain_id=domain.attr_domain_id,
            instance_types=config.instance_types,
            shared_spaces=False,
        )
        self.user_profiles: dict[str, sagemaker.CfnUserProfile] = user_profiles(
            self, domain=domain, users=users, personas=self.personas, shared=shared
        )
