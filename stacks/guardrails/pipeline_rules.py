"""Rules for SageMaker pipelines: processing and training steps encrypt volumes, outputs, traffic.

The definition is read from the synthesized ``PipelineDefinitionBody`` (a JSON string, or an
``Fn::Join``/``Fn::Sub`` around one); nested condition branches are checked too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Final

from stacks.guardrails.rule_base import NOT_APPLICABLE, Props, Result, literal, path, present

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
    body = path(props, "PipelineDefinition", "PipelineDefinitionBody")
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
        for keys, kind in checks:
            value = path(arguments, *keys)
            ok = present(value) if kind == "present" else literal(value, True)
            if keys[0] == "ProcessingOutputConfig" and not present(path(arguments, keys[0])):
                ok = True  # no outputs, nothing to encrypt
            if not ok:
                findings.append(f"{step.get('Name')}.{'.'.join(keys)}")
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
