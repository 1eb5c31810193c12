"""Our SageMaker rules, as pure functions over one resource's CloudFormation properties.

cdk-nag barely covers SageMaker, so these mirror the Security Hub SageMaker controls and the
Studio hardening guidance. Each rule takes the resource type and its *synthesized* properties
(CloudFormation casing, intrinsics left as ``{"Ref": ...}`` dicts) and returns:

* ``NOT_APPLICABLE`` — another resource type (or nothing to check);
* ``[]`` — compliant;
* a list of findings — one short location per problem (``"Preprocess.VolumeKmsKeyId"``).

How unresolvable values are treated (one policy for every rule):

* *presence* checks (a KMS key is set) accept any non-empty value, intrinsics included: a
  ``Ref``/``GetAtt``/pipeline parameter to a key is exactly what we want, and which key it is
  cannot be known before deploy;
* *value* checks (``VpcOnly``, ``true``, a count >= 2) need a literal. An intrinsic or pipeline
  parameter "cannot be verified" and is a finding, so a token can never bypass a rule silently;
  a reviewer who accepts it acknowledges it with a reason like any other finding.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

NOT_APPLICABLE: Final = None
Result = list[str] | None
Props = Mapping[str, Any]
Check = Callable[[str, Props], Result]


@dataclass(frozen=True, kw_only=True)
class SageMakerRule:
    """One rule: its id suffix, the explanation shown on a finding, and the check."""

    rule_id: str
    info: str
    explanation: str
    check: Callable[[str, Props], Result]


def _present(value: Any) -> bool:
    return value not in (None, "", [], {})


def _literal(value: Any, expected: Any) -> bool:
    """True only for the literal ``expected`` (case-insensitive for strings); intrinsics fail."""
    if isinstance(expected, str):
        return isinstance(value, str) and value.lower() == expected.lower()
    if isinstance(expected, bool):
        return value is expected or (isinstance(value, str) and value.lower() == str(expected).lower())
    return bool(value == expected)


def _path(props: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(props, Mapping):
            return None
        props = props.get(key)
    return props


# ---------------------------------------------------------------------------- Studio / notebooks


def domain_vpc_only(resource_type: str, props: Props) -> Result:
    """Studio domains send all traffic through the VPC (AppNetworkAccessType VpcOnly)."""
    if resource_type != "AWS::SageMaker::Domain":
        return NOT_APPLICABLE
    return [] if _literal(props.get("AppNetworkAccessType"), "VpcOnly") else ["AppNetworkAccessType"]


def domain_kms(resource_type: str, props: Props) -> Result:
    """Studio domain storage (home EFS, shared spaces) is encrypted with a customer-managed key."""
    if resource_type != "AWS::SageMaker::Domain":
        return NOT_APPLICABLE
    return [] if _present(props.get("KmsKeyId")) else ["KmsKeyId"]


def notebook_no_root(resource_type: str, props: Props) -> Result:
    """Notebook instances deny users root access (Security Hub SageMaker.3)."""
    if resource_type != "AWS::SageMaker::NotebookInstance":
        return NOT_APPLICABLE
    return [] if _literal(props.get("RootAccess"), "Disabled") else ["RootAccess"]


def notebook_no_direct_internet(resource_type: str, props: Props) -> Result:
    """Notebook instances have no direct internet access and sit in a subnet (SageMaker.1/.2)."""
    if resource_type != "AWS::SageMaker::NotebookInstance":
        return NOT_APPLICABLE
    findings = [] if _literal(props.get("DirectInternetAccess"), "Disabled") else ["DirectInternetAccess"]
    return findings if _present(props.get("SubnetId")) else [*findings, "SubnetId"]


# ---------------------------------------------------------------------------- models / endpoints


def model_network_isolation(resource_type: str, props: Props) -> Result:
    """Hosted models run with network isolation (EnableNetworkIsolation true)."""
    if resource_type != "AWS::SageMaker::Model":
        return NOT_APPLICABLE
    return [] if _literal(props.get("EnableNetworkIsolation"), True) else ["EnableNetworkIsolation"]


def endpoint_config_kms(resource_type: str, props: Props) -> Result:
    """Endpoint configs encrypt the attached ML storage (and data capture) with a KMS key."""
    if resource_type != "AWS::SageMaker::EndpointConfig":
        return NOT_APPLICABLE
    findings = [] if _present(props.get("KmsKeyId")) else ["KmsKeyId"]
    capture = props.get("DataCaptureConfig")
    if _present(capture) and not _present(_path(capture, "KmsKeyId")):
        findings.append("DataCaptureConfig.KmsKeyId")
    return findings


#: Tag the endpoint stacks put on endpoint configs: the stage (``staging``/``prod``) they serve.
STAGE_TAG: Final = "EndpointStage"


def _stage_tag(props: Props) -> str | None:
    tags = props.get("Tags")
    for tag in tags if isinstance(tags, list) else []:
        if isinstance(tag, Mapping) and tag.get("Key") == STAGE_TAG and isinstance(tag.get("Value"), str):
            return str(tag["Value"])
    return None


def endpoint_redundancy_for(production_env: bool) -> Check:
    """EndpointRedundant's check: a config tagged with its stage is held to it when the stage is
    ``prod``; an untagged config when the whole environment is production."""

    def check(resource_type: str, props: Props) -> Result:
        if resource_type != "AWS::SageMaker::EndpointConfig":
            return NOT_APPLICABLE
        stage = _stage_tag(props)
        if (stage == "prod") if stage is not None else production_env:
            return endpoint_config_redundant(resource_type, props)
        return NOT_APPLICABLE

    return check


def endpoint_config_redundant(resource_type: str, props: Props) -> Result:
    """Every instance-backed production variant runs >= 2 instances (SageMaker.4)."""
    if resource_type != "AWS::SageMaker::EndpointConfig":
        return NOT_APPLICABLE
    variants = props.get("ProductionVariants")
    if not isinstance(variants, list):
        return ["ProductionVariants"]
    findings = []
    for index, variant in enumerate(variants):
        name = _path(variant, "VariantName")
        label = name if isinstance(name, str) else str(index)
        if _present(_path(variant, "ServerlessConfig")):
            continue  # serverless variants scale themselves; no instance count
        count = _path(variant, "InitialInstanceCount")
        if not (isinstance(count, int) and not isinstance(count, bool) and count >= 2):
            findings.append(f"{label}.InitialInstanceCount")
    return findings


# ---------------------------------------------------------------------------- pipeline jobs

_JOB_CHECKS: Final[Mapping[str, tuple[tuple[tuple[str, ...], str], ...]]] = {
    # step type -> (property path inside Arguments, "present" or "true")
    "Processing": (
        (("ProcessingResources", "ClusterConfig", "VolumeKmsKeyId"), "present"),
        (("ProcessingOutputConfig", "KmsKeyId"), "present"),
        (("NetworkConfig", "EnableInterContainerTrafficEncryption"), "true"),
    ),
    "Training": (
        (("ResourceConfig", "VolumeKmsKeyId"), "present"),
        (("OutputDataConfig", "KmsKeyId"), "present"),
        (("EnableInterContainerTrafficEncryption",), "true"),
    ),
}


def pipeline_definition(props: Props) -> dict[str, Any] | None:
    """The pipeline definition as JSON, or None when it cannot be read at synth time.

    Accepts a plain JSON string, or ``Fn::Join`` / ``Fn::Sub`` around one: the intrinsic parts
    (bucket names, ARNs) sit inside JSON strings, so they are replaced by a placeholder.
    """
    body = _path(props, "PipelineDefinition", "PipelineDefinitionBody")
    text: str | None = None
    if isinstance(body, str):
        text = body
    elif isinstance(body, Mapping) and "Fn::Join" in body:
        delimiter, parts = body["Fn::Join"]
        text = str(delimiter).join(p if isinstance(p, str) else "INTRINSIC" for p in parts)
    elif isinstance(body, Mapping) and "Fn::Sub" in body:
        template = body["Fn::Sub"]
        template = template[0] if isinstance(template, list) else template
        text = re.sub(r"\$\{[^}!][^}]*\}", "INTRINSIC", str(template))
    if text is None:
        return None
    try:
        parsed = json.loads(text)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def pipeline_jobs_encrypted(resource_type: str, props: Props) -> Result:
    """Processing and training steps encrypt volumes, outputs and inter-container traffic."""
    if resource_type != "AWS::SageMaker::Pipeline":
        return NOT_APPLICABLE
    if "PipelineDefinitionBody" not in (props.get("PipelineDefinition") or {}):
        return ["PipelineDefinition(S3 location: cannot verify)"]
    definition = pipeline_definition(props)
    if definition is None:
        return ["PipelineDefinitionBody(unreadable)"]
    findings = []
    for step in _steps(definition.get("Steps", [])):
        checks = _JOB_CHECKS.get(str(step.get("Type")), ())
        arguments = step.get("Arguments")
        for path, kind in checks:
            value = _path(arguments, *path)
            ok = _present(value) if kind == "present" else _literal(value, True)
            if path[0] == "ProcessingOutputConfig" and not _present(_path(arguments, path[0])):
                ok = True  # no outputs, nothing to encrypt
            if not ok:
                findings.append(f"{step.get('Name')}.{'.'.join(path)}")
    return findings


def _steps(steps: Any) -> list[Mapping[str, Any]]:
    """Every step, including those nested in condition steps' branches."""
    found: list[Mapping[str, Any]] = []
    for step in steps if isinstance(steps, list) else []:
        if not isinstance(step, Mapping):
            continue
        found.append(step)
        arguments = step.get("Arguments")
        if step.get("Type") == "Condition" and isinstance(arguments, Mapping):
            found += _steps(arguments.get("IfSteps")) + _steps(arguments.get("ElseSteps"))
    return found


def rules(*, production: bool) -> tuple[SageMakerRule, ...]:
    """The rules that apply to one environment (redundancy only matters in production)."""
    all_rules = [
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
            rule_id="PipelineJobsEncrypted",
            info="A pipeline processing/training step lacks volume/output KMS keys or "
            "inter-container traffic encryption (or the definition cannot be read at synth).",
            explanation="Job volumes and outputs hold training data; traffic between instances "
            "of a distributed job should be encrypted.",
            check=pipeline_jobs_encrypted,
        ),
    ]
    all_rules.append(
        SageMakerRule(
            rule_id="EndpointRedundant",
            info="A prod-stage (or, untagged, production-environment) variant has "
            "InitialInstanceCount < 2 (or not a literal).",
            explanation="With one instance an AZ outage or instance failure takes the "
            "endpoint down (Security Hub SageMaker.4).",
            check=endpoint_redundancy_for(production),
        )
    )
    return tuple(all_rules)
