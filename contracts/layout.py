"""The artifact and delivery buckets' key layout: who writes where (no CDK import).

Artifact bucket (``<prefix>-data`` stack, ``ArtifactBucket``):

========================== ============================================ ==========================
prefix                     holds                                        written by
========================== ============================================ ==========================
``data/``                  raw and labelled training data (the          personas (data_scientist,
                           pipeline's default input: ``data/raw/``)     ml_engineer), deployers
``workspace/<persona>/``   a persona's own scratch and ad-hoc job output that persona only
``pipeline-runs/``         what a training run keeps: test split,       the training pipeline's
                           baseline, model.tar.gz, evaluation report    execution role only
                                                                        (bucket policy), never
                                                                        deleted but by lifecycle
``pipeline-intermediates/`` train/validation splits, checkpoints        the pipeline role;
                                                                        expire (retention)
``data-capture/``          captured endpoint traffic                    endpoint model roles;
                                                                        expires (retention)
``drift-checks/``          drift-check manifests and reports            drift-check role and its
                           (``<execution id>/report/``)                 selector; expire
``data/batch/``            batch scoring input (the batch pipeline's    personas, deployers
                           default ``InputDataUri``)
``batch-scores/``          batch predictions and their manifest         the batch pipeline's role
                           (``<execution id>/predictions/``,            only; never deleted but
                           ``manifest.json``, ``drift/``)               by lifecycle
``async-inference/``       async endpoints' results and failures        endpoint model roles
                           (``<endpoint>/output/``, ``/failures/``)
``mlflow/``                the MLflow tracking server's artifact store  its clients (pipeline role,
                           (run artifacts, logged models)               builders) and the server's
                                                                        role; never deleted
========================== ============================================ ==========================

Delivery bucket (``DeliveryBucket``): ``source/<prefix>.zip`` (the S3 source the build polls) and
every CodePipeline artifact. No persona, job, endpoint or function role may write there.

Access-log bucket: ``artifact-bucket/`` and ``delivery-bucket/``, one per logged bucket.
"""

from __future__ import annotations

from typing import Final

from ml_code import contract

#: Every prefix ends with "/". Raw data is read from DATA_PREFIX; every training run writes under
#: RUNS_PREFIX<execution id>/ (the execution role is scoped to exactly these).
DATA_PREFIX: Final = "data/"
#: The training pipeline's ``InputDataUri`` default, under DATA_PREFIX.
DEFAULT_INPUT_PREFIX: Final = f"{DATA_PREFIX}raw/"
RUNS_PREFIX: Final = "pipeline-runs/"
#: Outputs no later stage reads (train/validation splits, checkpoints): kept apart from
#: RUNS_PREFIX so a lifecycle rule can expire them without touching registered models.
INTERMEDIATES_PREFIX: Final = "pipeline-intermediates/"
#: Endpoint data capture: ``<endpoint>/<variant>/yyyy/mm/dd/hh/...`` below it.
CAPTURE_PREFIX: Final = f"{contract.CAPTURE_PREFIX}/"
#: Every drift-check run's outputs, ``<execution id>/...`` below it (the roles are scoped to it).
CHECKS_PREFIX: Final = "drift-checks/"
#: The folder of a drift-check run that holds its report (metrics, violations, distributions).
CHECK_REPORT_FOLDER: Final = "report"
#: The batch pipeline's ``InputDataUri`` default, under DATA_PREFIX (headerless CSV: see README).
DEFAULT_BATCH_INPUT_PREFIX: Final = f"{DATA_PREFIX}batch/"
#: Every batch scoring run's outputs, ``<execution id>/...`` below it.
BATCH_SCORES_PREFIX: Final = "batch-scores/"
#: A batch run's folders: the Transform job's output and the drift check of the scored rows.
BATCH_PREDICTIONS_FOLDER: Final = "predictions"
BATCH_DRIFT_FOLDER: Final = "drift"
#: The manifest written beside a batch run's predictions (model version, input, counts).
BATCH_MANIFEST_FILE: Final = "manifest.json"
#: Async endpoints: ``<endpoint>/input/`` (callers' payloads), ``output/`` (results) and
#: ``failures/`` (errors) below it (:func:`async_folder`).
ASYNC_PREFIX: Final = "async-inference/"
ASYNC_INPUT_FOLDER: Final = "input"
ASYNC_OUTPUT_FOLDER: Final = "output"
ASYNC_FAILURE_FOLDER: Final = "failures"
#: The MLflow tracking server's artifact store (``s3://<bucket>/mlflow``); only its role writes there.
MLFLOW_PREFIX: Final = "mlflow/"
#: ``workspace_prefix(persona)`` for a persona's own folder.
WORKSPACE_PREFIX: Final = "workspace/"
#: Delivery bucket: the S3 source zip (``source_object_key``).
SOURCE_PREFIX: Final = "source/"
#: Access-log bucket: one prefix per bucket whose server access logs it receives.
ARTIFACT_ACCESS_LOG_PREFIX: Final = "artifact-bucket/"
DELIVERY_ACCESS_LOG_PREFIX: Final = "delivery-bucket/"


