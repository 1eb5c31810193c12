"""Rules for hosted models, endpoint configs and endpoints.

* models run with network isolation;
* endpoint configs encrypt their storage, and the data they capture, with a KMS key;
* endpoint configs of the ``prod`` stage (tagged :data:`STAGE_TAG` by the endpoint stacks) run
  every instance variant on >= 2 instances (Security Hub SageMaker.4);
* endpoints roll updates back on CloudWatch alarms of their own stack whose actions are enabled
  and notify someone (AWS samples ship these alarms with actions disabled).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from stacks.guardrails.rule_base import (
    NOT_APPLICABLE,
    Check,
    Props,
    Resources,
    Result,
    literal,
    path,
    present,
)

#: Tag the endpoint stacks put on endpoint configs: the stage (``staging``/``prod``) they serve.
STAGE_TAG: Final = "EndpointStage"
#: The stage held to the redundancy rule wherever it runs.
PRODUCTION_STAGE: Final = "prod"
_ALARM_TYPES: Final = ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm")


def model_network_isolation(resource_type: str, props: Props) -> Result:
    """Hosted models run with network isolation (EnableNetworkIsolation true)."""
    if resource_type != "AWS::SageMaker::Model":
        return NOT_APPLICABLE
    return [] if literal(props.get("EnableNetworkIsolation"), True) else ["EnableNetworkIsolation"]


def endpoint_config_kms(resource_type: str, props: Props) -> Result:
    """Endpoint configs encrypt the attached ML storage, and captured data when capture is on."""
    if resource_type != "AWS::SageMaker::EndpointConfig":
        return NOT_APPLICABLE
    findings = [] if present(props.get("KmsKeyId")) else ["KmsKeyId"]
    capture = props.get("DataCaptureConfig")
    capturing = present(capture) and not literal(path(capture, "EnableCapture"), False)
    if capturing and not present(path(capture, "KmsKeyId")):
        findings.append("DataCaptureConfig.KmsKeyId")
    return findings


def stage_of(props: Props) -> str | None:
    """The :data:`STAGE_TAG` value of an endpoint config, or None (untagged or not a literal)."""
    tags = props.get("Tags")
    for tag in tags if isinstance(tags, list) else []:
        if isinstance(tag, Mapping) and tag.get("Key") == STAGE_TAG and isinstance(tag.get("Value"), str):
            return str(tag["Value"])
    return None


def endpoint_redundancy_for(production_env: bool) -> Check:
    """EndpointRedundant's check: a config tagged with its stage is held to it when the stage is
    ``prod``, wherever it runs; an untagged config when the whole environment is production."""

    def check(resource_type: str, props: Props) -> Result:
        if resource_type != "AWS::SageMaker::EndpointConfig":
            return NOT_APPLICABLE
        stage = stage_of(props)
        if (stage == PRODUCTION_STAGE) if stage is not None else production_env:
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
        name = path(variant, "VariantName")
        label = name if isinstance(name, str) else str(index)
        if present(path(variant, "ServerlessConfig")):
            continue  # serverless variants scale themselves; no instance count
        count = path(variant, "InitialInstanceCount")
        if not (isinstance(count, int) and not isinstance(count, bool) and count >= 2):
            findings.append(f"{label}.InitialInstanceCount")
    return findings


def endpoint_rollback_alarms(resource_type: str, props: Props, resources: Resources) -> Result:
    """Endpoints roll back on alarms defined in their own stack, with actions enabled (the
    CloudFormation default when ``ActionsEnabled`` is left out) and at least one alarm action."""
    if resource_type != "AWS::SageMaker::Endpoint":
        return NOT_APPLICABLE
    alarms = path(props, "DeploymentConfig", "AutoRollbackConfiguration", "Alarms")
    if not isinstance(alarms, list) or not alarms:
        return ["DeploymentConfig.AutoRollbackConfiguration"]
    findings = []
    for index, entry in enumerate(alarms):
        name = path(entry, "AlarmName")
        found = _alarm(resources, name)
        if found is None:
            label = name if isinstance(name, str) else f"Alarms[{index}]"
            findings.append(f"{label}(not an alarm of this stack: cannot verify)")
            continue
        logical_id, alarm = found
        if "ActionsEnabled" in alarm and not literal(alarm["ActionsEnabled"], True):
            findings.append(f"{logical_id}.ActionsEnabled")
        if not present(alarm.get("AlarmActions")):
            findings.append(f"{logical_id}.AlarmActions")
    return findings


def _alarm(resources: Resources, name: Any) -> tuple[str, Mapping[str, Any]] | None:
    """The alarm ``name`` refers to (``{"Ref": <logical id>}`` or a literal AlarmName), if in the stack."""
    alarms = {
        logical_id: resource.get("Properties") or {}
        for logical_id, resource in resources.items()
        if isinstance(resource, Mapping) and resource.get("Type") in _ALARM_TYPES
    }
    if isinstance(name, Mapping) and set(name) == {"Ref"} and name["Ref"] in alarms:
        return str(name["Ref"]), alarms[name["Ref"]]
    if isinstance(name, str):
        for logical_id, alarm in alarms.items():
            if alarm.get("AlarmName") == name:
                return logical_id, alarm
    return None
