"""What an endpoint stack agrees to serve: the platform's own image, and a model the training
pipeline wrote.

The approved-model file is copied from the registry at deploy time (``release.resolve``), and a
registry version's container can be edited after registration (``UpdateModelPackage`` takes an
``InferenceSpecification``). The endpoint's model role is scoped to the image and the file the
version names, so a version pointing anywhere else would otherwise be served, from another
registry or bucket, by the deploy pipeline that approving it starts. Synth refuses it instead,
naming the version: the deploy build synthesizes right after it resolves, before anything deploys.
"""

from __future__ import annotations

import re
from typing import Final

from contracts.approved_model import ApprovedModel
from contracts.layout import RUNS_PREFIX, TRAIN_OUTPUT_FOLDER
from stacks.common.images import XGBOOST_REPOSITORY, XGBOOST_VERSION, xgboost_registries

_IMAGE: Final = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?/(?P<repo>[^:@]+):(?P<tag>[^:@]+)$"
)
#: ``pipeline-runs/<execution id>/train/<job>/output/model.tar.gz``: where training writes the model.
_MODEL_KEY: Final = re.compile(
    rf"^{re.escape(RUNS_PREFIX)}[^/]+/{TRAIN_OUTPUT_FOLDER}/(?:[^/]+/)*model\.tar\.gz$"
)


def check_served_version(approved: ApprovedModel, *, region: str | None = None) -> None:
    """Refuse a version whose image is not the platform's XGBoost image (in ``region`` when known)
    or whose model file is not a training output of a pipeline run.

    Raises:
        ValueError: naming the version, what it names and what is expected.
    """
    where = f"model version {approved.version} ({approved.model_package_arn})"
    image = _IMAGE.match(approved.image_uri)
    registries = xgboost_registries()
    expected = f"<registry>.dkr.ecr.<region>.amazonaws.com/{XGBOOST_REPOSITORY}:{XGBOOST_VERSION}"
    if (
        image is None
        or (image["repo"], image["tag"]) != (XGBOOST_REPOSITORY, XGBOOST_VERSION)
        or registries.get(image["region"]) != image["account"]
        or (region is not None and image["region"] != region)
    ):
        raise ValueError(
            f"{where} names image {approved.image_uri!r}; only the platform's serving image is deployed "
            f"({expected}, the region's SageMaker registry): was the version's container edited "
            "after registration?"
        )
    key = approved.model_data_url.removeprefix("s3://").partition("/")[2]
    if not approved.model_data_url.startswith("s3://") or not _MODEL_KEY.match(key):
        raise ValueError(
            f"{where} names model file {approved.model_data_url!r}; only a training output of a pipeline "
            f"run is deployed (s3://<artifact bucket>/{RUNS_PREFIX}<execution>/{TRAIN_OUTPUT_FOLDER}/"
            ".../model.tar.gz)"
        )
