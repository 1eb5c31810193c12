"""Deterministic generator of a realistic customer-churn dataset (binary target ``churn``).

Numeric and categorical features, missing values, ~20% positives and a real (noisy,
non-linear) signal, so a boosted model reaches an AUC around 0.85. ``drift`` shifts the
feature distributions (numeric means and scales, categorical mix) without changing how
churn depends on them, to simulate production drift for the monitoring demo.

:func:`generate` returns one frame; :func:`write_csv` streams any number of rows into one or
several CSV files, a chunk at a time (memory bounded by the chunk, not by the rows). Its rows are
made in blocks of :data:`BLOCK_ROWS`, each from its own generator seeded by ``(seed, block)``, so
a seed gives the same rows whatever the chunk size; they are not :func:`generate`'s rows (one
generator for the whole frame), which existing callers keep.

CLI: ``python -m ml_code.sample_data --rows N --seed S [--drift X] --out FILE``, or, streaming,
``... --out FILE --files K [--chunk-rows C]``: K files ``<stem>-00<suffix>`` ..., the blocks dealt
round-robin (file ``i`` gets blocks ``i, i + K, ...``).
"""

from __future__ import annotations

import argparse
import itertools
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

TARGET: Final = "churn"
CONTRACTS: Final = ("Month-to-month", "One year", "Two year")
PAYMENTS: Final = ("Electronic check", "Mailed check", "Bank transfer", "Credit card")
INTERNET: Final = ("DSL", "Fiber optic", "No")
REGIONS: Final = ("north", "south", "east", "west")
# Calibrated so that ~20% of customers churn at drift 0.
_INTERCEPT: Final = -1.72
#: Rows of one block of :func:`write_csv`'s stream: the unit its rows are seeded by.
BLOCK_ROWS: Final = 1000
DEFAULT_CHUNK_ROWS: Final = 100_000


def _mix(base: tuple[float, ...], toward: int, drift: float) -> npt.NDArray[np.float64]:
    """Category probabilities moved toward one category by ``drift`` (0 = unchanged)."""
    probs = np.asarray(base, dtype=np.float64)
    shift = min(max(drift, 0.0), 1.0) * 0.5
    probs = probs * (1 - shift)
    probs[toward] += shift
    return np.asarray(probs / probs.sum(), dtype=np.float64)


def _with_missing(
    values: npt.NDArray[np.float64], rate: float, rng: np.random.Generator
) -> npt.NDArray[np.float64]:
    out = values.astype(np.float64)
    out[rng.random(len(out)) < rate] = np.nan
    return out


def generate(rows: int, seed: int, drift: float = 0.0) -> pd.DataFrame:
    """Return ``rows`` customers (same seed and drift -> same frame); raises ValueError for rows < 1."""
    if rows < 1:
        raise ValueError(f"rows must be at least 1, got {rows}")
    return _frame(rows, np.random.default_rng(seed), drift)


def _frame(rows: int, rng: np.random.Generator, drift: float) -> pd.DataFrame:
    contract = rng.choice(len(CONTRACTS), size=rows, p=_mix((0.5, 0.25, 0.25), 0, drift))
    payment = rng.choice(len(PAYMENTS), size=rows, p=_mix((0.35, 0.2, 0.22, 0.23), 0, drift))
    internet = rng.choice(len(INTERNET), size=rows, p=_mix((0.35, 0.45, 0.2), 1, drift))
    region = rng.choice(len(REGIONS), size=rows, p=_mix((0.3, 0.25, 0.25, 0.2), 3, drift))
    # Long contracts go with long tenure; drift brings in newer, pricier, needier customers.
    tenure = np.clip(rng.gamma(2.0, 9.0 + 8.0 * contract, rows) * (1 - 0.3 * drift), 0, 72).round()
    monthly = np.clip(
        rng.normal(55 + 25 * (internet == 1) - 30 * (internet == 2) + 15 * drift, 18 * (1 + 0.3 * drift)),
        18,
        130,
    ).round(2)
    total = (tenure * monthly * rng.normal(1.0, 0.05, rows)).round(2)
    support_calls = rng.poisson(1.2 * (1 + drift) + 0.8 * (payment == 0), rows)
    age = np.clip(rng.normal(45 - 8 * drift, 14, rows), 18, 90).round()
    products = rng.integers(1, 5, rows)

    logit = (
        _INTERCEPT
        + 1.4 * (contract == 0)
        - 0.9 * (contract == 2)
        - 0.045 * tenure
        + 0.018 * (monthly - 60)
        + 0.45 * (support_calls >= 3) * support_calls / 3
        + 0.6 * (payment == 0)
        + 0.5 * (internet == 1)
        - 0.25 * (products - 1)
        + 0.012 * np.abs(age - 45)
    )
    churn = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(np.int64)

    def labels(codes: npt.NDArray[np.int64], names: tuple[str, ...], rate: float) -> list[str | None]:
        return [None if m else names[c] for c, m in zip(codes, rng.random(rows) < rate, strict=True)]

    return pd.DataFrame({
        "tenure_months": tenure.astype(np.int64),
        "monthly_charges": monthly,
        "total_charges": _with_missing(total, 0.02, rng),
        "age": _with_missing(age, 0.05, rng),
        "support_calls": support_calls,
        "num_products": products,
        "contract": labels(contract, CONTRACTS, 0.0),
        "payment_method": labels(payment, PAYMENTS, 0.01),
        "internet_service": labels(internet, INTERNET, 0.0),
        "region": labels(region, REGIONS, 0.03),
        TARGET: churn,
    })  # fmt: skip


