"""Property tests for the request path: nothing a client sends raises anything but a
PayloadError, valid generated rows always parse to the right shape, and the column-wise
batch transform and CSV reader always agree with FeatureTransformer.transform_rows."""

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
from serving_models import build_model, raw_frame

from ml_code import contract
from ml_code.errors import PayloadError
from ml_code.serving import batch_features, inference

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


# ---------------------------------------------------------------- the column-wise CSV reader
# ml_code/serving/csv_columns.py reads large CSV bodies straight into the matrix. Whatever it answers
# must be, bit for bit, what csv.reader + transform_rows give; everything else it must decline.

#: number fields it reads, and ones it must leave to the reference (which may accept them)
READ_NUMBERS = ["", "-0", "0", ".5", "5.", "-.5", "007", "12345678901234", "1234567.8901234",
                "-1234567890123.4", "99999999999999", "9999999999999.9", "0.0000000000001"]  # fmt: skip
DECLINED_NUMBERS = ["-", ".", "..5", "1.2.3", "--1", "1-", "1e5", "1E-3", " 3", "3 ", "+3", "1_0", "nan",
                    "inf", "-Infinity", "0x1A", "١٢", "000000000000001", "123456789012345",
                    "0.30000000000000004", "1\t", "\x0b1", "abc"]  # fmt: skip
READ_CATEGORIES = ["", "DSL", "Fiber optic", "No", "north", "dsl", "Electronic chec", "Electronic checks",
                   "zz", "a" * 40, "No!", "x y"]  # fmt: skip
DECLINED_CATEGORIES = ["DSL ", " DSL", "No\t", "\x1cNo", "Ünïcode", "x\x00y", '"DSL"', "a\rb"]  # fmt: skip
CLEAN_NUMBER = st.sampled_from(["", "0", "-3", "12", "4.25", "-0.5", "1234567.89", "7.", ".25"])
CLEAN_CATEGORY = st.sampled_from(["", "DSL", "north", "One year", "Electronic check", "nope", "Two year"])
MESSY_NUMBER = (
    st.sampled_from(READ_NUMBERS + DECLINED_NUMBERS)
    | st.integers(-(10**17), 10**17).map(str)
    | st.floats(allow_nan=True, allow_infinity=True).map(repr)
    | st.floats(-1e6, 1e6).map(lambda v: f"{v:.3f}")
    | TEXT
)
MESSY_CATEGORY = st.sampled_from(READ_CATEGORIES + DECLINED_CATEGORIES) | TEXT
DECLINED_EDITS = ["drop a field", "add a field", "header first", "blank line", "crlf", "quotes",
                  "leading newline", "blank last line"]  # fmt: skip
EDITS = st.sampled_from([*DECLINED_EDITS, "no final newline"])


def clean_lines(model: inference.Model, rows: int, data: st.DataObject | None = None) -> list[list[str]]:
    cells = [CLEAN_NUMBER if s["kind"] == "numeric" else CLEAN_CATEGORY for s in model.transformer.features]
    if data is not None:
        return [list(r) for r in data.draw(st.lists(st.tuples(*cells), min_size=1, max_size=60))]
    frame = raw_frame(rows).drop(columns=["churn"])
    return [line.split(",") for line in frame.to_csv(index=False, header=False).splitlines()]


