"""The mergeable profile of raw data, and the Profile step that writes one per processing host.

A :class:`Profile` (JSON) holds what the transformer, the baseline and the data fingerprint are fitted from:
rows per split, label counts, per raw feature its training statistics, a bottom-k sample of the training rows,
the 50 smoke-sample test rows, the rows' hash sum; merged over hosts, it is the profile of all their rows.
Stratified, it also holds per class the rows whose split waits for the class's cuts (:mod:`strata`) until
:meth:`Profile.finish`, on the merged profile, sets the cuts (``settings.place(rows, shards, profile.cuts)``).

Step: ``python3 profile.py`` with :func:`add_arguments`' arguments and ``[--output-dir DIR]``, one process
per host (with more than one processing instance), writes ``<current_host>.json`` into the profile output.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd

from ml_code import contract
from ml_code.cluster import read_cluster
from ml_code.column_roles import checked_overrides
from ml_code.container import container_path, run_step
from ml_code.errors import DataValidationError
from ml_code.steps.chunks import common_header, raw_files, read_chunks, stripped
from ml_code.steps.data_arguments import add_arguments
from ml_code.steps.feature_profile import CategoryCounts, FeatureProfile
from ml_code.steps.profile_settings import Settings, differences, labelled
from ml_code.steps.row_hash import SPLITS, TEST, TRAIN, rank_of, row_hashes
from ml_code.steps.sample import BottomK
from ml_code.steps.strata import Cuts, Placed, Strata

__all__ = ["FORMAT_VERSION", "NO_DATA", "SMOKE_SAMPLES", "Profile", "Settings", "differences", "labelled",
           "main", "merge_all", "profile_chunks", "settings_of"]  # fmt: skip
LOG = logging.getLogger(__name__)

FORMAT_VERSION: Final = 2
#: How many raw test records the model version keeps for the post-deploy smoke test.
SMOKE_SAMPLES: Final = 50
#: The profile of a host that got no raw data file (a sharded input with fewer objects than hosts).
NO_DATA: Final[dict[str, Any]] = {"format_version": FORMAT_VERSION, "settings": None}
#: Non-numeric regression targets a profile keeps to quote (the smallest, so any host order agrees).
_BAD_TARGETS: Final = 5


@dataclass
class Profile:
    """Mergeable statistics of a set of raw rows (see the module doc)."""

    settings: Settings
    read: int = 0
    unlabelled: int = 0
    present: dict[str, int] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SPLITS, 0))
    labels: CategoryCounts = field(default_factory=CategoryCounts)
    train_labels: CategoryCounts = field(default_factory=CategoryCounts)
    bad_targets: list[str] = field(default_factory=list)
    fingerprint: int = 0  # sum mod 2**64 of the labelled rows' hashes (steps/fingerprint.py)
    features: dict[str, FeatureProfile] = field(default_factory=dict)
    #: the bottom-k training rows, and the test rows the smoke samples are
    sample: BottomK = field(init=False)
    smoke: BottomK = field(init=False)
    #: stratified: the classes' bands until :meth:`finish`, then each class's cuts
    strata: Strata | None = field(init=False)
    cuts: Cuts | None = None

    def __post_init__(self) -> None:
        columns = list(self.settings.columns)
        self.present = self.present or dict.fromkeys(columns, 0)
        self.features = self.features or {f: FeatureProfile() for f in self.settings.features}
        self.sample = BottomK(self.settings.sample_rows, columns)
        self.smoke = BottomK(SMOKE_SAMPLES, columns)
        stratified = self.settings.stratified and self.cuts is None
        self.strata = Strata(self.settings.fractions, columns) if stratified else None

    def _with_samples(self, sample: BottomK, smoke: BottomK) -> Profile:
        self.sample, self.smoke = sample, smoke
        return self

    def add(self, chunk: pd.DataFrame) -> None:
        """Count one chunk of raw rows (text) in."""
        target = self.settings.target
        self.read += len(chunk)
        for column, n in chunk.notna().sum().items():
            self.present[str(column)] += int(n)
        before = len(chunk)
        chunk = labelled(chunk, target)
        self.unlabelled += before - len(chunk)
        hashes = row_hashes(chunk, self.settings.seed)
        self.fingerprint = (self.fingerprint + int(rank_of(hashes).sum(dtype=np.uint64))) % 2**64
        labels = stripped(chunk[target])
        if self.settings.problem_type == "regression":
            bad = labels[~np.isfinite(pd.to_numeric(labels, errors="coerce").to_numpy(dtype=np.float64))]
            self.bad_targets = sorted({*self.bad_targets, *bad.unique().tolist()})[:_BAD_TARGETS]
        else:
            self.labels = self.labels.merge(CategoryCounts.of(labels))
        if self.strata is None:
            self._take([Placed(chunk, hashes, self.settings.place(chunk, hashes=hashes).split)])
        else:
            self._take(self.strata.add(chunk, labels, hashes))

    def _take(self, placed: list[Placed]) -> None:
        """Count in rows whose split is known: rows per split, training statistics, the samples."""
        parts = [p for p in placed if len(p.rows)]
        if not parts:
            return
        chunk, split = pd.concat([p.rows for p in parts]), np.concatenate([p.split for p in parts])
        rank = rank_of(np.concatenate([p.hashes for p in parts]))
        for name, code in SPLITS.items():
            self.rows[name] += int((split == code).sum())
        train = chunk[split == TRAIN]
        if self.settings.problem_type != "regression":
            labels = CategoryCounts.of(stripped(train[self.settings.target]))
            self.train_labels = self.train_labels.merge(labels)
        for name in self.settings.features:
            feature = self.features[name]
            self.features[name] = feature.merge(FeatureProfile.of(train[name], feature.numeric))
        self.sample.add(rank[split == TRAIN], train)
        self.smoke.add(rank[split == TEST], chunk[split == TEST])

    def finish(self) -> Profile:
        """Stratified: set the classes' cuts and take the rows that waited for them in. Idempotent."""
        if self.strata is not None:
            self.cuts, placed = self.strata.finish()
            self.strata = None
            self._take(placed)
        return self

    def merge(self, other: Profile) -> Profile:
        """The profile of both profiles' rows; raises DataValidationError when their settings differ,
        ValueError for a finished one."""
        if other.settings != self.settings:
            raise DataValidationError(f"profiles disagree on {differences(self.settings, other.settings)}")
        if self.cuts is not None or other.cuts is not None:
            raise ValueError("a finished profile (Profile.finish) does not merge")
        merged = Profile(
            self.settings, self.read + other.read, self.unlabelled + other.unlabelled,
            {c: n + other.present[c] for c, n in self.present.items()},
            {s: n + other.rows[s] for s, n in self.rows.items()},
            self.labels.merge(other.labels), self.train_labels.merge(other.train_labels),
            sorted({*self.bad_targets, *other.bad_targets})[:_BAD_TARGETS],
            (self.fingerprint + other.fingerprint) % 2**64,
            {f: p.merge(other.features[f]) for f, p in self.features.items()},
        )  # fmt: skip
        merged._with_samples(self.sample.merge(other.sample), self.smoke.merge(other.smoke))
        if self.strata is not None and other.strata is not None:
            merged.strata, placed = self.strata.merge(other.strata)
            merged._take(placed)
        return merged

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION, "settings": asdict(self.settings), "read": self.read,
            "unlabelled": self.unlabelled, "present": self.present, "rows": self.rows,
            "labels": self.labels.to_dict(), "train_labels": self.train_labels.to_dict(),
            "bad_targets": self.bad_targets, "fingerprint": self.fingerprint,
            "features": {name: p.to_dict() for name, p in self.features.items()},
            "sample": self.sample.to_dict(), "smoke": self.smoke.to_dict(), "cuts": self.cuts,
            "strata": None if self.strata is None else self.strata.to_dict(),
        }  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Profile:
        """Rebuild from :meth:`to_dict`; raises DataValidationError for another format version."""
        if data.get("format_version") != FORMAT_VERSION:
            raise DataValidationError(f"profile format_version {data.get('format_version')!r} is not "
                                      f"{FORMAT_VERSION}")  # fmt: skip
        raw = data["settings"]
        roles = tuple((str(n), str(r)) for n, r in raw.get("roles", ()))
        settings = Settings(**{**raw, "columns": tuple(raw["columns"]), "roles": roles})
        columns = list(settings.columns)
        profile = cls(
            settings, int(data["read"]), int(data["unlabelled"]), dict(data["present"]), dict(data["rows"]),
            CategoryCounts.from_dict(data["labels"]), CategoryCounts.from_dict(data["train_labels"]),
            list(data["bad_targets"]), int(data["fingerprint"]),
            {name: FeatureProfile.from_dict(p) for name, p in data["features"].items()},
            None if data["cuts"] is None else {k: (float(t), float(v)) for k, (t, v) in data["cuts"].items()},
        )  # fmt: skip
        profile.strata = None if data["strata"] is None else Strata.from_dict(data["strata"], columns)
        sample, smoke = BottomK.from_dict(data["sample"], columns), BottomK.from_dict(data["smoke"], columns)
        return profile._with_samples(sample, smoke)


