"""The registry and MLflow, linked both ways (issue 15 point 3): the tags, and the calls that set them.

A registered version names its run in its customer metadata (``MlflowRunId``, Register's request);
the run names the version back, and says what the deploy side did with it:

* run tags :data:`MODEL_PACKAGE_ARN_TAG`, :data:`MODEL_PACKAGE_VERSION_TAG` and :data:`APPROVAL_TAG`
  (``PendingManualApproval`` when the pipeline registers it, set by its ``LinkRun`` step;
  ``Approved`` once a deploy build ships it), and :func:`shipped_tag` ``<stage>`` = the version, per
  stage it was shipped to (``release.track_release``);
* the experiment's tag :func:`live_tag` ``<stage>`` = the run whose version the stage serves now, so
  "which run produced prod's model" is one lookup:
  ``client.get_experiment_by_name(<pipeline>).tags["mlops.live.prod"]``.

The pipeline's role may log runs but never approve a version; the deploy build's role may only read
runs and set tags on them and on experiments (``stacks.delivery.role_policies.tag_tracked_runs``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from ml_code.errors import DataValidationError
from ml_code.tracking import runs
from ml_code.tracking.arns import sagemaker_arn
from ml_code.tracking.client import MlflowRest, TrackingError
from ml_code.tracking.runs import EXECUTION_TAG, RunInfo
from ml_code.tracking.sigv4 import ServerArn, SigV4Signer

MODEL_PACKAGE_ARN_TAG: Final = "mlops.model_package_arn"
MODEL_PACKAGE_VERSION_TAG: Final = "mlops.model_package_version"
#: The version's approval status as the run last saw it (the registry stays the authority).
APPROVAL_TAG: Final = "mlops.approval"
PENDING: Final = "PendingManualApproval"
APPROVED: Final = "Approved"


def shipped_tag(stage: str) -> str:
    """The run tag saying which version of the run went to ``stage`` (value: the version number)."""
    return f"mlops.shipped.{stage}"


def live_tag(stage: str) -> str:
    """The experiment tag naming the run whose version ``stage`` serves (value: the run id)."""
    return f"mlops.live.{stage}"


@dataclass(frozen=True)
class ModelPackage:
    """``arn:<partition>:sagemaker:<region>:<account>:model-package/<group>/<version>``."""

    arn: str
    group: str
    version: int

    @classmethod
    def parse(cls, arn: str) -> ModelPackage:
        """Raises DataValidationError for anything but a versioned model package ARN."""
        found = sagemaker_arn(arn, "model-package", 2)
        if found is None or not found.path[1].isdigit():
            raise DataValidationError(
                f"{arn!r} is not a model package version ARN "
                "(arn:aws:sagemaker:<region>:<account>:model-package/<group>/<version>)"
            )
        return cls(arn, found.path[0], int(found.path[1]))


def connect(server_arn: str, local_url: str | None = None) -> MlflowRest:
    """The client for the tracking server ``server_arn``: the local stand-in at ``local_url`` when
    given (offline, unsigned), else SageMaker's endpoint signed with this process's AWS credentials.

    Raises:
        DataValidationError: ``server_arn`` is not a tracking server ARN, or there are no credentials.
    """
    server = ServerArn.parse(server_arn)
    if local_url:
        return MlflowRest(local_url, server_arn)
    return MlflowRest(server.url, server_arn, SigV4Signer(server.region))


def execution_run(rest: MlflowRest, pipeline: str, execution_arn: str) -> RunInfo:
    """The run the Track step logged for ``execution_arn`` in the experiment ``pipeline``.

    Raises:
        TrackingError: the experiment or the run does not exist, or a call failed.
    """
    try:
        found = rest.call("GET", "experiments/get-by-name", query={"experiment_name": pipeline})
    except TrackingError as exc:
        if "RESOURCE_DOES_NOT_EXIST" in str(exc):
            raise TrackingError(f"no MLflow experiment {pipeline!r}: the Track step logs it first") from exc
        raise
    run = runs.execution_run(rest, str(found["experiment"]["experiment_id"]), execution_arn)
    if run is None:
        raise TrackingError(
            f"no MLflow run in experiment {pipeline!r} is tagged {EXECUTION_TAG}={execution_arn}"
        )
    return run


def set_run_tags(rest: MlflowRest, run_id: str, tags: Mapping[str, str]) -> None:
    """Set each of ``tags`` on run ``run_id`` (``SetTag``: all a deploy build may write to a run)."""
    for key, value in tags.items():
        rest.call("POST", "runs/set-tag", {"run_id": run_id, "key": key, "value": value})


def set_experiment_tag(rest: MlflowRest, experiment_id: str, key: str, value: str) -> None:
    """Set tag ``key`` of experiment ``experiment_id`` (``SetExperimentTag``)."""
    rest.call(
        "POST", "experiments/set-experiment-tag", {"experiment_id": experiment_id, "key": key, "value": value}
    )


def registered_tags(package: ModelPackage) -> dict[str, str]:
    """The run's tags once the pipeline registered ``package`` (pending a person's approval)."""
    return {
        MODEL_PACKAGE_ARN_TAG: package.arn,
        MODEL_PACKAGE_VERSION_TAG: str(package.version),
        APPROVAL_TAG: PENDING,
    }
