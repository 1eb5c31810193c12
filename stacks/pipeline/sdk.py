"""The one place the SageMaker Python SDK (v3) is imported, made safe for an offline synth.

Importing ``sagemaker.mlops`` builds a ``boto3.client("sagemaker")`` at class-definition time
(``sagemaker.ai_registry.air_hub``), and building an SDK ``Session`` creates clients too.
Creating a client resolves credentials, and with none in the environment botocore asks the EC2
instance metadata service: a network call during ``cdk synth``. So the import runs while boto3's
default session is a throwaway one with static dummy credentials (restored right after), and
:func:`offline_session` hands the pipeline a session of the same kind. Those credentials never
sign a request: nothing here calls AWS.

The SDK also reads process configuration at import; the two variables it needs are set with
``setdefault`` (a value already in the process wins). That is process setup, not a lookup: no
value read here reaches the pipeline definition.
"""

from __future__ import annotations

import os
from typing import Any, Final

import boto3

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("SAGEMAKER_VALIDATE_ROLE", "false")

#: Region of the throwaway session. Nothing region-specific reaches the definition: images
#: resolve per region at deploy time (see ``images.py``).
_SESSION_REGION: Final = "us-east-1"
#: SDK defaults: explicit so no admin/user config file is read, and telemetry is off
#: (the SDK otherwise sends a usage event over the network on some calls).
_SDK_CONFIG: Final[dict[str, Any]] = {
    "SchemaVersion": "1.0",
    "SageMaker": {"PythonSDK": {"Modules": {"TelemetryOptOut": True}}},
}


def _throwaway_boto_session() -> boto3.Session:
    return boto3.Session(
        aws_access_key_id="offline-synth",
        aws_secret_access_key="offline-synth",  # noqa: S106 - a dummy; never signs a request
        region_name=_SESSION_REGION,
    )


_previous_default = boto3.DEFAULT_SESSION
boto3.DEFAULT_SESSION = _throwaway_boto_session()
try:
    from sagemaker.core.helper.session_helper import Session
    from sagemaker.core.workflow.conditions import ConditionGreaterThanOrEqualTo
    from sagemaker.core.workflow.execution_variables import ExecutionVariables
    from sagemaker.core.workflow.functions import Join, JsonGet
    from sagemaker.core.workflow.parameters import ParameterFloat, ParameterString
    from sagemaker.core.workflow.properties import Properties, PropertyFile
    from sagemaker.mlops.workflow.condition_step import ConditionStep
    from sagemaker.mlops.workflow.fail_step import FailStep
    from sagemaker.mlops.workflow.pipeline import Pipeline
    from sagemaker.mlops.workflow.steps import ConfigurableRetryStep, StepTypeEnum
finally:
    boto3.DEFAULT_SESSION = _previous_default


def offline_session() -> Any:
    """Return an SDK ``Session`` that cannot reach AWS or read SDK config files.

    Returns:
        A ``sagemaker.core.helper.session_helper.Session`` on a dummy-credential boto3 session.
    """
    return Session(boto_session=_throwaway_boto_session(), sagemaker_config=_SDK_CONFIG)


__all__ = [
    "ConditionGreaterThanOrEqualTo",
    "ConditionStep",
    "ConfigurableRetryStep",
    "ExecutionVariables",
    "FailStep",
    "Join",
    "JsonGet",
    "ParameterFloat",
    "ParameterString",
    "Pipeline",
    "Properties",
    "PropertyFile",
    "StepTypeEnum",
    "offline_session",
]
