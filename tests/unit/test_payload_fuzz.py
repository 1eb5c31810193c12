"""Property tests for the request path: nothing a client sends raises anything but a
PayloadError, valid generated rows always parse to the right shape, and the column-wise
batch transform always agrees with FeatureTransformer.transform_rows."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from serving_models import build_model

from ml_code import contract, inference
from ml_code.errors import PayloadError

CONTENT_TYPES = st.sampled_from([*contract.SUPPORTED_CONTENT_TYPES, "text/csv; charset=utf-8", "text/plain"])
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)
SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | TEXT
JSON_VALUES = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=5) | st.dictionaries(TEXT, inner, max_size=5)
)
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> inference.Model:
    return inference.model_fn(str(build_model(Path(tmp_path_factory.mktemp("m")), "binary")))


def through_handlers(model: inference.Model, body: bytes | str, content_type: str) -> None:
    """All four handlers; a PayloadError is an acceptable answer, anything else is a bug."""
    error: PayloadError | None = None
    try:
        inference.output_fn(inference.predict_fn(inference.input_fn(body, content_type), model), "*/*")
    except PayloadError as exc:
        error = exc
    if error is not None:
        assert error.status in (400, 406, 413, 415)
        assert str(error)


@FUZZ
@given(body=st.binary(max_size=300), content_type=CONTENT_TYPES)
def test_arbitrary_bytes_only_raise_payload_errors(
    model: inference.Model, body: bytes, content_type: str
) -> None:
    through_handlers(model, body, content_type)


@FUZZ
@given(body=st.text(max_size=300), content_type=CONTENT_TYPES)
def test_arbitrary_text_only_raises_payload_errors(
    model: inference.Model, body: str, content_type: str
) -> None:
    through_handlers(model, body, content_type)


@FUZZ
@given(doc=JSON_VALUES, wrap=st.booleans(), lines=st.booleans())
def test_arbitrary_json_only_raises_payload_errors(
    model: inference.Model, doc: Any, wrap: bool, lines: bool
) -> None:
    if lines:
        through_handlers(
            model,
            "\n".join(json.dumps(d) for d in (doc if isinstance(doc, list) else [doc])),
            "application/jsonlines",
        )
    else:
        through_handlers(model, json.dumps({"instances": doc} if wrap else doc), contract.CONTENT_TYPE_JSON)


def rows_for(model: inference.Model, values: st.SearchStrategy[Any]) -> st.SearchStrategy[list[list[Any]]]:
    width = len(model.transformer.feature_names)
    return st.lists(st.lists(values, min_size=width, max_size=width), min_size=1, max_size=40)


NUMBER = st.none() | st.integers(-1000, 1000) | st.floats(-1e6, 1e6)
CATEGORY = st.none() | st.sampled_from(["DSL", "north", "One year", "zz"]) | TEXT
CELL = NUMBER | CATEGORY


def valid_rows(model: inference.Model) -> st.SearchStrategy[list[list[Any]]]:
    """Rows with a number (or nothing) in each numeric feature and any text in categorical ones."""
    cells = [NUMBER if spec["kind"] == "numeric" else CATEGORY for spec in model.transformer.features]
    return st.lists(st.tuples(*cells).map(list), min_size=1, max_size=40)


@FUZZ
@given(data=st.data(), fmt=st.sampled_from(["csv", "instances", "objects", "jsonl"]))
def test_valid_rows_parse_to_the_right_shape(model: inference.Model, data: st.DataObject, fmt: str) -> None:
    # GIVEN n well-formed rows (numbers, category names, missing values) in one of the formats
    names = model.transformer.feature_names
    rows = data.draw(valid_rows(model))
    if fmt == "csv":
        out = io.StringIO()
        csv.writer(out).writerows([["" if v is None else v for v in row] for row in rows])
        body, content_type = out.getvalue(), contract.CONTENT_TYPE_CSV
    elif fmt == "jsonl":
        body, content_type = "\n".join(json.dumps(r) for r in rows), contract.CONTENT_TYPE_JSONLINES
    else:
        instances = rows if fmt == "instances" else [dict(zip(names, r, strict=True)) for r in rows]
        body, content_type = json.dumps({"instances": instances}), contract.CONTENT_TYPE_JSON
    # WHEN parsed and predicted
    payload = inference.input_fn(body, content_type)
    prediction = inference.predict_fn(payload, model)
    # THEN one row of the full width per input row, and one prediction each
    assert len(payload.rows) == len(rows)
    assert all(len(r) == len(names) for r in payload.rows)
    assert prediction.values.shape == (len(rows),)


MESSY = CELL | st.booleans() | st.sampled_from(["", " ", " 3.5 ", "nan", "inf", "1e400", "x", "1_0"]) | TEXT


@FUZZ
@given(data=st.data(), as_objects=st.booleans())
def test_batch_transform_agrees_with_transform_rows(
    model: inference.Model, data: st.DataObject, as_objects: bool
) -> None:
    names = model.transformer.feature_names
    rows: list[Any] = data.draw(rows_for(model, MESSY).map(lambda r: (r * 32)[: max(32, len(r))]))
    if as_objects:
        rows = [dict(zip(names, r, strict=True)) for r in rows]
    try:
        expected = model.transformer.transform_rows(rows)
    except PayloadError as exc:
        with pytest.raises(PayloadError, match="^" + re.escape(str(exc)) + "$"):
            model.batch.transform_rows(rows)
        return
    assert np.array_equal(model.batch.transform_rows(rows), expected)
