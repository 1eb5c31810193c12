"""The raw CSVs of a step's input, read a chunk of rows at a time, every field as its raw text.

``dtype=str`` keeps each field as written (so the row hash is over the text, and which columns are
numbers is decided over the whole training split, not per chunk); pandas' default NA strings
(``""``, ``NA``, ``NaN``, ``null``, ...) still read as missing. Every file must have the first
file's header; a chunk never holds more than ``chunk_rows`` rows.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Final

import pandas as pd

from ml_code.errors import DataValidationError

#: Rows read at once when the step is not told otherwise.
DEFAULT_CHUNK_ROWS: Final = 100_000
#: pandas' own spelling of booleans (read_csv's default true/false values), as one canonical text.
BOOLEANS: Final[dict[str, str]] = {
    "True": "True", "TRUE": "True", "true": "True", "False": "False", "FALSE": "False", "false": "False",
}  # fmt: skip


def raw_files(input_dir: Path, *, may_be_empty: bool = False) -> list[Path]:
    """Every ``*.csv`` under ``input_dir`` (any depth), sorted by path.

    Raises DataValidationError when there is none (unless ``may_be_empty``: one host of several may
    get no object of a sharded input), listing (up to 20 of) the files found.
    """
    files = sorted(p for p in input_dir.rglob("*.csv") if p.is_file())
    if not files and not may_be_empty:
        found = sorted(str(p.relative_to(input_dir)) for p in input_dir.rglob("*") if p.is_file())[:20]
        raise DataValidationError(f"no CSV file under {input_dir}; files found: {found}")
    return files


def _not_utf8(path: Path, exc: UnicodeDecodeError) -> str:
    byte = exc.object[exc.start : exc.start + 1]
    return f"{path.name} is not UTF-8 text (byte {byte!r}: {exc.reason}); save it as UTF-8"


def _header(path: Path) -> list[str]:
    try:
        columns = pd.read_csv(path, nrows=0, dtype=str).columns
    except pd.errors.EmptyDataError:
        raise DataValidationError(f"{path.name} is empty (no header, no rows)") from None
    except UnicodeDecodeError as exc:
        raise DataValidationError(_not_utf8(path, exc)) from None
    return [str(c).strip() for c in columns]


def common_header(files: Sequence[Path]) -> list[str]:
    """The header every file shares; raises DataValidationError naming the file that differs."""
    first = _header(files[0])
    for path in files[1:]:
        columns = _header(path)
        if columns != first:
            raise DataValidationError(f"{path.name} has columns {columns}, but {files[0].name} has {first}")
    return first


def read_chunks(files: Sequence[Path], chunk_rows: int) -> Iterator[pd.DataFrame]:
    """Every row of ``files`` in order, ``chunk_rows`` at most at a time, as text (NaN: missing).

    Raises DataValidationError for a file whose rows do not fit its header.
    """
    if chunk_rows < 1:
        raise ValueError(f"chunk rows must be at least 1, got {chunk_rows}")
    if not files:
        return
    header = common_header(files)
    for path in files:
        try:
            with pd.read_csv(path, dtype=str, chunksize=chunk_rows) as reader:
                for chunk in reader:
                    chunk.columns = header
                    yield chunk.reset_index(drop=True)
        except pd.errors.ParserError as exc:
            raise DataValidationError(f"{path.name} is not valid CSV: {exc}") from exc
        except UnicodeDecodeError as exc:
            raise DataValidationError(_not_utf8(path, exc)) from None


def canonical_booleans(column: pd.Series[str]) -> pd.Series[str]:
    """``column`` with pandas' boolean spellings as ``True``/``False`` (what a JSON client's
    ``true`` becomes in serving), every other value as it was."""
    return column.map(lambda v: BOOLEANS.get(v, v) if isinstance(v, str) else v)


def stripped(column: pd.Series[str]) -> pd.Series[str]:
    """Each text value without surrounding blanks (missing values stay missing).

    Not ``column.str.strip()``: pandas' ``.str`` methods keep memory per call (pandas-dev/pandas#44981),
    about 16 MB per 100,000-row chunk here, so a pass over 10M rows grew by gigabytes; ``map`` does not.
    """
    return column.map(str.strip, na_action="ignore")
