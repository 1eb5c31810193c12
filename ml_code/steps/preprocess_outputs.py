"""What the preprocess step writes (``contract.PREPROCESS_OUTPUTS``), per host:

- ``train/`` and ``validation/``: ``part-<host>-<k:02d>.csv`` for each training shard k (the encoded
  target as ``__target__``, then the transformer's output columns; a header alone when the shard
  got no rows, so every host writes its files whatever its data);
- ``test/part-<host>-00.csv`` (the transformed test rows) and ``test/raw-<host>.csv`` (as read);

and once, by the leader: ``transformer/transformer.json``, ``baseline/statistics.json`` and
``constraints.json``, the feature report ``baseline/features.json`` and ``features.md`` (what each raw
column became and why: ml_code/steps/feature_report.py), ``test/smoke-samples.json``.
``preprocess.py`` re-exports every name here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Final

import pandas as pd

from ml_code import contract
from ml_code.cluster import SINGLE_HOST
from ml_code.features import FeatureTransformer
from ml_code.steps.chunks import BOOLEANS
from ml_code.steps.feature_report import report_table

_INTEGER: Final = re.compile(r"\s*[+-]?\d+\s*")
#: The feature report in the baseline output: JSON, and the same as a Markdown table.
FEATURE_REPORT_FILE: Final = "features.json"
FEATURE_TABLE_FILE: Final = "features.md"


def part_file(host: str, shard: int) -> str:
    """A split part's file name (matches contract.SPLIT_PART_GLOB)."""
    return f"part-{host}-{shard:02d}.csv"


def raw_test_file(host: str) -> str:
    """The file of a host's raw test rows (not a split part: evaluate reads ``part-*`` only)."""
    return f"raw-{host}.csv"


@dataclass(frozen=True)
class PreprocessResult:
    """What an in-memory preprocess fits and writes: transformed splits (one frame each), the raw test
    rows, the transformer, the baseline and the smoke samples."""

    splits: dict[str, pd.DataFrame]
    #: the raw test rows, as read (text, NaN for missing)
    test_raw: pd.DataFrame
    transformer: FeatureTransformer
    statistics: dict[str, Any]
    constraints: dict[str, Any]
    smoke: list[dict[str, Any]]
    #: the feature report (features.json)
    report: dict[str, Any] = field(default_factory=dict)


def _typed(value: Any, kind: str) -> Any:
    if not isinstance(value, str):
        return None  # missing (NaN or None)
    if kind == "numeric":
        return int(value) if _INTEGER.fullmatch(value) else float(value)
    return BOOLEANS.get(value, value) == "True" if kind == "bool" else value


def smoke_samples(
    raw: pd.DataFrame, transformer: FeatureTransformer, booleans: Collection[str] = ()
) -> list[dict[str, Any]]:
    """Raw rows (text) as a client would send them: the features by their original names, numbers as
    JSON numbers, ``booleans`` features as JSON booleans, missing values as null, no target."""
    kinds = {
        spec["name"]: "bool" if spec["name"] in booleans else spec["kind"] for spec in transformer.features
    }
    names = transformer.feature_names
    return [
        {name: _typed(value, kinds[name]) for name, value in zip(names, row, strict=True)}
        for row in raw[names].itertuples(index=False, name=None)
    ]


class PartWriters:
    """The host's split part files, open for appending chunks (a context manager)."""

    def __init__(self, dirs: Mapping[str, Path], host: str, shards: int, header: list[str], raw: list[str]):
        self._stack = ExitStack()
        self._files: dict[tuple[str, int], IO[str]] = {}
        self._raw_header = raw
        for name, count in (("train", shards), ("validation", shards), ("test", 1)):
            dirs[name].mkdir(parents=True, exist_ok=True)
            for k in range(count):
                handle = self._stack.enter_context(
                    (dirs[name] / part_file(host, k)).open("w", encoding="utf-8")
                )
                pd.DataFrame(columns=header).to_csv(handle, index=False)
                self._files[(name, k)] = handle
        self._raw = self._stack.enter_context(
            (dirs["test"] / raw_test_file(host)).open("w", encoding="utf-8")
        )
        pd.DataFrame(columns=raw).to_csv(self._raw, index=False)
        self.sizes = dict.fromkeys(("train", "validation", "test"), 0)

    def write(self, split: str, shard: int, frame: pd.DataFrame) -> None:
        """Append transformed rows to the split's shard file."""
        frame.to_csv(self._files[(split, shard)], header=False, index=False)
        self.sizes[split] += len(frame)

    def write_raw_test(self, frame: pd.DataFrame) -> None:
        frame[self._raw_header].to_csv(self._raw, header=False, index=False)

    def __enter__(self) -> PartWriters:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()


def write_leader_files(
    dirs: Mapping[str, Path], transformer: FeatureTransformer, statistics: dict[str, Any],
    constraints: dict[str, Any], smoke: list[dict[str, Any]], *, report: dict[str, Any] | None = None,
) -> None:  # fmt: skip
    """What the job writes once: transformer, baseline, smoke samples, the feature report (when given)."""
    for name in ("transformer", "baseline", "test"):
        dirs[name].mkdir(parents=True, exist_ok=True)
    (dirs["transformer"] / contract.TRANSFORMER_FILE).write_text(transformer.to_json(), encoding="utf-8")
    (dirs["test"] / contract.SMOKE_SAMPLES_FILE).write_text(json.dumps(smoke, indent=1), encoding="utf-8")
    for file, content in (
        (contract.BASELINE_STATISTICS_FILE, statistics),
        (contract.BASELINE_CONSTRAINTS_FILE, constraints),
    ):
        (dirs["baseline"] / file).write_text(json.dumps(content, indent=2), encoding="utf-8")
    if report:
        (dirs["baseline"] / FEATURE_REPORT_FILE).write_text(json.dumps(report, indent=2), encoding="utf-8")
        (dirs["baseline"] / FEATURE_TABLE_FILE).write_text(report_table(report), encoding="utf-8")


def write_outputs(result: PreprocessResult, dirs: Mapping[str, Path], host: str = SINGLE_HOST) -> None:
    """Write an in-memory result as one host with one training shard would (keys as PREPROCESS_OUTPUTS)."""
    header = [contract.TARGET_COLUMN_IN_SPLITS, *result.transformer.output_names]
    with PartWriters(dirs, host, 1, header, list(result.test_raw.columns)) as writers:
        for name, frame in result.splits.items():
            writers.write(name, 0, frame)
        writers.write_raw_test(result.test_raw)
    write_leader_files(dirs, result.transformer, result.statistics, result.constraints, result.smoke,
                       report=result.report)  # fmt: skip
