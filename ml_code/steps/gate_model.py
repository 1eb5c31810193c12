"""A model as train packs it (``model.tar.gz``: booster + transformer.json), loaded and scored.

Evaluate scores this run's model on the transformed test split, and the approved champion on this
run's *raw* test rows (``test/raw-<host>.csv``) through the champion's own transformer, so a champion
fitted on other columns or another transformer version is compared on the same rows.
"""

from __future__ import annotations

import tarfile
from collections.abc import Sequence
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from ml_code import contract
from ml_code.errors import DataValidationError
from ml_code.features import FeatureTransformer
from ml_code.steps.chunks import canonical_booleans
from ml_code.xgboost_lib import xgb

MODEL_ARCHIVE: Final = "model.tar.gz"
_BOOLEAN_CATEGORIES: Final = frozenset({"True", "False"})


def extract_model(model_input_dir: Path, dest: Path) -> Path:
    """Unpack ``model.tar.gz`` from ``model_input_dir`` into ``dest``; returns the model dir.

    A directory that already holds the model files is returned as is. Raises
    DataValidationError when neither is there or the archive has unsafe paths.
    """
    if (model_input_dir / contract.MODEL_FILE).is_file():
        return model_input_dir
    archive = model_input_dir / MODEL_ARCHIVE
    if not archive.is_file():
        found = sorted(p.name for p in model_input_dir.glob("*")) if model_input_dir.is_dir() else []
        raise DataValidationError(f"no {MODEL_ARCHIVE} in {model_input_dir}; found {found}")
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar.getmembers():
            target = (dest / member.name).resolve()
            if not target.is_relative_to(dest.resolve()) or member.issym() or member.islnk():
                raise DataValidationError(f"{MODEL_ARCHIVE} has an unsafe member {member.name!r}")
        tar.extractall(dest)  # noqa: S202 - every member was checked above
    return dest


def load_model(model_dir: Path) -> tuple[xgb.Booster, FeatureTransformer]:
    """The booster and transformer train wrote; raises DataValidationError for a missing file."""
    missing = [f for f in (contract.MODEL_FILE, contract.TRANSFORMER_FILE) if not (model_dir / f).is_file()]
    if missing:
        raise DataValidationError(f"model artefacts {missing} not found in {model_dir}")
    booster = xgb.Booster()
    booster.load_model(str(model_dir / contract.MODEL_FILE))
    transformer = FeatureTransformer.from_json(
        (model_dir / contract.TRANSFORMER_FILE).read_text(encoding="utf-8")
    )
    return booster, transformer


def predict(booster: xgb.Booster, features: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    """Positive-class probability (binary), class probabilities (multiclass) or values (regression)."""
    return np.asarray(booster.predict(xgb.DMatrix(features)), dtype=np.float64)


def raw_partner(part: Path) -> Path:
    """``raw-<host>.csv`` beside ``part-<host>-00.csv``: the same test rows, in the same order, as read."""
    host = part.name.removeprefix("part-").rsplit("-", 1)[0]
    return part.with_name(f"raw-{host}.csv")


def _as_read(frame: pd.DataFrame, transformer: FeatureTransformer) -> pd.DataFrame:
    """Raw text as preprocess hands it to a transformer: boolean spellings canonical in boolean features."""
    for spec in transformer.features:
        if spec.get("kind") == "categorical" and _BOOLEAN_CATEGORIES & set(spec.get("categories") or ()):
            frame[spec["name"]] = canonical_booleans(frame[spec["name"]])
    return frame


def score_raw(
    booster: xgb.Booster, transformer: FeatureTransformer, parts: Sequence[Path], chunk_rows: int
) -> npt.NDArray[np.float64]:
    """Predictions for the raw test rows behind ``parts`` (in their order), a chunk at a time.

    Raises:
        DataValidationError: a raw file is missing or unreadable, or lacks one of the model's features.
    """
    predictions: list[npt.NDArray[np.float64]] = []
    for part in parts:
        raw = raw_partner(part)
        if not raw.is_file():
            raise DataValidationError(f"{raw.name} (the raw rows of {part.name}) not found")
        try:
            with pd.read_csv(raw, dtype=str, chunksize=chunk_rows) as reader:
                for frame in reader:
                    features = transformer.transform_frame(_as_read(frame, transformer))
                    predictions.append(predict(booster, features))
        except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            raise DataValidationError(f"cannot read {raw.name}: {exc}") from exc
    return np.concatenate(predictions) if predictions else np.empty(0)
