"""Contracts shared by the pipeline definition, the steps and the offline runner.

Every value two files must agree on lives here, once: container paths, channel and
output names, file names, the evaluation report's gate section, content types.
Tests pin the consumers to these constants.
"""

from __future__ import annotations

from typing import Final, Literal

ProblemType = Literal["binary", "multiclass", "regression"]
PROBLEM_TYPES: Final[tuple[str, ...]] = ("binary", "multiclass", "regression")
#: The bundled sample dataset (ml_code.sample_data): its target column and problem type, which
#: are also the pipeline's default TargetColumn / ProblemType parameters.
SAMPLE_TARGET_COLUMN: Final = "churn"
SAMPLE_PROBLEM_TYPE: Final = "binary"

# ----------------------------------------------------------------- container paths
#: Root of every SageMaker container path. Locally, the env var below maps it to a folder.
OPT_ML: Final = "/opt/ml"
#: Env var naming a local folder that stands in for /opt/ml (used by the offline runner
#: and by anyone running a step on a laptop). Unset in SageMaker.
OPT_ML_ROOT_ENV: Final = "MLOPS_OPT_ML_ROOT"

PROCESSING_DIR: Final = "/opt/ml/processing"
CODE_DIR: Final = "/opt/ml/processing/input/code"
RAW_DATA_DIR: Final = "/opt/ml/processing/input/data"
MODEL_INPUT_DIR: Final = "/opt/ml/processing/input/model"
TEST_INPUT_DIR: Final = "/opt/ml/processing/input/test"

#: preprocess outputs: output name -> container dir (each one ProcessingOutput).
PREPROCESS_OUTPUTS: Final[dict[str, str]] = {
    "train": "/opt/ml/processing/output/train",
    "validation": "/opt/ml/processing/output/validation",
    "test": "/opt/ml/processing/output/test",
    "baseline": "/opt/ml/processing/output/baseline",
    "transformer": "/opt/ml/processing/output/transformer",
}
#: With more than one processing instance, a Profile step runs first: each host writes the
#: mergeable statistics of its shard (``<host>.json``) here, and every Preprocess host reads all
#: of them (FullyReplicated) from PROFILES_INPUT_DIR, so all fit the same transformer.
PROFILE_OUTPUT: Final = "profile"
PROFILE_DIR: Final = "/opt/ml/processing/output/profile"
PROFILES_INPUT_DIR: Final = "/opt/ml/processing/input/profiles"
#: evaluate output name and dir.
EVALUATION_OUTPUT: Final = "evaluation"
EVALUATION_DIR: Final = "/opt/ml/processing/output/evaluation"

# ----------------------------------------------------------------- training channels
#: Training container dirs (SageMaker also passes them as SM_CHANNEL_<NAME> / SM_MODEL_DIR).
TRAINING_CHANNEL_ROOT: Final = "/opt/ml/input/data"
TRAINING_MODEL_DIR: Final = "/opt/ml/model"
#: Managed spot training syncs this folder with the job's CheckpointConfig S3 URI, so a
#: job restarted after an interruption finds its last checkpoint here.
CHECKPOINT_DIR: Final = "/opt/ml/checkpoints"
CHECKPOINT_FILE: Final = "xgboost-checkpoint.json"
TRAIN_CHANNEL: Final = "train"
VALIDATION_CHANNEL: Final = "validation"
#: The fitted transformer's own channel: every training host needs it whole (FullyReplicated),
#: while the train and validation channels may be sharded over the hosts (ShardedByS3Key).
TRANSFORMER_CHANNEL: Final = "transformer"
#: Training data files (inside each channel / output dir): ``part-<host>-<shard:02d>.csv``, one per
#: preprocess host and training shard, so hosts writing to one S3 prefix never collide; readers take
#: every file matching SPLIT_PART_GLOB in a folder, sorted by name.
SPLIT_PART_GLOB: Final = "part-*.csv"
TRAIN_FILE: Final = "train.csv"
VALIDATION_FILE: Final = "validation.csv"
TEST_FILE: Final = "test.csv"
#: Split files carry the target in the first column, named by this header.
TARGET_COLUMN_IN_SPLITS: Final = "__target__"

