"""The EventBridge detail types of the AWS events the platform's rules match (AWS's spelling)."""

from __future__ import annotations

from typing import Final

#: A CloudWatch alarm changed state.
ALARM_EVENT: Final = "CloudWatch Alarm State Change"
#: A SageMaker pipeline execution changed status.
PIPELINE_EVENT: Final = "SageMaker Model Building Pipeline Execution Status Change"
