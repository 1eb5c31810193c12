"""Vectorized path from a clean CSV body straight to the model's feature matrix.

The reference path (csv.reader -> rows of str -> FeatureTransformer.transform_rows) builds a
Python object per cell: about 3 ms for 1,000 rows of 10 features on the benchmark machine,
many times what the trees take to predict them. Here numpy reads the body as bytes: the
separators' positions, then each field's bytes as 64-bit words (numbers are summed digit by
digit eight at a time, categories are found by a hash of their words and then compared
whole), with no Python object per cell. This module decides which bodies it may read and
assembles the matrix; ml_code/serving/csv_numbers.py and csv_categories.py read the fields.

It owns no semantics. It answers only for bodies where its result is provably the
reference's and returns None for anything else, which then takes the reference path (and gets
its answer or its PayloadError, with the reference's message):

- ASCII text without ``"`` (no quoting), ``\\r`` or NUL, no blank lines, exactly one field per
  feature on every line, and a first line that is not the header: csv.reader then splits each
  line on commas, so the rows are ``line.split(",")``;
- numeric fields empty (missing) or ``-?digits[.digits]`` with at most 14 digits, which
  ``float()`` reads as the correctly rounded value of mantissa / 10**decimals, and so does
  float64 division here since both are exact (a leading or trailing dot is accepted, as
  ``float()`` accepts it);
- categorical fields empty (missing) or without surrounding whitespace, so ``str.strip`` leaves
  them as they are; a field equal to no category goes to ``__other__``, as in transform_rows.

tests/unit/test_payload_fuzz.py checks it against the reference on generated bodies.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import numpy.typing as npt

from ml_code.features import MISSING, OTHER, FeatureTransformer
from ml_code.serving.csv_categories import MAX_FEATURES, CategoryFields
from ml_code.serving.csv_numbers import MAX_NUMBER_CHARS, NumberFields
from ml_code.serving.csv_words import WORD, Ints

_COMMA: Final = 44
_NEWLINE: Final = 10
#: Up to this many bytes, the body's words are copied into one aligned array before they are
#: gathered (8 bytes per byte of text): numpy gathers aligned words several times faster.
_ALIGNED_WORDS_MAX: Final = 1 << 20


class CsvColumns:
    """``parse(text)``: the feature matrix of a clean CSV body (see module doc), else None."""

    def __init__(self, transformer: FeatureTransformer) -> None:
        self.width = len(transformer.feature_names)
        self.out_width = len(transformer.output_names)
        self.header = ",".join(transformer.feature_names)
        index = {name: i for i, name in enumerate(transformer.output_names)}
        numeric = [(i, s) for i, s in enumerate(transformer.features) if s["kind"] == "numeric"]
        categorical = [(i, s) for i, s in enumerate(transformer.features) if s["kind"] == "categorical"]
        self.numbers = NumberFields(
            fields=np.array([i for i, _ in numeric], dtype=np.intp),
            columns=np.array([index[s["name"]] for _, s in numeric], dtype=np.intp),
            medians=[float(s["median"]) for _, s in numeric],
            indicators=[
                (k, index[f"{s['name']}__missing"])
                for k, (_, s) in enumerate(numeric)
                if s["missing_indicator"]
            ],
        )
        # (feature ordinal, category) -> output column. Other categories can never equal a field
        # this path accepts (ASCII, no NUL, nothing str.strip would remove).
        known = {
            (k, str(c).encode()): index[f"{spec['name']}={c}"]
            for k, (_, spec) in enumerate(categorical)
            for c in spec["categories"]
            if str(c) and str(c).isascii() and "\x00" not in str(c) and str(c).strip() == str(c)
        }
        self.categories = (
            CategoryFields(
                fields=np.array([i for i, _ in categorical], dtype=np.intp),
                other=np.array([index[f"{s['name']}={OTHER}"] for _, s in categorical], dtype=np.intp),
                missing=np.array([index[f"{s['name']}={MISSING}"] for _, s in categorical], dtype=np.intp),
                known=known,
                width=self.out_width,
            )
            if 0 < len(categorical) <= MAX_FEATURES
            else None
        )
        # date features (transformer.json version 2) are read by the reference path
        dates = any(s["kind"] == "date" for s in transformer.features)
        self.usable = len(categorical) <= MAX_FEATURES and not dates
        key_words = self.categories.n_words if self.categories else 0
        #: zero bytes around the body: a field's words are read from its start or back from its end
        self.padding = bytes(8 * max(key_words, -(-MAX_NUMBER_CHARS // 8)) + 8)

    def parse(self, text: str) -> npt.NDArray[np.float32] | None:
        fields = self._fields(text) if self.usable else None
        if fields is None:
            return None
        raw, words, starts, ends = fields
        out = np.zeros((starts.shape[0], self.out_width), dtype=np.float32)
        if self.numbers.fields.size and not self.numbers.read(raw, words, starts, ends, out):
            return None
        if self.categories is not None and not self.categories.read(raw, words, starts, ends, out):
            return None
        return out

    def _fields(self, text: str) -> tuple[npt.NDArray[np.uint8], Any, Ints, Ints] | None:
        """The padded bytes, their words, and each field's start and end, (row, feature); or None."""
        unusual = not text or not text.isascii() or '"' in text or "\r" in text or "\x00" in text
        # A blank line (csv.reader skips it) has one field: the counts below refuse it, unless
        # every row has one field.
        blank_lines = self.width == 1 and (text.startswith("\n") or "\n\n" in text)
        if unusual or blank_lines or text[: text.find("\n") % (len(text) + 1)] == self.header:
            return None
        data = self.padding + text.encode("ascii") + (b"" if text.endswith("\n") else b"\n") + self.padding
        raw = np.frombuffer(data, dtype=np.uint8)
        newlines = raw == _NEWLINE
        ends = np.flatnonzero((raw == _COMMA) | newlines)  # the padding holds neither
        rows, extra = divmod(ends.size, self.width)
        if extra or np.count_nonzero(newlines) != rows:  # str.count("\n") takes 4x longer
            return None
        ends = ends.reshape(rows, self.width)
        if not (raw[ends[:, -1]] == _NEWLINE).all():
            return None
        starts = np.empty_like(ends)
        starts.ravel()[0] = len(self.padding)
        starts.ravel()[1:] = ends.ravel()[:-1] + 1
        words: Any = np.ndarray((raw.size - 7,), dtype=WORD, buffer=data, strides=(1,))  # one per offset
        if len(data) <= _ALIGNED_WORDS_MAX:
            words = np.ascontiguousarray(words)
        return raw, words, starts, ends
