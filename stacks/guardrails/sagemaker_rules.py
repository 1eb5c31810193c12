"""The SageMaker pack's rules, in one list: :func:`rules`.

cdk-nag barely covers SageMaker, so these mirror the Security Hub SageMaker controls and the
Studio hardening guidance. The checks live by subject (:mod:`.studio_rules`,
:mod:`.endpoint_rules`, :mod:`.pipeline_rules`); :mod:`.rule_base` has the rule type and the one
policy for values that cannot be resolved at synth time. The list is written by subject too,
one entry per rule.
"""

from __future__ import annotations

from stacks.guardrails.endpoint_rules import (
    endpoint_config_kms,
    endpoint_redundancy_for,
    endpoint_rollback_alarms,
    model_network_isolation,
)
from stacks.guardrails.pipeline_rules import pipeline_jobs_encrypted
from stacks.guardrails.rule_base import Props, Resources, SageMakerRule
from stacks.guardrails.studio_rules import (
    domain_kms,
    domain_vpc_only,
    notebook_no_direct_internet,
    notebook_no_root,
)

__all__ = ["Props", "Resources", "SageMakerRule", "rules"]


def rules(*, production: bool) -> tuple[SageMakerRule, ...]:
    """Every rule, in report order (``production``: hold untagged endpoint configs to redundancy)."""
    return (*_studio_rules(), *_endpoint_rules(production=production), *_pipeline_rules())


def _studio_rules() -> list[SageMakerRule]:
    """The Studio domain and notebook instances."""
    return [
        SageMakerRule(
            rule_id="DomainVpcOnly",
            info="The Studio domain does not set AppNetworkAccessType to the literal VpcOnly.",
            explanation="PublicInternetOnly gives every Studio app a direct route to the internet, "
            "bypassing the VPC's endpoints, flow logs and security groups.",
            check=domain_vpc_only,
        ),
        SageMakerRule(
            rule_id="DomainKms",
            info="The Studio domain does not set KmsKeyId.",
            explanation="Users' home EFS volume and shared spaces should be encrypted with the "
            "project's customer-managed key, so access follows the key policy.",
            check=domain_kms,
        ),
        SageMakerRule(
            rule_id="NotebookNoRoot",
            info="The notebook instance does not set RootAccess to Disabled.",
            explanation="Root access lets a user change the instance, its network and its agents.",
            check=notebook_no_root,
        ),
        SageMakerRule(
            rule_id="NotebookNoDirectInternet",
            info="The notebook instance has direct internet access or no subnet.",
            explanation="Notebooks should reach AWS through the VPC only (Security Hub SageMaker.1/.2).",
            check=notebook_no_direct_internet,
        ),
    ]


def _endpoint_rules(*, production: bool) -> list[SageMakerRule]:
    """Models, endpoint configs and endpoints."""
    return [
        SageMakerRule(
            rule_id="ModelNetworkIsolation",
            info="The model does not set EnableNetworkIsolation to true.",
            explanation="Network isolation stops inference containers making outbound calls, "
            "so a compromised model cannot exfiltrate payloads.",
            check=model_network_isolation,
        ),
        SageMakerRule(
            rule_id="EndpointConfigKms",
            info="The endpoint config does not encrypt its storage or data capture with a KMS key.",
            explanation="Endpoint ML storage volumes and captured payloads hold customer data.",
            check=endpoint_config_kms,
        ),
        SageMakerRule(
            rule_id="EndpointRedundant",
            info="A prod-stage (or, untagged, production-environment) variant has "
            "InitialInstanceCount < 2 (or not a literal).",
            explanation="With one instance an AZ outage or instance failure takes the "
            "endpoint down (Security Hub SageMaker.4).",
            check=endpoint_redundancy_for(production),
        ),
        SageMakerRule(
            rule_id="EndpointRollbackAlarms",
            info="The endpoint has no AutoRollbackConfiguration, or a rollback alarm is not in its "
            "stack, has ActionsEnabled other than true, or has no AlarmActions.",
            explanation="Deployment guardrails only help if a bad version is rolled back and someone "
            "hears about it: rollback alarms must be reviewable with the endpoint and must act.",
            stack_check=endpoint_rollback_alarms,
        ),
    ]


def _pipeline_rules() -> list[SageMakerRule]:
    """The jobs of SageMaker pipelines."""
    return [
        SageMakerRule(
            rule_id="PipelineJobsEncrypted",
            info="A pipeline processing/training step lacks volume/output KMS keys or "
            "inter-container traffic encryption (or the definition cannot be read at synth).",
            explanation="Job volumes and outputs hold training data; traffic between instances "
            "of a distributed job should be encrypted.",
            check=pipeline_jobs_encrypted,
        ),
    ]