# ----------------------------------------------------------------- clusters (more than one instance)
#: Where SageMaker describes the job's cluster (``current_host``, ``hosts``) in each job kind.
TRAINING_RESOURCE_CONFIG: Final = "/opt/ml/input/config/resourceconfig.json"
PROCESSING_RESOURCE_CONFIG: Final = "/opt/ml/config/resourceconfig.json"
#: Port the leader's collective tracker listens on in SageMaker (the XGBoost image's own choice).
COLLECTIVE_PORT: Final = 9099
#: Offline only (unset in SageMaker, where ``algo-N`` resolve through the cluster's DNS and every
#: host has its own address): a JSON object host name -> address, and the tracker's port, so N
#: local processes find each other on loopback.
HOST_ADDRESSES_ENV: Final = "MLOPS_HOST_ADDRESSES"
COLLECTIVE_PORT_ENV: Final = "MLOPS_COLLECTIVE_PORT"

# ----------------------------------------------------------------- model artefacts
MODEL_FILE: Final = "xgboost-model.json"
TRANSFORMER_FILE: Final = "transformer.json"
MODEL_META_FILE: Final = "model-meta.json"

#: Serving code travels inside model.tar.gz (a network-isolated endpoint cannot fetch it
#: from S3): the training job copies the package here, under the model dir.
MODEL_CODE_DIR: Final = "code"
#: Where that folder is in a hosting container, for SAGEMAKER_SUBMIT_DIRECTORY.
MODEL_CODE_CONTAINER_DIR: Final = "/opt/ml/model/code"
#: The serving entry point SageMaker's framework containers import (SAGEMAKER_PROGRAM).
SERVING_PROGRAM: Final = "inference.py"
#: Its source: the two functions the XGBoost container's serving toolkit looks for. Only
#: ``model_fn`` and ``transform_fn``: the toolkit wraps any exception a user function raises
#: into a 500, so ``transform_fn`` *returns* its 4xx answers (see ml_code/serving/inference.py), and it
#: refuses a module that defines ``transform_fn`` beside ``input_fn``/``predict_fn``/``output_fn``.
SERVING_SHIM_SOURCE: Final = '''"""Serving entry point (generated): see ml_code/contract.py."""

from ml_code.serving.inference import model_fn, transform_fn

__all__ = ["model_fn", "transform_fn"]
'''

# ----------------------------------------------------------------- baseline (drift)
BASELINE_STATISTICS_FILE: Final = "statistics.json"
BASELINE_CONSTRAINTS_FILE: Final = "constraints.json"
DATA_FINGERPRINT_FILE: Final = "data-fingerprint.json"  # rows + order-free row-hash sum (Track)

