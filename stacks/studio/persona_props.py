"""What one persona's role is built from (:class:`PersonaRoleProps`), and which personas build."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from contracts.config import Persona
from stacks.common.job_conditions import JobBoundary

#: Builders register and train; the approver only reviews.
BUILDERS: tuple[Persona, ...] = ("data_scientist", "ml_engineer")


@dataclass(frozen=True, kw_only=True)
class PersonaRoleProps:
    """What one persona's role may touch."""

    prefix: str
    persona: Persona
    artifact_bucket: s3.IBucket
    key: kms.IKey
    model_package_group_name: str
    vpc_id: str
    boundary: JobBoundary
    training_pipeline_name: str
