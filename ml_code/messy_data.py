"""The sample churn data as real exports carry it: for tests and demos of the column roles.

:func:`messy` is :func:`ml_code.sample_data.generate`'s customers with a ``customer id`` column (one
value per row: an identifier), a ``signup date`` column (ISO dates, the day the customer's tenure
began before :data:`AS_OF`: a date), a constant ``source`` column, 10 % missing values in three
columns, column names with spaces, and the target ``churn`` spelled ``yes``/``no``.

CLI: ``python -m ml_code.messy_data --rows N --seed S --out FILE``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import Final

import numpy as np
import pandas as pd

from ml_code.sample_data import TARGET, generate

#: The day the export was taken: signup dates lie before it.
AS_OF: Final = dt.date(2024, 6, 30)
MISSING_SHARE: Final = 0.1
#: Columns that get MISSING_SHARE of their values blanked (after renaming).
GAPPY: Final = ("monthly charges", "contract", "signup date")


def messy(rows: int, seed: int) -> pd.DataFrame:
    """``rows`` customers as a messy export (see the module doc); raises ValueError for rows < 1."""
    frame = generate(rows, seed).rename(columns=lambda c: c.replace("_", " ") if c != TARGET else c)
    rng = np.random.default_rng([seed, 17])
    days = frame["tenure months"].to_numpy() * 30 + rng.integers(0, 30, rows)
    dates = [(AS_OF - dt.timedelta(days=int(d))).isoformat() for d in days]
    frame.insert(0, "customer id", [f"C{n:07d}" for n in rng.permutation(rows) + 1000])
    frame.insert(1, "signup date", dates)
    frame.insert(2, "source", "crm-export")
    for name in GAPPY:
        column = frame[name].astype(object)
        column[rng.random(rows) < MISSING_SHARE] = None
        frame[name] = column
    frame[TARGET] = np.where(frame[TARGET] == 1, "yes", "no")
    return frame


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, required=True, help="CSV file to write")
    args = parser.parse_args(argv)
    frame = messy(args.rows, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(args.out, index=False)
    print(f"wrote {len(frame)} messy rows to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