# ----------------------------------------------------------------- evaluation report
EVALUATION_FILE: Final = "evaluation.json"
#: Section of evaluation.json the pipeline's quality gate reads: Evaluate decides, the pipeline
#: only reads the decision (``passed``) and its sentence (``message``).
GATE_SECTION: Final = "quality_gate"
#: JsonGet path of the candidate's gate metric value.
GATE_METRIC_PATH: Final = "quality_gate.value"
#: JsonGet path of the gate metric's name.
GATE_METRIC_NAME_PATH: Final = "quality_gate.metric"
#: JsonGet path of the decision as a number: 1 registers the candidate, 0 holds it.
GATE_PASSED_PATH: Final = "quality_gate.passed"
#: JsonGet path of the decision in one sentence (the Fail step's message, the Track step's).
GATE_MESSAGE_PATH: Final = "quality_gate.message"
#: JsonGet path of the same sentence within the registry's customer-metadata rules (<= 256
#: characters of letters, digits, spaces and ``_.:/=+-@``): Register's GATE_MESSAGE_METADATA_KEY.
GATE_METADATA_MESSAGE_PATH: Final = "quality_gate.metadata_message"
GATE_MESSAGE_METADATA_KEY: Final = "GateMessage"
#: Gate metric per problem type when ``pipeline.gate.metric`` is ``auto``.
GATE_METRIC_BY_PROBLEM: Final[dict[str, str]] = {
    "binary": "auc",
    "multiclass": "macro_f1",
    "regression": "rmse",
}
#: Every metric the gate can judge on, by problem type, and whether higher is better.
GATE_METRICS: Final[dict[str, tuple[str, ...]]] = {
    "binary": ("auc",),
    "multiclass": ("macro_f1", "log_loss"),
    "regression": ("rmse", "mae", "r2"),
}
GATE_HIGHER_IS_BETTER: Final[dict[str, bool]] = {
    "auc": True, "macro_f1": True, "log_loss": False, "rmse": False, "mae": False, "r2": True,
}  # fmt: skip
#: Top-level section of the model-quality report per problem type (SageMaker's format).
METRICS_SECTION_BY_PROBLEM: Final[dict[str, str]] = {
    "binary": "binary_classification_metrics",
    "multiclass": "multiclass_classification_metrics",
    "regression": "regression_metrics",
}

# ----------------------------------------------------------------- failure reporting
#: Training containers read the failure reason from here; processing from MESSAGE_FILE.
FAILURE_FILE: Final = "/opt/ml/output/failure"
PROCESSING_MESSAGE_FILE: Final = "/opt/ml/output/message"

# ----------------------------------------------------------------- serving
CONTENT_TYPE_CSV: Final = "text/csv"
CONTENT_TYPE_JSON: Final = "application/json"
CONTENT_TYPE_JSONLINES: Final = "application/jsonlines"
SUPPORTED_CONTENT_TYPES: Final[tuple[str, ...]] = (
    CONTENT_TYPE_CSV,
    CONTENT_TYPE_JSON,
    CONTENT_TYPE_JSONLINES,
)
#: The response type when the request leaves the choice to the server (no ``Accept``, or
#: ``*/*``): the serving toolkit's own default, set explicitly on every model through the
#: toolkit's environment variable so the deployed container and ``make serve`` agree.
DEFAULT_ACCEPT_ENV: Final = "SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT"
DEFAULT_ACCEPT: Final = CONTENT_TYPE_JSON
#: Error answers (4xx, and the generic 500) carry their message as plain text.
CONTENT_TYPE_ERROR: Final = "text/plain; charset=utf-8"
#: SageMaker real-time endpoints reject request bodies above 6 MB.
MAX_PAYLOAD_BYTES: Final = 6 * 1024 * 1024
SERVING_PORT: Final = 8080

# ----------------------------------------------------------------- data capture and drift
#: The drift check (``ml_code/drift/monitor.py``) as a processing job: where its inputs and outputs sit.
MONITOR_BASELINE_DIR: Final = "/opt/ml/processing/input/baseline"  # statistics.json + constraints.json
MONITOR_CAPTURE_DIR: Final = "/opt/ml/processing/input/capture"  # *.jsonl, any depth
MONITOR_REPORT_OUTPUT: Final = "report"
MONITOR_REPORT_DIR: Final = "/opt/ml/processing/output/report"
#: Model Monitor's file name and shape: {"violations": [{"feature_name", "constraint_check_type",
#: "description"}]}.
VIOLATIONS_FILE: Final = "constraint_violations.json"
#: Our per-feature numbers, read by the metrics publisher (functions/drift_metrics.py):
#: {"endpoint_name", "records", "violations", "features": [{"feature_name", "distance",
#: "threshold", "missing_rate", "unseen_categories", "drifted"}]}.
DRIFT_METRICS_FILE: Final = "drift_metrics.json"
#: CloudWatch namespace and metric names the publisher writes (dimensions EndpointName[, Feature]).
DRIFT_NAMESPACE: Final = "MLOpsPlatform/Drift"
DRIFT_METRIC_DISTANCE: Final = "FeatureDistance"  # EndpointName, Feature
DRIFT_METRIC_MISSING: Final = "FeatureMissingRate"  # EndpointName, Feature
DRIFT_METRIC_VIOLATIONS: Final = "Violations"  # EndpointName
DRIFT_METRIC_RECORDS: Final = "RecordsChecked"  # EndpointName
#: SageMaker data capture layout: <capture prefix>/<endpoint>/<variant>/yyyy/mm/dd/hh/<name>.jsonl
CAPTURE_FILE_SUFFIX: Final = ".jsonl"
#: Capture prefix inside the artifact bucket (endpoint configs write under it).
CAPTURE_PREFIX: Final = "data-capture"
#: Raw sample records (JSON list, no target) the preprocess step keeps from the test split, so
#: the post-deploy smoke test sends the model the kind of data it was trained on.
SMOKE_SAMPLES_FILE: Final = "smoke-samples.json"

