"""The ``batch`` section: the environment's batch scoring pipeline (issue 16), off by default.

Context (``environments.<env>.batch``)::

    "batch": {"enabled": true, "schedule": "cron(0 2 * * ? *)", "keyColumn": "row_id"}

With ``enabled`` every use case's pipeline stack gets ``<prefix>-batch-score``
(:mod:`stacks.batch`): it scores the CSV files under ``inputUri`` with the newest *Approved* version
of its model package group, looked up when the run starts. Nothing of it runs or bills between runs
but what the runs leave in S3.

The input (README "Batch scoring"): headerless CSV, one row per line, the model's feature columns in
training order, as in a real-time CSV request; with ``keyColumn``, a row key first, which is not sent
to the model and is written in front of each row's predictions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Final

from pydantic.dataclasses import dataclass

from contracts.config.base import BOOLEAN, SECTION, InstanceType, SettingError, check, integer, text
from contracts.config.release import Schedule
from contracts.layout import DEFAULT_BATCH_INPUT_PREFIX

#: SageMaker's limit on a transform request (``MaxPayloadInMB``), the invoke limit of the model server.
MAX_PAYLOAD_MB: Final = 6
#: An S3 folder: ``s3://bucket/`` or ``s3://bucket/prefix/``.
_FOLDER: Final = r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/([^\s]+/)?$"


def _column(value: object) -> bool:
    return isinstance(value, str) and 0 < len(value) <= 255 and value == value.strip() and "," not in value


@dataclass(frozen=True, kw_only=True, config=SECTION)
class BatchConfig:
    """Whether the batch scoring pipeline exists, when it runs, what it reads, and on what."""

    enabled: Annotated[bool, BOOLEAN] = False
    #: EventBridge Scheduler expression that starts a run with the default input, or None (by hand only).
    schedule: Schedule | None = None
    #: The input folder every run reads by default (its ``InputDataUri``); None: the artifact
    #: bucket's ``data/batch/``. Another bucket needs its own grants (the role reads ``data/*`` only).
    input_uri: Annotated[str | None, text(_FOLDER, "an S3 folder URI such as s3://bucket/data/batch/")] = None
    #: The Transform job's instances; None: ``instances.endpoint``. Must be in ``instances.allowed``.
    instance_type: InstanceType | None = None
    instance_count: Annotated[int, integer(1, 10)] = 1
    #: Each MultiRecord request stays within this many MB (SageMaker's limit is 6).
    max_payload_mb: Annotated[int, integer(1, MAX_PAYLOAD_MB)] = MAX_PAYLOAD_MB
    #: Requests each instance serves at once.
    max_concurrent_transforms: Annotated[int, integer(1, 16)] = 1
    #: The name of the input's first column, a row key kept in front of the predictions; None: every
    #: column is a feature and the output holds the predictions only, line for line.
    key_column: Annotated[
        str | None, check("a column name (1-255 characters, no surrounding spaces, no comma)", _column)
    ] = None
    #: Compare the scored rows with the version's drift baseline in each run's report.
    drift_check: Annotated[bool, BOOLEAN] = True

    def input_uri_for(self, bucket: str) -> str:
        """The run's default input: :attr:`input_uri`, else ``s3://<bucket>/data/batch/``."""
        return self.input_uri or f"s3://{bucket}/{DEFAULT_BATCH_INPUT_PREFIX}"

    def instance_type_or(self, endpoint: str) -> str:
        """The Transform job's instances: :attr:`instance_type`, else ``endpoint`` (instances.endpoint)."""
        return self.instance_type or endpoint


def check_instance_type(batch: BatchConfig, allowed: Sequence[str], *, loading: bool) -> None:
    """Refuse a ``batch.instanceType`` outside ``instances.allowed`` (while loading context).

    Raises:
        SettingError: naming ``batch.instanceType`` and the allowed types.
    """
    chosen = batch.instance_type
    if loading and chosen is not None and chosen not in allowed:
        raise SettingError(
            "batch.instanceType", f"{chosen} is not in 'instances.allowed' ({', '.join(allowed)})"
        )