def block(index: int, rows: int, seed: int, drift: float = 0.0) -> pd.DataFrame:
    """Block ``index`` of the stream: ``rows`` customers from a generator seeded by ``(seed, index)``."""
    return _frame(rows, np.random.default_rng([seed, index]), drift)


def stream_chunks(
    rows: int, seed: int, *, drift: float = 0.0, chunk_rows: int = DEFAULT_CHUNK_ROWS
) -> Iterator[list[tuple[int, pd.DataFrame]]]:
    """The stream's blocks ``(index, frame)``, in order, a chunk of blocks (``chunk_rows`` rounded
    down to whole blocks, at least one) at a time; ``rows`` in all.

    Raises:
        ValueError: ``rows`` or ``chunk_rows`` below 1.
    """
    if rows < 1:
        raise ValueError(f"rows must be at least 1, got {rows}")
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows must be at least 1, got {chunk_rows}")
    blocks = -(-rows // BLOCK_ROWS)
    per_chunk = max(1, chunk_rows // BLOCK_ROWS)
    for first in range(0, blocks, per_chunk):
        indices = range(first, min(first + per_chunk, blocks))
        yield [(b, block(b, min(BLOCK_ROWS, rows - b * BLOCK_ROWS), seed, drift)) for b in indices]


def write_csv(
    paths: Path | Sequence[Path],
    rows: int,
    seed: int,
    *,
    drift: float = 0.0,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> list[int]:
    """Write the stream's ``rows`` rows into ``paths`` (block ``i`` to file ``i mod len(paths)``),
    one chunk at a time; every file gets the header. Returns the rows written to each file.

    Raises:
        ValueError: ``rows`` or ``chunk_rows`` below 1, or no path.
    """
    files = [paths] if isinstance(paths, Path) else list(paths)
    if not files:
        raise ValueError("no file to write")
    chunks = stream_chunks(rows, seed, drift=drift, chunk_rows=chunk_rows)  # checks before any file opens
    first = next(chunks)
    counts = [0] * len(files)
    handles = []
    try:
        for path in files:
            path.parent.mkdir(parents=True, exist_ok=True)
            handles.append(path.open("w", encoding="utf-8", newline=""))
            first[0][1].head(0).to_csv(handles[-1], index=False)
        for chunk in itertools.chain([first], chunks):
            for k, handle in enumerate(handles):
                mine = [frame for b, frame in chunk if b % len(files) == k]
                if mine:
                    pd.concat(mine).to_csv(handle, index=False, header=False)
                    counts[k] += sum(len(frame) for frame in mine)
    finally:
        for handle in handles:
            handle.close()
    return counts


def file_paths(out: Path, files: int) -> list[Path]:
    """``out`` itself for one file; else ``<stem>-00<suffix>`` .. for ``files`` files."""
    if files == 1:
        return [out]
    return [out.with_name(f"{out.stem}-{i:02d}{out.suffix}") for i in range(files)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--drift", type=float, default=0.0, help="0 = training distribution; 1 = strong drift"
    )
    parser.add_argument("--out", type=Path, required=True, help="CSV file to write")
    parser.add_argument(
        "--files", type=int, default=None, help="stream the rows into this many files (see the module doc)"
    )
    parser.add_argument(
        "--chunk-rows",
        type=int,
        default=None,
        help=f"rows made at once when streaming ({DEFAULT_CHUNK_ROWS})",
    )
    args = parser.parse_args(argv)
    for name in ("rows", "files", "chunk_rows"):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1, got {value}")
    if args.files is None and args.chunk_rows is None:
        frame = generate(args.rows, args.seed, args.drift)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(args.out, index=False)
        print(f"wrote {len(frame)} rows ({frame[TARGET].mean():.1%} churn, drift {args.drift}) to {args.out}")
        return 0
    paths = file_paths(args.out, args.files or 1)
    counts = write_csv(
        paths, args.rows, args.seed, drift=args.drift, chunk_rows=args.chunk_rows or DEFAULT_CHUNK_ROWS
    )
    for path, count in zip(paths, counts, strict=True):
        print(f"wrote {count} rows (drift {args.drift}) to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