# ----------------------------------------------------------------- experiment tracking (issue 15)
#: The Track step (``track.py``, a Processing job with network access, after the gate): it reads
#: Evaluate's report, the model tarball (the training curve) and Preprocess's baseline, logs one
#: MLflow run per pipeline execution, and writes TRACKING_FILE ({"run_id", "experiment_id",
#: "run_url"}) for Register's customer metadata.
TRACK_EVALUATION_DIR: Final = "/opt/ml/processing/input/evaluation"
TRACK_MODEL_DIR: Final = "/opt/ml/processing/input/model"
TRACK_BASELINE_DIR: Final = "/opt/ml/processing/input/baseline"
TRACKING_OUTPUT: Final = "tracking"
TRACKING_DIR: Final = "/opt/ml/processing/output/tracking"
TRACKING_FILE: Final = "tracking.json"
TRACKING_RUN_ID_PATH: Final = "run_id"
TRACKING_EXPERIMENT_ID_PATH: Final = "experiment_id"
#: The version's model card content (a JSON string), when the gate passed: Register's ``ModelCard``.
TRACKING_MODEL_CARD_PATH: Final = "model_card"
#: The gate's outcome, as the Track step's ``--gate`` argument and the run's ``mlops.gate`` tag.
GATE_PASSED: Final = "passed"
GATE_REJECTED: Final = "rejected"
#: Offline only (unset in SageMaker, where the client derives the URL from the server's ARN and
#: signs with SigV4): the local MLflow server's base URL, e.g. ``http://127.0.0.1:5000``.
MLFLOW_URL_ENV: Final = "MLOPS_MLFLOW_URL"
#: Customer metadata keys of a registered version: its MLflow run and where it lives.
MLFLOW_RUN_ID_METADATA_KEY: Final = "MlflowRunId"
MLFLOW_EXPERIMENT_ID_METADATA_KEY: Final = "MlflowExperimentId"
MLFLOW_SERVER_METADATA_KEY: Final = "MlflowTrackingServerArn"
#: Inside model.tar.gz: XGBoost's evaluation history, {"<data>-<metric>": [value per round]}.
TRAINING_HISTORY_FILE: Final = "training-history.json"

# The batch scoring pipeline's ScoreReport step (ml_code/steps/score_report.py): reads the Transform
# job's output and the scored input, writes the manifest (and the drift check of the scored rows).
SCORE_PREDICTIONS_DIR: Final = "/opt/ml/processing/input/predictions"
SCORE_INPUT_DIR: Final = "/opt/ml/processing/input/scored"
SCORE_BASELINE_DIR: Final = "/opt/ml/processing/input/baseline"
SCORE_REPORT_OUTPUT: Final = "report"
SCORE_REPORT_DIR: Final = "/opt/ml/processing/output/report"
#: The Transform job's output object for input object ``<name>``: ``<name>.out`` (SageMaker's rule).
TRANSFORM_OUTPUT_SUFFIX: Final = ".out"
