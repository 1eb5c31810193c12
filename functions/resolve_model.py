"""Lambda step of the batch scoring pipeline: the model version a run scores with, chosen at run time.

The newest *Approved* version of the model package group when the run starts (not when the
pipeline was deployed): a version approved this morning scores tonight's batch without a deploy.

Event (the step's Arguments): ``{"group": "<model package group>", "problem_type": "binary",
"key_column": "true"}`` (``key_column`` is a pipeline String: ``"true"``/``"false"``). Returns the
step's output parameters, all strings:

- ``model_package_arn``, ``version``: the version chosen;
- ``baseline_uri``: the folder of its drift baseline (``DriftCheckBaselines.ModelDataQuality.
  Statistics``), ``""`` when it has none;
- ``output_filter``: the Transform job's ``DataProcessing.OutputFilter``. The job joins each input
  line (key, features) with its prediction line; with a key column the filter keeps the key and the
  prediction columns: binary ``label,probability`` (``$[0,-2:]``), regression ``score``
  (``$[0,-1]``). A multiclass prediction has one column per label, and the label count is not in
  the registry, so the whole joined line is kept (``$``). Without a key column the job joins
  nothing and the output is the predictions (``$``).

Raises ``LookupError`` ("no Approved version in <group>") when the group has none: the step and
the run fail with it. Standard library and boto3 only (this folder is the Lambda code asset).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

import boto3

if TYPE_CHECKING:  # type stubs: a development requirement, not in the Lambda bundle
    from mypy_boto3_sagemaker import SageMakerClient

#: Must equal ``ml_code.contract.PROBLEM_TYPES`` (a test pins it; Lambda code cannot import ml_code).
PROBLEM_TYPES: Final = ("binary", "multiclass", "regression")
#: ``OutputFilter`` of a joined line (key, features..., predictions...) per problem type.
KEYED_FILTERS: Final = {"binary": "$[0,-2:]", "multiclass": "$", "regression": "$[0,-1]"}
#: Without a key column nothing is joined: the output is the predictions as the model wrote them.
WHOLE_LINE: Final = "$"
APPROVED: Final = "Approved"


def output_filter(problem_type: str, key_column: bool) -> str:
    """The Transform job's ``OutputFilter`` (see the module docstring).

    Raises:
        ValueError: an unknown problem type (names the field).
    """
    if problem_type not in PROBLEM_TYPES:
        raise ValueError(f"problem_type: expected one of {', '.join(PROBLEM_TYPES)}, got {problem_type!r}")
    return KEYED_FILTERS[problem_type] if key_column else WHOLE_LINE


def flag(field: str, value: Any) -> bool:
    """A pipeline String ``"true"``/``"false"`` (or a bool) as a bool.

    Raises:
        ValueError: anything else (names the field).
    """
    text = str(value).strip().lower()
    if text not in ("true", "false"):
        raise ValueError(f"{field}: expected true or false, got {value!r}")
    return text == "true"


def newest_approved(sagemaker: SageMakerClient, group: str) -> dict[str, Any]:
    """The newest Approved version of ``group`` (DescribeModelPackage's answer).

    Raises:
        LookupError: the group has no Approved version.
    """
    listed = sagemaker.list_model_packages(
        ModelPackageGroupName=group,
        ModelApprovalStatus=APPROVED,
        SortBy="CreationTime",
        SortOrder="Descending",
        MaxResults=1,
    )["ModelPackageSummaryList"]
    if not listed:
        raise LookupError(f"no Approved version in {group}: approve one before scoring")
    described: dict[str, Any] = dict(
        sagemaker.describe_model_package(ModelPackageName=listed[0]["ModelPackageArn"])
    )
    return described


def baseline_folder(package: dict[str, Any]) -> str:
    """The folder of the version's drift baseline statistics (``s3://.../``), or ``""``."""
    quality = package.get("DriftCheckBaselines", {}).get("ModelDataQuality", {})
    uri = str(quality.get("Statistics", {}).get("S3Uri", ""))
    return uri.rsplit("/", 1)[0] + "/" if "/" in uri.removeprefix("s3://") else ""


def resolve(sagemaker: SageMakerClient, event: dict[str, Any]) -> dict[str, str]:
    """The step's outputs for ``event`` (see the module docstring)."""
    group = event.get("group")
    if not isinstance(group, str) or not group:
        raise ValueError(f"group: expected a model package group name, got {group!r}")
    chosen_filter = output_filter(str(event.get("problem_type")), flag("key_column", event.get("key_column")))
    package = newest_approved(sagemaker, group)
    return {
        "model_package_arn": str(package["ModelPackageArn"]),
        "version": str(package.get("ModelPackageVersion", "")),
        "baseline_uri": baseline_folder(package),
        "output_filter": chosen_filter,
    }


def handler(event: dict[str, Any], _context: Any) -> dict[str, str]:
    """Lambda entry point."""
    return resolve(boto3.client("sagemaker"), event)
