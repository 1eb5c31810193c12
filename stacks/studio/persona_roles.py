"""Per-persona SageMaker execution roles: what a Studio user (and the jobs they start) may do.

The trust boundaries they hold (README "Security model"; tests/security pins each as requests):

- **Storage**: read the training data, runs and drift reports; write only ``data/`` and the
  persona's own ``workspace/<persona>/`` (``contracts.layout``). Nothing on the delivery
  bucket (the build's source and CodePipeline artifacts), nothing under ``pipeline-runs/`` (the
  bucket policy denies it too), no captured traffic.
- **Jobs**: only in the project's subnets and security group, volumes and outputs under the data
  key, network-isolated, inter-container encrypted, on the configured instance types
  (:mod:`stacks.common.job_conditions`).
- **Registry**: versions are registered by the training pipeline only (as
  ``PendingManualApproval``): a hand-registered package could name a model file in a workspace
  its author may overwrite after approval, or any image. Only the ``approver`` persona changes a
  version's status, and it may not use shared spaces (whose apps run as the default role).
- **Endpoints**: the stage endpoints are CloudFormation's alone (the deploy pipeline). An ML
  engineer may run ad-hoc endpoints named ``<prefix>-sandbox-*``, held to the same VPC, isolation,
  key and instance-type conditions.
- **Studio**: spaces and apps follow AWS's owner pattern (a user changes only spaces it owns).

No AWS managed policy is attached; each concern is one customer-managed policy so that a finding
about a wildcard is acknowledged on exactly the policy that needs it. The storage statements are
here, the SageMaker ones in :mod:`.persona_sagemaker`, the runtime and Studio ones in
:mod:`.persona_statements`.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import aws_iam as iam
from constructs import Construct

from contracts import layout
from contracts.config import Persona
from stacks.studio.persona_props import BUILDERS, PersonaRoleProps
from stacks.studio.persona_sagemaker import fence_statement, sagemaker_statements
from stacks.studio.persona_statements import runtime_statements, studio_statements

__all__ = ["BUILDERS", "PersonaRole", "PersonaRoleProps"]


class PersonaRole(Construct):
    """An execution role for Studio apps and the jobs a persona starts from them.

    Attributes:
        role: the IAM role (trusted by sagemaker.amazonaws.com).
        policies: the customer-managed policies by concern (``storage``, ``sagemaker``,
            ``runtime``); ``studio_ui`` is added by :meth:`allow_studio_apps`, ``fence`` by
            :meth:`fence_off`.
    """

    def __init__(self, scope: Construct, construct_id: str, *, props: PersonaRoleProps) -> None:
        super().__init__(scope, construct_id)
        self._props = props
        self.prefix = props.prefix
        self.persona: Persona = props.persona
        self.builder = props.persona in BUILDERS
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=f"{props.prefix} {props.persona}: Studio apps and the jobs they start",
        )
        self.policies: dict[str, iam.ManagedPolicy] = {}
        self._policy("storage", self._storage_statements())
        self._policy("sagemaker", sagemaker_statements(props, role_arn=self.role.role_arn))
        if self.builder:  # the approver starts no jobs, so needs no job runtime
            self._policy("runtime", runtime_statements(props.prefix, props.vpc_id))

    def allow_studio_apps(
        self, domain_id: str, instance_types: Sequence[str], *, shared_spaces: bool = True
    ) -> iam.ManagedPolicy:
        """Let the persona run Studio apps (on ``instance_types``) and its own spaces in ``domain_id``
        (shared ones too if a builder and ``shared_spaces``)."""
        return self._policy(
            "studio_ui",
            studio_statements(
                domain_id, shared_spaces=self.builder and shared_spaces, instance_types=instance_types
            ),
        )

    def fence_off(self, use_case: str, prefix: str) -> None:
        """Deny the persona every SageMaker and ECR action on ``use_case``'s names (``<prefix>-*``).

        The project's own personas reach ``<project>-<env>-*``, which an additional use case's
        ``<project>-<env>-<use case>-*`` names fall under: its pipelines, endpoints, jobs, registry.
        """
        statement = fence_statement(use_case, prefix)
        if "fence" in self.policies:
            self.policies["fence"].add_statements(statement)
        else:
            self._policy("fence", [statement])

    # ------------------------------------------------------------------ statements

    def _storage_statements(self) -> list[iam.PolicyStatement]:
        p = self._props
        bucket = p.artifact_bucket
        own = layout.workspace_prefix(p.persona)
        readable = [layout.RUNS_PREFIX, layout.CHECKS_PREFIX]
        if self.builder:
            readable += [layout.DATA_PREFIX, layout.INTERMEDIATES_PREFIX, own]
        statements = [
            iam.PolicyStatement(
                sid="ListOwnPrefixes",
                actions=["s3:ListBucket"],
                resources=[bucket.bucket_arn],
                conditions={"StringLike": {"s3:prefix": [f"{prefix}*" for prefix in readable]}},
            ),
            iam.PolicyStatement(
                sid="Read",
                actions=["s3:GetObject", "s3:GetObjectVersion"],
                resources=[bucket.arn_for_objects(f"{prefix}*") for prefix in readable],
            ),
            iam.PolicyStatement(
                sid="FindBucket", actions=["s3:GetBucketLocation"], resources=[bucket.bucket_arn]
            ),
            iam.PolicyStatement(
                sid="UseDataKey",
                actions=["kms:Decrypt", "kms:DescribeKey"]
                + (["kms:Encrypt", "kms:GenerateDataKey"] if self.builder else []),
                resources=[p.key.key_arn],
            ),
        ]
        if not self.builder:
            return statements
        writable = [layout.DATA_PREFIX, own]
        statements += [
            iam.PolicyStatement(
                sid="WriteDataAndOwnWorkspace",
                actions=["s3:PutObject", "s3:AbortMultipartUpload"],
                resources=[bucket.arn_for_objects(f"{prefix}*") for prefix in writable],
            ),
            iam.PolicyStatement(
                sid="DeleteInOwnWorkspace",
                actions=["s3:DeleteObject"],
                # ML engineers curate the shared data; everyone tidies their own workspace.
                resources=[
                    bucket.arn_for_objects(f"{prefix}*")
                    for prefix in (writable if p.persona == "ml_engineer" else [own])
                ],
            ),
            # Training/processing volumes are encrypted by SageMaker on the caller's behalf.
            iam.PolicyStatement(
                sid="GrantKeyToJobVolumes",
                actions=["kms:CreateGrant"],
                resources=[p.key.key_arn],
                conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}},
            ),
        ]
        return statements

    def _policy(self, concern: str, statements: list[iam.PolicyStatement]) -> iam.ManagedPolicy:
        policy = iam.ManagedPolicy(
            self,
            "".join(part.capitalize() for part in concern.split("_")) + "Policy",
            statements=statements,
            roles=[self.role],
        )
        self.policies[concern] = policy
        return policy
