"""The EventBridge source and detail types the platform's rules match: AWS's events (AWS's
spelling) and the one event of our own, a stage account's persistent drift.

The Lambda functions cannot import this module (their asset carries ``contracts.names`` only):
``functions/retrain_trigger.py`` and ``functions/drift_metrics.py`` spell the values again, and
tests pin them equal.
"""

from __future__ import annotations

from typing import Final

#: A CloudWatch alarm changed state.
ALARM_EVENT: Final = "CloudWatch Alarm State Change"
#: A SageMaker pipeline execution changed status.
PIPELINE_EVENT: Final = "SageMaker Model Building Pipeline Execution Status Change"
#: The source of the platform's own drift events (``aws.`` is reserved for AWS).
DRIFT_SOURCE: Final = "mlops.drift"
#: A stage account's drift check found violations while its drift alarm was already in ALARM
#: (an alarm that stays in ALARM sends no further state change; the tooling account's trigger
#: retries retraining on this one). Detail: ``alarmName``, ``endpointName``, ``violations``,
#: ``checkExecutionId``, ``reportUri``, ``reason``.
DRIFT_PERSISTS_EVENT: Final = "Drift Persists"