def profile_chunks(chunks: Iterable[pd.DataFrame], settings: Settings) -> Profile:
    """The profile of every row of ``chunks`` (raw text frames with ``settings.columns``)."""
    profile = Profile(settings)
    for chunk in chunks:
        profile.add(chunk)
    return profile


def merge_all(profiles: Iterable[Profile]) -> Profile:
    """The merge of one or more profiles; raises ValueError for none."""
    merged: Profile | None = None
    for profile in profiles:
        merged = profile if merged is None else merged.merge(profile)
    if merged is None:
        raise ValueError("no profile to merge")
    return merged


def settings_of(args: argparse.Namespace, columns: list[str]) -> Settings:
    """The settings the arguments give; raises DataValidationError for an unusable header."""
    target = args.target_column
    if target not in columns:
        raise DataValidationError(f"target column {target!r} not found; columns found: {columns}")
    if len(columns) < 2:
        raise DataValidationError(f"the input has no feature columns besides the target {target!r}")
    if args.sample_rows < 1:
        raise ValueError(f"--sample-rows must be at least 1, got {args.sample_rows}")
    roles = checked_overrides(getattr(args, "column", None) or [], columns, target)
    return Settings(tuple(columns), target, args.problem_type, args.validation_fraction,
                    args.test_fraction, args.seed, args.sample_rows, roles)  # fmt: skip