def body(model: inference.Model, lines: list[list[str]], edit: str | None = None) -> str:
    text = [",".join(cells) for cells in lines]
    if edit == "drop a field":
        text[-1] = text[-1].rsplit(",", 1)[0]
    elif edit == "add a field":
        text[0] += ",1"
    elif edit == "header first":
        text.insert(0, ",".join(model.transformer.feature_names))
    elif edit == "blank line":
        text.insert(len(text) // 2, "")
    elif edit == "quotes":
        text[0] = '"' + text[0].replace(",", '","', 1) + '"'
    joined = ("\r\n" if edit == "crlf" else "\n").join(text)
    joined = "\n" + joined if edit == "leading newline" else joined
    joined = joined + "\n\n" if edit == "blank last line" else joined
    return joined if edit == "no final newline" else joined + "\n"


def reference_matrix(model: inference.Model, text: str) -> np.ndarray | PayloadError:
    """csv.reader, the header rule of predict_fn, then transform_rows (the per-cell path)."""
    try:
        rows = [row for row in csv.reader(io.StringIO(text, newline="")) if row]
        if rows and rows[0] == model.transformer.feature_names:
            rows = rows[1:]
        if not rows:
            return PayloadError("no rows")
        return model.transformer.transform_rows(rows)
    except PayloadError as exc:
        return exc
    except csv.Error as exc:
        return PayloadError(str(exc))


def assert_same_or_declined(model: inference.Model, text: str) -> np.ndarray | None:
    """The reader's answer, after checking it is the reference's bit for bit (or None)."""
    fast = model.batch._csv.parse(text)
    if fast is not None:
        expected = reference_matrix(model, text)
        assert not isinstance(expected, PayloadError), f"answered a body the reference refuses: {expected}"
        assert (fast.dtype, fast.shape) == (expected.dtype, expected.shape)
        assert fast.tobytes() == expected.tobytes()  # -0.0 and every last bit included
    return fast


def with_cell(model: inference.Model, kind: str, cell: str) -> list[str]:
    """A clean 40-row body with ``cell`` in row 5 of each feature of ``kind``, one body each."""
    bodies = []
    for column, spec in enumerate(model.transformer.features):
        if (spec["kind"] == "numeric") == (kind == "numeric"):
            lines = clean_lines(model, 40)
            lines[5][column] = cell
            bodies.append(body(model, lines))
    return bodies


@pytest.mark.parametrize("cell", READ_NUMBERS)
def test_csv_columns_reads_these_numbers_as_the_reference_does(model: inference.Model, cell: str) -> None:
    for text in with_cell(model, "numeric", cell):
        assert assert_same_or_declined(model, text) is not None


@pytest.mark.parametrize("cell", DECLINED_NUMBERS)
def test_csv_columns_leaves_other_numbers_to_the_reference(model: inference.Model, cell: str) -> None:
    for text in with_cell(model, "numeric", cell):
        assert assert_same_or_declined(model, text) is None


@pytest.mark.parametrize("cell", READ_CATEGORIES)
def test_csv_columns_reads_these_categories_as_the_reference_does(model: inference.Model, cell: str) -> None:
    for text in with_cell(model, "categorical", cell):
        assert assert_same_or_declined(model, text) is not None


@pytest.mark.parametrize("cell", DECLINED_CATEGORIES)
def test_csv_columns_leaves_other_categories_to_the_reference(model: inference.Model, cell: str) -> None:
    for text in with_cell(model, "categorical", cell):
        assert assert_same_or_declined(model, text) is None


@pytest.mark.parametrize("edit", DECLINED_EDITS)
def test_csv_columns_leaves_unusual_layouts_to_the_reference(model: inference.Model, edit: str) -> None:
    assert assert_same_or_declined(model, body(model, clean_lines(model, 40), edit)) is None


def test_csv_columns_reads_a_body_without_a_final_newline(model: inference.Model) -> None:
    assert assert_same_or_declined(model, body(model, clean_lines(model, 40), "no final newline")) is not None


def test_csv_columns_reads_the_demo_traffic(model: inference.Model) -> None:
    # the bodies clients send (pandas' to_csv of raw rows, missing values as empty fields) must
    # take the fast path, or the benchmark's figures would not be about it
    frame = raw_frame(300).drop(columns=["churn"])
    assert frame.isna().any().any()
    text = frame.to_csv(index=False, header=False)
    assert len(text) >= batch_features.MIN_CSV_CHARS
    assert model.batch.transform_csv(text) is not None
    assert assert_same_or_declined(model, text) is not None


@FUZZ
@given(data=st.data(), messy=st.integers(0, 3), edit=st.none() | EDITS)
def test_csv_columns_answers_only_what_the_reference_answers(
    model: inference.Model, data: st.DataObject, messy: int, edit: str | None
) -> None:
    # GIVEN clean generated rows with a few messy cells and maybe a layout edit
    lines = clean_lines(model, 0, data)
    for _ in range(messy):
        row = data.draw(st.integers(0, len(lines) - 1))
        column = data.draw(st.integers(0, len(lines[0]) - 1))
        numeric = model.transformer.features[column]["kind"] == "numeric"
        lines[row][column] = data.draw(MESSY_NUMBER if numeric else MESSY_CATEGORY)
    text = body(model, lines, edit)
    # THEN the reader answers as the reference does, or not at all; and it answers clean bodies
    fast = assert_same_or_declined(model, text)
    assert fast is not None or messy or edit in DECLINED_EDITS


@FUZZ
@given(data=st.data(), messy=st.booleans())
def test_a_large_body_gets_the_same_answer_either_way(
    model: inference.Model, data: st.DataObject, messy: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a body above the size where predict_fn offers it to the column-wise reader
    lines = clean_lines(model, 0, data)
    if messy:
        column = data.draw(st.integers(0, len(lines[0]) - 1))
        numeric = model.transformer.features[column]["kind"] == "numeric"
        lines[-1][column] = data.draw(MESSY_NUMBER if numeric else MESSY_CATEGORY)
    text = body(model, lines * (batch_features.MIN_CSV_CHARS // len(body(model, lines)) + 1))
    accept = data.draw(st.sampled_from([*contract.SUPPORTED_CONTENT_TYPES]))
    # WHEN answered as served, and with the column-wise reader and writer switched off
    served = inference.respond(model, text, contract.CONTENT_TYPE_CSV, accept)
    with monkeypatch.context() as patch:
        patch.setattr(batch_features, "MIN_CSV_CHARS", 10**12)
        patch.setattr(inference, "MIN_VECTOR_ROWS", 10**12)
        reference = inference.respond(model, text, contract.CONTENT_TYPE_CSV, accept)
    # THEN the replies are identical, errors included
    assert served == reference
