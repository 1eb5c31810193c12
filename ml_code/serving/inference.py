"""Serving handlers on the SageMaker hosting contract: raw feature rows in, predictions out.

``model_fn``/``input_fn``/``predict_fn``/``output_fn`` are what the XGBoost framework
container's script mode (and ``ml_code.serving.serve`` locally) call. The model dir holds the
booster (contract.MODEL_FILE) and the fitted FeatureTransformer (contract.TRANSFORMER_FILE),
so callers send *raw* rows and never re-implement preprocessing.

Request bodies (Content-Type; parameters such as ``charset`` are ignored, UTF-8 only):

- ``text/csv``: one row per line, values in ``feature_names`` order, no header (a first
  line equal to the feature names is skipped); an empty cell is a missing value.
- ``application/json``: ``{"instances": [row, ...]}``, a bare list of rows, a single list
  row ``[v, ...]`` or a single object row ``{"name": v, ...}``; a row is a list in
  ``feature_names`` order or an object keyed by feature name; ``null``/``NaN`` = missing.
- ``application/jsonlines``: one row (list or object) per non-blank line.

Responses (Accept; ``*/*`` or none -> ``application/json``, the model's
``SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT``), one record per row:
binary ``predicted_label`` + ``probability`` (of the positive class); multiclass
``predicted_label`` + ``probabilities`` by label; regression ``score``. JSON wraps the
records as ``{"predictions": [...]}``; JSON lines writes one record per line; CSV writes
``label,probability`` / ``label,p(label_0),p(label_1),...`` (in ``labels`` order) /
``score`` per line, without a header.

Entry points. The deployed container (the XGBoost image's serving toolkit) imports the model's
``code/inference.py``, which exposes :func:`model_fn` and :func:`transform_fn` only; ``make serve``
calls :func:`respond`, the same core. Bad requests become a 4xx (400/406/415) whose text/plain
body names the problem; anything unexpected a 500 with a generic message and the traceback in
the log. The toolkit would turn any *raised* exception into a bare 500, so :func:`transform_fn`
returns its error answers instead. The step handlers ``input_fn``/``predict_fn``/``output_fn``
raise :class:`~ml_code.errors.PayloadError` subclasses and are the unit-tested pieces.

Only the stdlib, numpy and xgboost run per request (no pandas), to stay fast.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from ml_code.contract import CONTENT_TYPE_ERROR, MODEL_FILE, TRANSFORMER_FILE
from ml_code.errors import PayloadError
from ml_code.features import FeatureTransformer, Label
from ml_code.serving import hosting, prediction_text
from ml_code.serving import payload_codec as codec
from ml_code.serving.batch_features import BatchTransformer
from ml_code.serving.dense_predict import DensePredictor
from ml_code.xgboost_lib import xgb

__all__ = [
    "Model",
    "Payload",
    "Prediction",
    "Reply",
    "input_fn",
    "model_fn",
    "output_fn",
    "predict_fn",
    "respond",
    "transform_fn",
]

LOG: Final = logging.getLogger("ml_code.serving.inference")
Payload = codec.Payload
#: From this many rows on, class probabilities are written by ml_code/serving/prediction_text.py (the
#: same bytes, from numpy arrays); below, its fixed cost outweighs the per-row f-strings.
MIN_VECTOR_ROWS: Final = 128
#: The body of a 500: the reason is in the log, not in the answer to the client.
INTERNAL_ERROR_MESSAGE: Final = b"internal error while predicting; see the endpoint's log"


@dataclass(frozen=True)
class Model:
    """A loaded model: the booster plus the transformer that feeds it."""

    booster: xgb.Booster
    transformer: FeatureTransformer
    batch: BatchTransformer  # transform_rows, column-wise for large batches
    predict: DensePredictor  # booster.inplace_predict, without its per-call overhead

    @property
    def problem_type(self) -> str:
        return self.transformer.problem_type


@dataclass(frozen=True)
class Prediction:
    """Raw model output for a batch, plus what output_fn needs to encode it."""

    problem_type: str
    values: npt.NDArray[np.float32]  # (n,) probability/score, or (n, k) class probabilities
    labels: list[Label] | None


@dataclass(frozen=True)
class Reply:
    """One answer to /invocations: HTTP status, body and the full Content-Type header."""

    status: int
    body: bytes
    content_type: str


def model_fn(model_dir: str) -> Model:
    """Load the booster and transformer from ``model_dir``.

    Raises FileNotFoundError naming a missing artefact, ValueError when the two disagree.
    """
    root = Path(model_dir)
    for name in (MODEL_FILE, TRANSFORMER_FILE):
        if not (root / name).is_file():
            raise FileNotFoundError(f"{name} not found in model dir {root} (found: {sorted(root.iterdir())})")
    transformer = FeatureTransformer.from_json((root / TRANSFORMER_FILE).read_text(encoding="utf-8"))
    booster = xgb.Booster(model_file=str(root / MODEL_FILE))
    # One worker per core serves requests; OpenMP threads per request would oversubscribe.
    booster.set_param({"nthread": 1})
    if booster.num_features() != len(transformer.output_names):
        raise ValueError(
            f"model expects {booster.num_features()} features but the transformer produces "
            f"{len(transformer.output_names)}; {MODEL_FILE} and {TRANSFORMER_FILE} are from different runs"
        )
    return Model(
        booster=booster,
        transformer=transformer,
        batch=BatchTransformer(transformer),
        predict=DensePredictor(booster),
    )


def input_fn(body: bytes | str, content_type: str) -> Payload:
    """Parse a request body into rows; raises PayloadError (415 for an unknown content type)."""
    return codec.decode(body, content_type)


def predict_fn(data: Payload, model: Model) -> Prediction:
    """Transform the raw rows and predict; raises PayloadError naming a bad row or column."""
    matrix = model.batch.transform_csv(data.text) if data.text is not None else None
    if matrix is None:
        rows = data.rows
        if data.content_type == codec.CSV and rows and rows[0] == model.batch.names:
            rows = rows[1:]  # a header line
            if not rows:
                raise codec.PayloadError("the CSV body holds only a header line; send at least one row")
        matrix = model.batch.transform_rows(rows)
    values = model.predict(matrix)
    if model.problem_type == "multiclass" and values.ndim == 1:
        # multi:softmax returns class indices; present them as one-hot probabilities
        values = np.eye(len(model.transformer.labels or []), dtype=np.float32)[values.astype(np.int64)]
    return Prediction(
        problem_type=model.problem_type,
        values=values,
        labels=model.transformer.labels,
    )


def output_fn(prediction: Prediction, accept: str) -> tuple[bytes, str]:
    """Encode predictions for ``accept``; raises UnsupportedAcceptError (406) when none fits.

    Wildcards (``*/*``, ``application/*``) pick the model's default response type.
    """
    content_type = codec.negotiate(accept, default=hosting.default_accept())
    if len(prediction.values) >= MIN_VECTOR_ROWS and prediction.labels is not None:
        encode = (
            prediction_text.binary_text
            if prediction.problem_type == "binary"
            else prediction_text.multiclass_text
        )
        body = encode(prediction.values, prediction.labels, content_type)
        if body is not None:
            return body, content_type
    if content_type == codec.CSV:
        return _csv(prediction).encode("utf-8"), content_type
    return codec.encode(_records(prediction), content_type), content_type


def respond(model: Model, body: bytes | str, content_type: str, accept: str) -> Reply:
    """The three handlers in a row, with every outcome an answer (never an exception)."""
    try:
        out, media_type = output_fn(predict_fn(input_fn(body, content_type), model), accept)
    except PayloadError as exc:
        return Reply(exc.status, str(exc).encode("utf-8"), CONTENT_TYPE_ERROR)
    except Exception:
        LOG.exception("unexpected error while predicting")
        return Reply(500, INTERNAL_ERROR_MESSAGE, CONTENT_TYPE_ERROR)
    return Reply(200, out, hosting.response_content_type(media_type))


def transform_fn(model: Model, body: bytes | str, content_type: str, accept: str) -> Any:
    """The serving toolkit's hook: :func:`respond`'s answer as the toolkit's Flask response.

    Runs only inside the SageMaker container (sagemaker-containers is imported here, not at
    module level, so ``make serve`` and the tests need no Flask).
    """
    from sagemaker_containers.beta.framework import worker  # noqa: PLC0415 - the image's toolkit

    reply = respond(model, body, content_type, accept)
    return worker.Response(
        response=reply.body, status=reply.status, headers={"Content-Type": reply.content_type}
    )


def _scores(values: npt.NDArray[np.float32]) -> list[float]:
    """Regression values at float32 precision (7 significant digits, no float64 noise)."""
    return [float(f"{v:.7g}") for v in values.tolist()]


def _probabilities(values: npt.NDArray[np.float32]) -> list[Any]:
    """Probabilities rounded to 7 decimals (their float32 precision), as Python floats."""
    rounded: list[Any] = np.round(values.astype(np.float64), 7).tolist()
    return rounded


def _records(prediction: Prediction) -> list[dict[str, Any]]:
    """One output record per row (see module doc)."""
    if prediction.problem_type == "regression":
        return [{"score": v} for v in _scores(prediction.values)]
    labels = prediction.labels or []
    probs = _probabilities(prediction.values)
    if prediction.problem_type == "binary":
        return [{"predicted_label": labels[p >= 0.5], "probability": p} for p in probs]
    keys = [str(label) for label in labels]
    return [
        {"predicted_label": labels[w], "probabilities": dict(zip(keys, row, strict=True))}
        for w, row in zip(prediction.values.argmax(axis=1).tolist(), probs, strict=True)
    ]


def _csv(prediction: Prediction) -> str:
    """Header-less CSV lines built straight from the arrays (the fast path for big batches)."""
    if prediction.problem_type == "regression":
        return "".join(f"{v!r}\n" for v in _scores(prediction.values))
    labels = codec.csv_cells(prediction.labels or [])
    probs = _probabilities(prediction.values)
    if prediction.problem_type == "binary":
        return "".join(f"{labels[p >= 0.5]},{p!r}\n" for p in probs)
    winners = prediction.values.argmax(axis=1).tolist()
    return "".join(f"{labels[w]},{','.join(map(repr, row))}\n" for w, row in zip(winners, probs, strict=True))
