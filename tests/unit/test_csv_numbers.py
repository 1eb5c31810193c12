"""The column-wise CSV reader's two number readers (ml_code/serving/csv_numbers.py) against the reference.

A batch whose numbers are all at most 8 characters long is read by the one-word reader
(``_short``); any longer number sends the whole batch to the word-by-word one (``_long``).
Whatever either answers must be csv.reader + transform_rows' matrix, bit for bit; anything
else they must decline.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_payload_fuzz import FUZZ, assert_same_or_declined, body, clean_lines, model

from ml_code.serving import inference
from ml_code.serving.csv_numbers import NumberFields

__all__ = ["model"]  # the fixture, shared with test_payload_fuzz

#: what float() reads and the readers accept: an optional minus, digits, at most one dot
DECIMAL = re.compile(r"(-?([0-9]+\.?[0-9]*|\.[0-9]+))?")
SHORT_CELLS = ["", "0", "-0", "7", "-7", ".5", "5.", "-.5", "-5.", "00000007", "99999999", "-9999999",
               "9999999.", ".9999999", "-.999999", "1234.567", "0.000001", "12345678"]  # fmt: skip
DECLINED_SHORT = ["-", ".", "-.", "..5", "1.2.3", "--1", "1-", "-1-", "1e5", "+3", " 3", "3 ", "nan",
                  "inf", "1_0", "0x1A", "abc", "1\t", "١٢"]  # fmt: skip
#: short cells, mostly numbers, sometimes not
SHORT = st.text(alphabet="0123456789.-", max_size=8) | st.sampled_from(SHORT_CELLS + DECLINED_SHORT)


def with_numbers(model: inference.Model, cells: list[str]) -> str:
    """A clean body with ``cells`` in its numeric fields, row after row (categories left as drawn)."""
    lines = clean_lines(model, max(40, len(cells)))
    numeric = [i for i, spec in enumerate(model.transformer.features) if spec["kind"] == "numeric"]
    for line in lines:  # the sample's own numbers may be longer than 8 characters
        for column in numeric:
            line[column] = line[column][:8].rstrip(".") or "0"
    for n, cell in enumerate(cells):
        lines[n % len(lines)][numeric[n % len(numeric)]] = cell
    return body(model, lines)


@pytest.mark.parametrize("cell", SHORT_CELLS)
def test_the_short_reader_reads_these_as_the_reference_does(model: inference.Model, cell: str) -> None:
    assert assert_same_or_declined(model, with_numbers(model, [cell] * 6)) is not None


@pytest.mark.parametrize("cell", DECLINED_SHORT)
def test_the_short_reader_leaves_these_to_the_reference(model: inference.Model, cell: str) -> None:
    assert assert_same_or_declined(model, with_numbers(model, [cell])) is None


def test_a_batch_of_short_numbers_never_reaches_the_long_reader(
    model: inference.Model, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the long reader made to fail
    def refuse(*_: Any) -> None:
        raise AssertionError("the long reader was used")

    monkeypatch.setattr(NumberFields, "_long", refuse)
    # THEN short numbers are read without it, and a 9-character one reaches it
    assert assert_same_or_declined(model, with_numbers(model, SHORT_CELLS)) is not None
    with pytest.raises(AssertionError, match="long reader"):
        model.batch._csv.parse(with_numbers(model, ["123456789"]))


def test_both_readers_give_the_same_matrix(model: inference.Model) -> None:
    # GIVEN short numbers alone, and the same rows followed by one with a 10-character number
    short = with_numbers(model, SHORT_CELLS)
    long_row = with_numbers(model, ["1234567.89"]).splitlines(keepends=True)[0]
    # WHEN read: the first by the one-word reader, the second (every field of it) by the other
    alone, mixed = model.batch._csv.parse(short), model.batch._csv.parse(short + long_row)
    # THEN the rows they share are read alike
    assert alone is not None
    assert mixed is not None
    assert mixed[: len(alone)].tobytes() == alone.tobytes()


@FUZZ
@given(cells=st.lists(SHORT, min_size=1, max_size=80))
def test_short_cells_are_read_as_the_reference_reads_them_or_declined(
    model: inference.Model, cells: list[str]
) -> None:
    # GIVEN a body with these cells in its numeric fields
    text = with_numbers(model, cells)
    # THEN the reader answers as the reference does (checked inside), and answers whenever every
    # cell is a plain decimal
    fast = assert_same_or_declined(model, text)
    if all(DECIMAL.fullmatch(c) for c in cells):
        assert fast is not None
    assert fast is None or np.isfinite(fast).all()
