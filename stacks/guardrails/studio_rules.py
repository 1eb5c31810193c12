"""Rules for Studio domains and notebook instances (Security Hub SageMaker.1-.3, Studio hardening)."""

from __future__ import annotations

from stacks.guardrails.rule_base import NOT_APPLICABLE, Props, Result, literal, present


def domain_vpc_only(resource_type: str, props: Props) -> Result:
    """Studio domains send all traffic through the VPC (AppNetworkAccessType VpcOnly)."""
    if resource_type != "AWS::SageMaker::Domain":
        return NOT_APPLICABLE
    return [] if literal(props.get("AppNetworkAccessType"), "VpcOnly") else ["AppNetworkAccessType"]


def domain_kms(resource_type: str, props: Props) -> Result:
    """Studio domain storage (home EFS, shared spaces) is encrypted with a customer-managed key."""
    if resource_type != "AWS::SageMaker::Domain":
        return NOT_APPLICABLE
    return [] if present(props.get("KmsKeyId")) else ["KmsKeyId"]


def notebook_no_root(resource_type: str, props: Props) -> Result:
    """Notebook instances deny users root access (Security Hub SageMaker.3)."""
    if resource_type != "AWS::SageMaker::NotebookInstance":
        return NOT_APPLICABLE
    return [] if literal(props.get("RootAccess"), "Disabled") else ["RootAccess"]


def notebook_no_direct_internet(resource_type: str, props: Props) -> Result:
    """Notebook instances have no direct internet access and sit in a subnet (SageMaker.1/.2)."""
    if resource_type != "AWS::SageMaker::NotebookInstance":
        return NOT_APPLICABLE
    findings = [] if literal(props.get("DirectInternetAccess"), "Disabled") else ["DirectInternetAccess"]
    return findings if present(props.get("SubnetId")) else [*findings, "SubnetId"]
