"""The split files preprocess writes (``part-*.csv`` in a channel or folder), read a chunk at a time.

Every reader of a split (training's data iterator, evaluation) goes through :func:`read_chunks`, so
the checks and their words are the same everywhere: the file is readable, its header is
``__target__`` plus the transformer's output names, every cell is numeric, every row has a target
and, for a classifier, a class index the transformer knows. A message names the file (never its
folder: the same words in SageMaker and offline). A header-only file is an empty part, not an error;
a split with no rows in any of its files is (:func:`no_rows_message`).

Memory: one chunk of ``chunk_rows`` rows (pandas' frame and its float32 copy) at a time.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from ml_code import contract
from ml_code.errors import DataValidationError
from ml_code.features import FeatureTransformer

Matrix = npt.NDArray[np.float32]
Vector = npt.NDArray[np.float64]
#: Rows read at once when the job does not say (the pipeline passes ``--chunk-rows``).
DEFAULT_CHUNK_ROWS: Final = 100_000


def part_files(folder: Path) -> list[Path]:
    """The split's files in ``folder`` (``contract.SPLIT_PART_GLOB``), sorted by name; [] without any."""
    return sorted(p for p in folder.glob(contract.SPLIT_PART_GLOB) if p.is_file()) if folder.is_dir() else []


def no_rows_message(files: Sequence[Path], where: str) -> str:
    """What a split without a single row says: its files by name, or that there is none in ``where``."""
    if not files:
        return f"no {contract.SPLIT_PART_GLOB} file in {where}"
    names = ", ".join(p.name for p in files)
    return f"{names} {'has' if len(files) == 1 else 'have'} no rows"


def count_rows(files: Sequence[Path]) -> int:
    """The data rows of ``files`` (lines after each header), counted without parsing them: how big a
    host's share is before it is read (the split files are numbers, never a quoted line break)."""
    rows = 0
    for path in files:
        lines, last = 0, b"\n"
        with path.open("rb") as stream:
            while block := stream.read(1 << 20):
                lines, last = lines + block.count(b"\n"), block[-1:]
        rows += max(0, lines + (last != b"\n") - 1)
    return rows


def _check_header(path: Path, columns: Sequence[object], transformer: FeatureTransformer) -> None:
    expected = [contract.TARGET_COLUMN_IN_SPLITS, *transformer.output_names]
    if list(columns) != expected:
        raise DataValidationError(
            f"{path.name} header does not match transformer.json: expected {len(expected)} columns "
            f"starting {expected[:3]}, got {len(columns)} starting {list(columns)[:3]}"
        )


def _checked(path: Path, frame: pd.DataFrame, transformer: FeatureTransformer) -> tuple[Matrix, Vector]:
    bad = [str(c) for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    if bad:
        raise DataValidationError(f"{path.name} has non-numeric values in columns {bad[:5]}")
    # A copy: read_csv gives all-float columns one 2-D block, and the column would be a view of it,
    # so a kept target (Evaluate keeps every chunk's) would keep the whole chunk alive.
    target = frame.pop(contract.TARGET_COLUMN_IN_SPLITS).to_numpy(dtype=np.float64, copy=True)
    if np.isnan(target).any():
        raise DataValidationError(f"{path.name} has {int(np.isnan(target).sum())} rows without a target")
    if transformer.labels is not None:
        n_classes = len(transformer.labels)
        if not np.isin(target, np.arange(n_classes)).all():
            raise DataValidationError(f"{path.name} has class indices outside 0..{n_classes - 1}")
    return frame.to_numpy(dtype=np.float32), target


def read_chunks(
    path: Path, transformer: FeatureTransformer, chunk_rows: int = DEFAULT_CHUNK_ROWS
) -> Iterator[tuple[Matrix, Vector]]:
    """Features (float32) and target of ``path``, ``chunk_rows`` rows at a time; nothing when header-only.

    Raises:
        DataValidationError: naming the file -- missing, unreadable or empty, wrong header,
            non-numeric cells, rows without a target, class indices outside the transformer's labels.
    """
    if not path.is_file():
        raise DataValidationError(f"{path.name} not found in its channel")
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows must be >= 1, got {chunk_rows}")
    try:
        with pd.read_csv(path, chunksize=chunk_rows) as reader:
            checked_header = False
            for frame in reader:
                if not checked_header:
                    _check_header(path, list(frame.columns), transformer)
                    checked_header = True
                if not frame.empty:
                    yield _checked(path, frame, transformer)
            if not checked_header:  # header-only: pandas yields no chunk at all
                _check_header(path, list(pd.read_csv(path, nrows=0).columns), transformer)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataValidationError(f"cannot read {path.name}: {exc}") from exc


def read_split(files: Sequence[Path], transformer: FeatureTransformer, chunk_rows: int) -> Iterator[
    tuple[Matrix, Vector]
]:  # fmt: skip
    """Every non-empty chunk of ``files``, in order (see :func:`read_chunks`)."""
    for path in files:
        yield from read_chunks(path, transformer, chunk_rows)


def load_split(path: Path, transformer: FeatureTransformer) -> tuple[Matrix, Vector]:
    """Features and target of one whole split file (small files and tests; the steps stream).

    Raises DataValidationError naming the file: see :func:`read_chunks`, and a file without rows.
    """
    chunks = list(read_chunks(path, transformer))
    if not chunks:
        raise DataValidationError(no_rows_message([path], "its channel"))
    return np.concatenate([c[0] for c in chunks]), np.concatenate([c[1] for c in chunks])
