"""A use case's Studio personas: one role each, opened to the domain, and the users who run as them.

The project's own Studio stack (:mod:`stacks.studio_stack`) and an additional use case's
(:mod:`stacks.use_case_studio_stack`) build their personas the same way, each from its own
:class:`~stacks.common.shared.SharedResources`: the roles reach that use case's bucket, key, model
package group, training pipeline and ``<prefix>-*`` names, and nothing of another use case.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import cast

from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from contracts.config import PERSONAS, Persona, StudioUser
from contracts.names import training_pipeline_name
from stacks.common.shared import SharedResources
from stacks.studio.acknowledgements import acknowledge_persona_role
from stacks.studio.domain import user_profile
from stacks.studio.persona_roles import PersonaRole, PersonaRoleProps
from stacks.tracking.access import attach_tracking_policy


def persona_roles(scope: Construct, shared: SharedResources) -> dict[Persona, PersonaRole]:
    """One :class:`PersonaRole` per persona (construct IDs ``DataScientist``, ``MlEngineer``,
    ``Approver``) scoped to ``shared``'s prefix, data stores, group and training pipeline."""
    personas: dict[Persona, PersonaRole] = {}
    for name in PERSONAS:
        persona = cast(Persona, name)
        personas[persona] = PersonaRole(
            scope,
            "".join(part.capitalize() for part in persona.split("_")),
            props=PersonaRoleProps(
                prefix=shared.prefix,
                persona=persona,
                artifact_bucket=shared.artifact_bucket,
                key=shared.key,
                model_package_group_name=shared.model_package_group_name,
                vpc_id=shared.network.vpc.vpc_id,
                boundary=shared.job_boundary,
                training_pipeline_name=training_pipeline_name(shared.prefix),
            ),
        )
        if shared.tracking_server_name is not None:  # builders log runs, the approver reads them
            attach_tracking_policy(
                personas[persona],
                "TrackingPolicy",
                role=personas[persona].role,
                server_name=shared.tracking_server_name,
                bucket=shared.artifact_bucket,
                write=persona != "approver",
            )
    return personas


def open_studio(
    personas: Mapping[Persona, PersonaRole],
    shared: SharedResources,
    *,
    domain_id: str,
    instance_types: Sequence[str],
    shared_spaces: bool = True,
) -> None:
    """Let each persona run Studio apps in ``domain_id`` (acknowledging its wildcards).

    ``shared_spaces`` False: private spaces only, for every persona. A shared space's apps run as
    the domain's default space role, the project's own data scientist's: an additional use case's
    user there would work as the project's own use case.
    """
    for role in personas.values():
        role.allow_studio_apps(domain_id, instance_types, shared_spaces=shared_spaces)
        acknowledge_persona_role(role, artifact_bucket=shared.artifact_bucket, domain_id=domain_id)


def user_profiles(
    scope: Construct,
    *,
    domain: sagemaker.CfnDomain,
    users: Sequence[StudioUser],
    personas: Mapping[Persona, PersonaRole],
    shared: SharedResources,
) -> dict[str, sagemaker.CfnUserProfile]:
    """A user profile in ``domain`` per user, running as its persona's role, by user name."""
    return {
        user.name: user_profile(
            scope,
            domain=domain,
            name=user.name,
            execution_role_arn=personas[user.persona].role.role_arn,
            security_group_id=shared.network.security_group.security_group_id,
        )
        for user in users
    }
