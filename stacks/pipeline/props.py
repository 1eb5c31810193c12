"""What the pipeline definition is built from: deployment inputs and S3 key prefixes (no SDK import)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from stacks.pipeline.requests import JobSettings

#: Key prefixes in the artifact bucket: raw data is read from DATA_PREFIX, every run writes
#: under RUNS_PREFIX/<execution id>/ (the execution role is scoped to exactly these).
DATA_PREFIX: Final = "data/"
DEFAULT_INPUT_PREFIX: Final = "data/raw/"
RUNS_PREFIX: Final = "pipeline-runs/"
#: Outputs no later stage reads (train/validation splits, checkpoints): kept apart from
#: RUNS_PREFIX so a lifecycle rule can expire them without touching registered models.
INTERMEDIATES_PREFIX: Final = "pipeline-intermediates/"
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
    quality_threshold: float
    champion_margin: float
    use_spot: bool


def training_pipeline_name(prefix: str) -> str:
    """``<prefix>-training``: the SageMaker pipeline the build upserts and personas may start."""
    return f"{prefix}-training"
