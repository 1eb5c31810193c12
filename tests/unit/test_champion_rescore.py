"""The champion, against moto: the newest Approved version's model.tar.gz is downloaded and scored on
this run's raw test rows with its own transformer; one that cannot be scored is named, not compared."""

from __future__ import annotations

import json
import re
import shutil
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import numpy as np
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from split_parts import make_splits, write_parts, write_transformer

from ml_code import contract
from ml_code.sample_data import generate
from ml_code.steps.champion import Champion, find_champion, score_champion
from ml_code.steps.evaluate import load_model, main, score_split
from ml_code.steps.gate_decision import GateSettings, decide
from ml_code.steps.train import Hyperparameters, TrainingData, train

GROUP = "churn-models"
BUCKET = "models"
ROWS, SEED = 300, 2
OTHER_CLASSES = r"^its classes \[0, 1\] are not this run's \['no', 'yes', 'maybe'\]$"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/xgboost:3.0-5"


def _tar(folder: Path, archive: Path) -> Path:
    with tarfile.open(archive, "w:gz") as tar:
        for path in folder.iterdir():
            tar.add(path, arcname=path.name)
    return archive


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A trained binary model (``model/``, ``model.tar.gz``), its test split as preprocess writes it
    (``test/part-algo-1-00.csv`` and the same rows as read, ``test/raw-algo-1.csv``), and the same
    model with transformer.json in format version 1 (``model-v1.tar.gz``)."""
    root = tmp_path_factory.mktemp("champion")
    made = make_splits(ROWS, seed=SEED)
    for name in ("train", "validation", "test"):
        write_parts(made.frames[name], root / name, 1)
    generate(ROWS, seed=SEED).iloc[ROWS * 8 // 10 :].to_csv(root / "test" / "raw-algo-1.csv", index=False)
    write_transformer(made.transformer, root / "transformer")
    data = TrainingData(
        train_dir=root / "train", validation_dir=root / "validation", transformer_dir=root / "transformer"
    )
    train(data, root / "model", Hyperparameters(num_round=20, early_stopping_rounds=5))
    _tar(root / "model", root / "model.tar.gz")
    v1 = root / "model-v1"
    shutil.copytree(root / "model", v1)
    spec = json.loads((v1 / contract.TRANSFORMER_FILE).read_text())
    assert not spec.pop("excluded")  # the sample data has only numeric and categorical columns
    (v1 / contract.TRANSFORMER_FILE).write_text(json.dumps({**spec, "format_version": 1}))
    _tar(v1, root / "model-v1.tar.gz")
    return root


@pytest.fixture
def aws(trained: Path) -> Iterator[tuple[Any, Any]]:
    with mock_aws():
        sagemaker, s3 = boto3.client("sagemaker"), boto3.client("s3")
        sagemaker.create_model_package_group(ModelPackageGroupName=GROUP)
        s3.create_bucket(Bucket=BUCKET)
        for name in ("model.tar.gz", "model-v1.tar.gz"):
            s3.upload_file(str(trained / name), BUCKET, name)
        s3.put_object(Bucket=BUCKET, Key="not-a-tar.gz", Body=b"not gzip")
        yield sagemaker, s3


def register(sagemaker: Any, status: str, model_key: str | None = "model.tar.gz") -> str:
    """Register a version whose model is ``s3://BUCKET/<model_key>`` (no ModelDataUrl for None)."""
    time.sleep(0.002)  # moto stamps CreationTime in milliseconds; keep the order unambiguous
    container = {"Image": IMAGE, **({"ModelDataUrl": f"s3://{BUCKET}/{model_key}"} if model_key else {})}
    arn: str = sagemaker.create_model_package(
        ModelPackageGroupName=GROUP,
        ModelApprovalStatus="PendingManualApproval",
        InferenceSpecification={
            "Containers": [container], "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
    )["ModelPackageArn"]  # fmt: skip
    if status != "PendingManualApproval":
        sagemaker.update_model_package(ModelPackageArn=arn, ModelApprovalStatus=status)
    return arn


def challenger_predictions(trained: Path) -> np.ndarray:
    booster, transformer = load_model(trained / "model")
    return score_split(booster, transformer, trained / "test")[1]


def rescore(trained: Path, s3: Any, champion: Champion, labels: list[Any] | None = None) -> Any:
    parts = [trained / "test" / "part-algo-1-00.csv"]
    return score_champion(champion, s3, parts, labels=labels or [0, 1], chunk_rows=13)


def test_no_approved_version_means_no_champion(aws: tuple[Any, Any]) -> None:
    sagemaker, _ = aws
    assert find_champion(sagemaker, GROUP) is None
    register(sagemaker, "PendingManualApproval")
    register(sagemaker, "Rejected")
    assert find_champion(sagemaker, GROUP) is None


def test_the_newest_approved_version_is_downloaded_and_scored_on_the_raw_rows(
    trained: Path, aws: tuple[Any, Any]
) -> None:
    # GIVEN an older approved version with a broken archive, the newest approved one with this model,
    # and newer pending and rejected ones
    sagemaker, s3 = aws
    register(sagemaker, "Approved", "not-a-tar.gz")
    newest = register(sagemaker, "Approved")
    register(sagemaker, "PendingManualApproval", "not-a-tar.gz")
    register(sagemaker, "Rejected", "not-a-tar.gz")
    # WHEN the champion is found and scored on the raw test rows, 13 rows at a time
    champion = find_champion(sagemaker, GROUP)
    assert champion == Champion(newest, f"s3://{BUCKET}/model.tar.gz")
    scores = rescore(trained, s3, champion)
    # THEN its own transformer on the raw rows gives what the challenger gives on the transformed split
    assert (scores.model_package_arn, scores.error) == (newest, None)
    assert scores.predictions is not None
    np.testing.assert_allclose(scores.predictions, challenger_predictions(trained), rtol=0, atol=1e-7)


def test_a_version_1_transformer_champion_still_scores(trained: Path, aws: tuple[Any, Any]) -> None:
    sagemaker, s3 = aws
    register(sagemaker, "Approved", "model-v1.tar.gz")
    champion = find_champion(sagemaker, GROUP)
    assert champion is not None
    scores = rescore(trained, s3, champion)
    assert scores.error is None
    np.testing.assert_allclose(scores.predictions, challenger_predictions(trained), rtol=0, atol=1e-7)


@pytest.mark.parametrize(
    ("model_key", "labels", "error"),
    [
        (None, None, r"^it has no ModelDataUrl$"),
        ("missing.tar.gz", None, r"404|Not Found"),
        ("not-a-tar.gz", None, r"gzip|tar|compressed"),
        ("model.tar.gz", ["no", "yes", "maybe"], OTHER_CLASSES),
    ],
)  # fmt: skip
def test_an_unreadable_champion_is_named_in_the_sentence_and_not_compared(
    trained: Path, aws: tuple[Any, Any], model_key: str | None, labels: list[Any] | None, error: str
) -> None:
    # GIVEN an approved champion that cannot be scored on this run's rows
    sagemaker, s3 = aws
    arn = register(sagemaker, "Approved", model_key)
    champion = find_champion(sagemaker, GROUP)
    assert champion is not None
    # WHEN it is scored THEN the reason is kept, with no predictions
    scores = rescore(trained, s3, champion, labels)
    assert scores.predictions is None
    assert scores.error is not None
    assert re.search(error, scores.error)
    # AND the gate says so instead of comparing (or passing silently)
    y = np.repeat([0.0, 1.0], 60)
    gate = decide("binary", y, y * 0.8 + 0.1, [0, 1], GateSettings(), champion=scores)
    assert gate["champion"] == {"model_package_arn": arn, "error": scores.error}
    assert f"could not be scored ({scores.error}), so it was not compared" in gate["message"]


def test_evaluate_main_rescores_the_champion_it_finds(
    trained: Path, aws: tuple[Any, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN this very model approved in the group, and the processing container's inputs
    sagemaker, _ = aws
    arn = register(sagemaker, "Approved")
    monkeypatch.setenv(contract.OPT_ML_ROOT_ENV, str(tmp_path))
    inputs = tmp_path / "processing" / "input"
    (inputs / "model").mkdir(parents=True)
    shutil.copy2(trained / "model.tar.gz", inputs / "model")
    shutil.copytree(trained / "test", inputs / "test")
    # WHEN evaluate.py runs with the group
    argv = ["--problem-type", "binary", "--model-package-group", GROUP, "--min-class-rows", "5"]
    assert main(argv) == 0
    # THEN the champion scored the same rows exactly as the challenger: no difference, passed
    report = json.loads(
        (tmp_path / "processing" / "output" / "evaluation" / contract.EVALUATION_FILE).read_text()
    )
    gate = report[contract.GATE_SECTION]
    assert (gate["champion_model_package_arn"], gate["champion_value"]) == (arn, gate["value"])
    assert (gate["champion"]["improvement"], gate["champion"]["lower"], gate["passed"]) == (0.0, 0.0, 1)
    assert "it is not worse than the approved champion (version 1)" in gate["message"]


class DeletedBetweenListAndDescribe:
    """The SageMaker client, except one version vanishes after listing (as a concurrent delete would)."""

    def __init__(self, client: Any, deleted_arn: str) -> None:
        self._client, self._deleted = client, deleted_arn

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def describe_model_package(self, **kwargs: Any) -> Any:
        if kwargs["ModelPackageName"] == self._deleted:
            error = {"Error": {"Code": "ValidationException", "Message": "Model package does not exist."}}
            raise ClientError(error, "DescribeModelPackage")  # type: ignore[arg-type]
        return self._client.describe_model_package(**kwargs)


def test_a_deleted_version_is_skipped(aws: tuple[Any, Any], caplog: pytest.LogCaptureFixture) -> None:
    sagemaker, _ = aws
    survivor = register(sagemaker, "Approved")
    deleted = register(sagemaker, "Approved")
    champion = find_champion(DeletedBetweenListAndDescribe(sagemaker, deleted), GROUP)
    assert champion is not None
    assert champion.model_package_arn == survivor
    assert "does not exist" in caplog.text


class ListingDenied:
    """A SageMaker client whose role may not list model packages."""

    def get_paginator(self, name: str) -> Any:
        raise ClientError(
            {"Error": {"Code": "AccessDeniedException", "Message": "not authorized"}},  # type: ignore[arg-type]
            "ListModelPackages",
        )


def test_a_listing_error_surfaces_instead_of_meaning_no_champion() -> None:
    # Treating "cannot list" as "no champion" would let any candidate through the gate.
    with pytest.raises(ClientError, match="AccessDenied"):
        find_champion(ListingDenied(), GROUP)