#: Where training writes model.tar.gz (``pipeline-runs/<execution id>/train/<job>/output/``): the
#: only objects a stage account's model role may read across accounts.
TRAIN_OUTPUT_FOLDER: Final = "train"
MODEL_ARTIFACTS_PATTERN: Final = f"{RUNS_PREFIX}*/{TRAIN_OUTPUT_FOLDER}/*"
#: Where preprocessing writes what later stages read (``pipeline-runs/<execution id>/preprocess/<output>/``).
PREPROCESS_OUTPUT_FOLDER: Final = "preprocess"
#: The preprocess output holding the drift baseline (``statistics.json``, ``constraints.json``).
BASELINE_OUTPUT: Final = "baseline"
#: The deployed versions' baselines: the only objects a stage account's drift check role may read
#: across accounts.
BASELINE_PATTERN: Final = f"{RUNS_PREFIX}*/{PREPROCESS_OUTPUT_FOLDER}/{BASELINE_OUTPUT}/*"
#: The value of a :func:`released_tag`: the object was shipped to that stage.
RELEASED: Final = "true"


def released_tag(stage: str) -> str:
    """The object tag a stage's deploy build sets on the model file and baseline of the version it
    ships into another account (``mlops:released-<stage>``); the tooling bucket lets that stage's
    roles read only objects carrying it (``s3:ExistingObjectTag``), so a stage account reads the
    versions shipped to it, not every run's."""
    return f"mlops:released-{stage}"


def workspace_prefix(persona: str) -> str:
    """``workspace/<persona>/``: the one folder a persona's role may write besides ``data/``."""
    return f"{WORKSPACE_PREFIX}{persona}/"


def capture_destination(bucket: str) -> str:
    """``s3://<bucket>/data-capture``: an endpoint config's capture URI (SageMaker adds ``<endpoint>/``)."""
    return f"s3://{bucket}/{CAPTURE_PREFIX.rstrip('/')}"


def tracking_artifact_uri(bucket: str) -> str:
    """``s3://<bucket>/mlflow``: the MLflow tracking server's artifact store."""
    return f"s3://{bucket}/{MLFLOW_PREFIX.rstrip('/')}"


def check_report_prefix(execution_id: str) -> str:
    """``drift-checks/<execution id>/report/``: where a drift-check run writes its report."""
    return f"{CHECKS_PREFIX}{execution_id}/{CHECK_REPORT_FOLDER}/"


def source_object_key(prefix: str) -> str:
    """``source/<prefix>.zip``: the delivery bucket's S3 source object (the fallback without a connection)."""
    return f"{SOURCE_PREFIX}{prefix}.zip"


def runs_writer_path(prefix: str) -> str:
    """The IAM path of the one role that may write ``pipeline-runs/`` (the training pipeline's).

    The artifact bucket's policy names the path, not the role: the role lives in a later stack
    and naming it would make the data stack depend on that stack. Creating a role with this path
    takes ``iam:CreateRole``, which no persona or workload role has.
    """
    return f"/{prefix}/pipeline-runs-writer/"


def async_folder(endpoint_name: str, folder: str) -> str:
    """``async-inference/<endpoint>/<folder>/``: a key prefix of an async endpoint in the artifact bucket."""
    return f"{ASYNC_PREFIX}{endpoint_name}/{folder}/"
