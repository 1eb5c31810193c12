"""What the pipeline definition is built from: deployment inputs (no SDK import).

Key prefixes in the artifact bucket are in :mod:`contracts.layout`, names in :mod:`contracts.names`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from contracts.config.gate import GateConfig
from contracts.layout import DEFAULT_INPUT_PREFIX
from ml_code import contract
from stacks.pipeline.requests import JobSettings

#: The brief's training hyperparameters (train.py reads them from hyperparameters.json).
TRAINING_HYPERPARAMETERS: Final[dict[str, str]] = {
    "num_round": "300",
    "max_depth": "5",
    "eta": "0.1",
    "subsample": "0.9",
    "early_stopping_rounds": "20",
    "seed": "42",
}
EVALUATION_PROPERTY_FILE: Final = "EvaluationReport"
#: The Track step's property file (``contract.TRACKING_FILE``): the run Register links to.
TRACKING_PROPERTY_FILE: Final = "TrackingRun"


@dataclass(frozen=True, kw_only=True)
class DefinitionProps:
    """Inputs of the definition. Strings may be deploy-time placeholders such as ``${Bucket}``."""

    job: JobSettings
    artifact_bucket: str
    code_uri: str
    region: str
    model_package_group_name: str
    processing_instance_type: str
    training_instance_type: str
    endpoint_instance_type: str
    #: The QualityThreshold parameter's default (None: no absolute threshold, ``none``).
    quality_threshold: float | None
    champion_margin: float
    use_spot: bool
    #: The use case's data (``TargetColumn``, ``ProblemType`` and ``InputDataUri`` defaults): the
    #: sample data's unless the use case says (:class:`contracts.config.use_cases.UseCase`).
    target_column: str = contract.SAMPLE_TARGET_COLUMN
    problem_type: str = contract.SAMPLE_PROBLEM_TYPE
    input_prefix: str = DEFAULT_INPUT_PREFIX
    #: ``pipeline.scale`` (:class:`contracts.config.ScaleConfig`): instances of Profile + Preprocess
    #: and of Train, and the rows one instance reads at once and samples.
    processing_instances: int = 1
    training_instances: int = 1
    chunk_rows: int = 100_000
    sample_rows: int = 100_000
    external_memory: bool = False
    #: The environment's MLflow tracking server (``tracking.enabled``): each run is logged by a Track
    #: step after the gate, in both branches (:mod:`stacks.pipeline.track`). None: no Track step, and
    #: the definition is exactly the one without tracking.
    tracking_server_arn: str | None = None
    #: ``pipeline.gate``: how Evaluate judges the candidate (static arguments of the Evaluate step).
    gate: GateConfig = field(default_factory=GateConfig)
    #: ``pipeline.columns`` as Profile's and Preprocess's ``--column NAME=ROLE`` arguments (static).
    column_arguments: tuple[str, ...] = ()
