"""Reference server, written the way SageMaker's scikit_bring_your_own sample serves.

That sample (amazon-sagemaker-examples, ``advanced_functionality/scikit_bring_your_own/
container/decision_trees/predictor.py``) is a Flask app run by gunicorn sync workers:
each request parses the body with ``pandas.read_csv``, predicts, and writes the result
back with ``DataFrame.to_csv``. Here it serves the same model dir as ml_code.serving.serve, with
the same preprocessing (the fitted FeatureTransformer, applied the pandas way), so the
benchmark compares serving stacks, not models. The sample's nginx front is left out (it
would only add a hop to the reference).

Run: ``REFERENCE_MODEL_DIR=DIR gunicorn -k sync -w 2 -b 127.0.0.1:PORT
benchmarks.reference_server.app:app``
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import flask
import pandas as pd
import xgboost as xgb

from ml_code.contract import MODEL_FILE, TRANSFORMER_FILE
from ml_code.features import FeatureTransformer

MODEL_DIR = Path(os.environ["REFERENCE_MODEL_DIR"])


class ScoringService:
    """Loads the model once per worker, like the sample's ScoringService."""

    booster: xgb.Booster | None = None
    transformer: FeatureTransformer | None = None

    @classmethod
    def get_model(cls) -> tuple[xgb.Booster, FeatureTransformer]:
        if cls.booster is None or cls.transformer is None:
            cls.transformer = FeatureTransformer.from_json((MODEL_DIR / TRANSFORMER_FILE).read_text())
            cls.booster = xgb.Booster(model_file=str(MODEL_DIR / MODEL_FILE))
            cls.booster.set_param({"nthread": 1})
        return cls.booster, cls.transformer

    @classmethod
    def predict(cls, frame: pd.DataFrame) -> object:
        booster, transformer = cls.get_model()
        return booster.inplace_predict(transformer.transform_frame(frame))


app = flask.Flask(__name__)


@app.route("/ping", methods=["GET"])
def ping() -> flask.Response:
    health = ScoringService.get_model() is not None
    return flask.Response(response="\n", status=200 if health else 404, mimetype="application/json")


@app.route("/invocations", methods=["POST"])
def transformation() -> flask.Response:
    if flask.request.content_type != "text/csv":
        return flask.Response(
            response="This predictor only supports CSV data", status=415, mimetype="text/plain"
        )
    _, transformer = ScoringService.get_model()
    data = flask.request.data.decode("utf-8")
    frame = pd.read_csv(io.StringIO(data), header=None, names=transformer.feature_names)
    predictions = ScoringService.predict(frame)
    out = io.StringIO()
    pd.DataFrame({"results": predictions}).to_csv(out, header=False, index=False)
    return flask.Response(response=out.getvalue(), status=200, mimetype="text/csv")