def _run(argv: list[str] | None) -> None:
    parser = argparse.ArgumentParser(description="Profile this host's share of the raw data.")
    add_arguments(parser)
    parser.add_argument("--output-dir", type=Path, default=None, help="default: the profile output dir")
    args = parser.parse_args(argv)
    cluster = read_cluster(contract.PROCESSING_RESOURCE_CONFIG)
    input_dir = args.input_dir or container_path(contract.RAW_DATA_DIR)
    files = raw_files(input_dir, may_be_empty=cluster.size > 1)
    content: dict[str, Any] = NO_DATA
    if files:
        settings = settings_of(args, common_header(files))
        profile = profile_chunks(read_chunks(files, args.chunk_rows), settings)
        content = profile.to_dict()
        LOG.info("%s profiled %s rows from %d files", cluster.current_host, profile.rows, len(files))
    else:
        LOG.info("%s got no raw file (a sharded input with fewer files than hosts)", cluster.current_host)
    out = args.output_dir or container_path(contract.PROFILE_DIR)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{cluster.current_host}.json").write_text(json.dumps(content), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the Profile job; 0 on success, else 1 with the reason in the message file."""
    return run_step(lambda: _run(argv), contract.PROCESSING_MESSAGE_FILE)


if __name__ == "__main__":
    sys.exit(main())
