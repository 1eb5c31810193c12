"""A split's part files as XGBoost's quantised matrix, built from an ``xgboost.DataIter`` a chunk at a time.

``QuantileDMatrix`` walks the iterator a few times (sketch, then bins) and keeps only the binned
matrix (about one byte per cell at the default 256 bins, against four for float32 and more for a
DataFrame); no pass holds more than one chunk of raw rows. ``ExtMemQuantileDMatrix`` (external
memory, ``--external-memory``) also pages the binned matrix out to a cache folder on the instance's
volume, for a shard bigger than the host's memory; training then reads the pages back every round.

A host whose shard has no row still takes part in a distributed job: its iterator gives one empty
batch (0 rows, the transformer's columns), because XGBoost 3.0.5 cannot build a matrix from an
iterator without a batch but trains with an empty local matrix (it warns "Empty dataset at worker");
the tests train two hosts where one has none.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ml_code.features import FeatureTransformer
from ml_code.steps.split_files import Matrix, Vector, read_split
from ml_code.xgboost_lib import xgb


class SplitIter(xgb.DataIter):
    """Batches of ``chunk_rows`` rows from ``files`` (checked by :func:`read_chunks`), restartable."""

    def __init__(
        self,
        files: Sequence[Path],
        transformer: FeatureTransformer,
        chunk_rows: int,
        cache_prefix: str | None = None,
    ) -> None:
        super().__init__(cache_prefix=cache_prefix, release_data=True)
        self._files, self._transformer, self._chunk_rows = list(files), transformer, chunk_rows
        self._batches: Iterator[tuple[Matrix, Vector]] | None = None

    def _stream(self) -> Iterator[tuple[Matrix, Vector]]:
        empty = True
        for batch in read_split(self._files, self._transformer, self._chunk_rows):
            empty = False
            yield batch
        if empty:
            width = len(self._transformer.output_names)
            yield np.empty((0, width), dtype=np.float32), np.empty(0, dtype=np.float64)

    def reset(self) -> None:
        self._batches = None

    def next(self, input_data: Callable[..., Any]) -> bool:
        if self._batches is None:
            self._batches = self._stream()
        batch = next(self._batches, None)
        if batch is None:
            return False
        input_data(data=batch[0], label=batch[1])
        return True


def split_matrix(
    files: Sequence[Path],
    transformer: FeatureTransformer,
    chunk_rows: int,
    *,
    ref: xgb.DMatrix | None = None,
    cache_dir: Path | None = None,
) -> xgb.DMatrix:
    """The quantised matrix of ``files`` (``ref``: the training matrix, whose bins a validation set
    must share); in external memory under ``cache_dir`` when given.

    Raises:
        DataValidationError: a file is bad (see :func:`ml_code.steps.split_files.read_chunks`).
    """
    if cache_dir is None:
        return xgb.QuantileDMatrix(SplitIter(files, transformer, chunk_rows), ref=ref)
    cache_dir.mkdir(parents=True, exist_ok=True)
    prefix = str(cache_dir / ("validation" if ref is not None else "train"))
    return xgb.ExtMemQuantileDMatrix(SplitIter(files, transformer, chunk_rows, cache_prefix=prefix), ref=ref)
