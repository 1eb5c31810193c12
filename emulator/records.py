"""What a local pipeline run reports: one record per step, and the run's outcome."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class StepRecord:
    """What happened to one step."""

    name: str
    type: str
    status: str = "NotStarted"  # Executing | Succeeded | Failed | Skipped | NotStarted
    seconds: float = 0.0
    outputs: dict[str, str] = field(default_factory=dict)
    message: str = ""
    #: where the local run differs from SageMaker for this step (spot training, ...)
    notes: list[str] = field(default_factory=list)
    #: of `seconds`, the time the job's own process ran (the rest is transfers and set-up)
    process_seconds: float = 0.0
    #: the job's stdout/stderr, for processing and training steps (several hosts: the failed one's,
    #: else algo-1's)
    log_path: Path | None = None
    #: each host's log, host by host, for a job of more than one instance
    host_logs: dict[str, Path] = field(default_factory=dict)


@dataclass
class RunResult:
    """An execution's outcome, per step, with the registered model version if any."""

    execution_id: str
    status: str
    run_dir: Path
    steps: list[StepRecord]
    failure: str = ""
    model_package_arn: str | None = None
    #: the CreateModelPackage request as sent (expressions resolved), for the summary
    model_package_request: dict[str, Any] = field(default_factory=dict)
    properties: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: the parameter values the run used (defaults overlaid with overrides)
    parameters: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def step(self, name: str) -> StepRecord:
        return next(s for s in self.steps if s.name == name)
