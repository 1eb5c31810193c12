"""Preprocess step: check the raw data, split it by row hash, fit the transformer and the baseline
from the (merged) profile, and stream the transformed splits out chunk by chunk.

Memory is bounded by ``--chunk-rows`` and ``--sample-rows``, not by the data: the first pass builds a
:class:`~ml_code.steps.profile.Profile` (or merges the Profile step's, one per host, when the job has
more than one processing instance), the second transforms one chunk at a time. Pure functions
(:func:`preprocess` on a frame, :func:`preprocess_files` on files) behind a thin :func:`main`:
``python3 preprocess.py --target-column COL --problem-type {binary,multiclass,regression}
[--validation-fraction 0.15] [--test-fraction 0.15] [--seed 42] [--shards T] [--chunk-rows N]
[--sample-rows K] [--profiles-dir DIR] [--input-dir DIR] [--output-root DIR]``.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ml_code import contract
from ml_code.cluster import Cluster, read_cluster
from ml_code.container import container_path, run_step
from ml_code.errors import DataValidationError
from ml_code.features import FeatureTransformer
from ml_code.steps.baseline import suggest_constraints
from ml_code.steps.chunks import canonical_booleans, common_header, raw_files, read_chunks, stripped
from ml_code.steps.data_arguments import DEFAULT_SAMPLE_ROWS, add_arguments
from ml_code.steps.feature_report import column_roles, feature_report
from ml_code.steps.fingerprint import write_fingerprint
from ml_code.steps.preprocess_outputs import (
    PartWriters,
    PreprocessResult,
    part_file,
    raw_test_file,
    smoke_samples,
    write_leader_files,
    write_outputs,
)
from ml_code.steps.profile import (
    SMOKE_SAMPLES,
    Profile,
    Settings,
    differences,
    labelled,
    profile_chunks,
    settings_of,
)
from ml_code.steps.profile_fit import boolean_features, fit_transformer, profile_statistics
from ml_code.steps.raw_data import MAX_CLASSES, check_profile
from ml_code.steps.row_hash import SPLITS

#: Names other code imports from here; the profile, the checks and the writers live beside it.
__all__ = [
    "MAX_CLASSES", "SMOKE_SAMPLES", "PreprocessResult", "main", "parse_args", "part_file", "preprocess",
    "preprocess_files", "raw_test_file", "smoke_samples", "transformed", "write_outputs",
]  # fmt: skip

LOG = logging.getLogger(__name__)


def transformed(transformer: FeatureTransformer, frame: pd.DataFrame) -> pd.DataFrame:
    """The split file's frame: encoded target first (TARGET_COLUMN_IN_SPLITS), then the features."""
    features = pd.DataFrame(transformer.transform_frame(frame), columns=transformer.output_names)
    features.insert(0, contract.TARGET_COLUMN_IN_SPLITS, transformer.encode_target(frame[transformer.target]))
    return features


def _prepared(chunk: pd.DataFrame, transformer: FeatureTransformer, booleans: list[str]) -> pd.DataFrame:
    """Raw text as the transformer reads it: booleans canonical, the target as its label type."""
    chunk = chunk.copy()
    for name in booleans:
        chunk[name] = canonical_booleans(chunk[name])
    target = stripped(chunk[transformer.target])
    if transformer.labels is None:
        chunk[transformer.target] = pd.to_numeric(target)
    elif isinstance(transformer.labels[0], int):
        chunk[transformer.target] = pd.to_numeric(target).astype(np.float64).astype(np.int64)
    else:
        chunk[transformer.target] = target
    return chunk


def fitted(
    profile: Profile,
) -> tuple[FeatureTransformer, dict[str, Any], list[dict[str, Any]], dict[str, Any]]:
    """Check the merged profile, then fit: the transformer, the statistics, the smoke samples, the report."""
    check_profile(profile.finish())  # stratified: the classes' cuts, from every host's rows
    roles = column_roles(profile)
    transformer = fit_transformer(profile, roles=roles)
    smoke = smoke_samples(profile.smoke.rows, transformer, boolean_features(profile))
    return (
        transformer,
        profile_statistics(profile, transformer),
        smoke,
        feature_report(roles, transformer, profile),
    )


def _transform(
    chunks: Iterable[pd.DataFrame], profile: Profile, transformer: FeatureTransformer, writers: PartWriters,
    shards: int,
) -> None:  # fmt: skip
    settings, booleans = profile.settings, boolean_features(profile)
    for read in chunks:
        raw = labelled(read, settings.target)
        where = settings.place(raw, shards, profile.cuts)
        chunk = _prepared(raw, transformer, booleans)
        for name, code in SPLITS.items():
            for shard in range(shards if name != "test" else 1):
                rows = (where.split == code) & ((where.shard == shard) | (name == "test"))
                if rows.any():
                    writers.write(name, shard, transformed(transformer, chunk[rows]))
        writers.write_raw_test(raw[where.split == SPLITS["test"]])


def preprocess(
    frame: pd.DataFrame,
    target: str,
    problem_type: str,
    *,
    validation_fraction: float = 0.15,
    test_fraction: float = 0.15,
    seed: int = 42,
    sample_rows: int = DEFAULT_SAMPLE_ROWS,
    columns: Iterable[str] = (),
) -> PreprocessResult:
    """Preprocess an in-memory frame as if it were one raw CSV file (one host, one training shard);
    ``columns``: roles set per column, ``NAME=ROLE`` as ``--column`` takes them.

    Raises DataValidationError for unusable data (see raw_data.check_profile).
    """
    raw = pd.read_csv(io.StringIO(frame.to_csv(index=False)), dtype=str)
    args = argparse.Namespace(
        target_column=target, problem_type=problem_type, sample_rows=sample_rows, column=list(columns),
        validation_fraction=validation_fraction, test_fraction=test_fraction, seed=seed,
    )  # fmt: skip
    settings = settings_of(args, [str(c) for c in raw.columns])
    profile = profile_chunks([raw], settings)
    transformer, statistics, smoke, report = fitted(profile)
    where = settings.place(labelled(raw, target), cuts=profile.cuts)
    kept = labelled(raw, target).reset_index(drop=True)
    chunk = _prepared(kept, transformer, boolean_features(profile))
    splits = {name: transformed(transformer, chunk[where.split == code]) for name, code in SPLITS.items()}
    test_raw = kept[where.split == SPLITS["test"]].reset_index(drop=True)
    constraints = suggest_constraints(statistics)
    return PreprocessResult(splits, test_raw, transformer, statistics, constraints, smoke, report)


def load_profiles(folder: Path, cluster: Cluster) -> Profile | None:
    """The merge of the Profile step's ``<host>.json`` in ``folder``, or None when it has none.

    Raises DataValidationError when they are not one per host of this job.
    """
    files = sorted(folder.glob("*.json")) if folder.is_dir() else []
    if not files:
        if cluster.size > 1:
            raise DataValidationError(f"{cluster.size} processing hosts need the Profile step's profiles in "
                                      f"{folder}; found none")  # fmt: skip
        return None
    hosts = sorted(p.stem for p in files)
    if hosts != sorted(cluster.hosts):
        raise DataValidationError(f"profiles of hosts {hosts} in {folder}, but this job's hosts are "
                                  f"{list(cluster.hosts)}")  # fmt: skip
    merged: Profile | None = None
    for path in files:  # one at a time: P hosts' samples of sampleRows rows never sit in memory at once
        profile = _read_profile(path)
        if profile is not None and merged is not None and profile.settings != merged.settings:
            raise DataValidationError(f"{path.name} was profiled with other settings than the hosts before "
                                      f"it: {differences(merged.settings, profile.settings)}")  # fmt: skip
        if profile is not None:
            merged = profile if merged is None else merged.merge(profile)
    if merged is None:
        raise DataValidationError(f"no host of the job had a raw data file (profiles in {folder})")
    return merged


def _read_profile(path: Path) -> Profile | None:
    """The profile in ``path``; None for a host that had no raw data file."""
    content = json.loads(path.read_text(encoding="utf-8"))
    return None if content.get("settings") is None else Profile.from_dict(content)


def preprocess_files(
    files: list[Path], settings: Settings, dirs: Mapping[str, Path], *, cluster: Cluster,
    chunk_rows: int, shards: int = 1, profile: Profile | None = None,
) -> dict[str, int]:  # fmt: skip
    """Profile ``files`` (unless given the merged ``profile``), then write this host's outputs into
    ``dirs`` (keys as contract.PREPROCESS_OUTPUTS); returns the rows written per split."""
    if profile is None:
        profile = profile_chunks(read_chunks(files, chunk_rows), settings)
    elif profile.settings != settings:
        raise DataValidationError(f"the profiles were made with other settings than this step's: "
                                  f"{differences(profile.settings, settings)}")  # fmt: skip
    transformer, statistics, smoke, report = fitted(profile)
    header = [contract.TARGET_COLUMN_IN_SPLITS, *transformer.output_names]
    with PartWriters(dirs, cluster.current_host, shards, header, list(settings.columns)) as writers:
        _transform(read_chunks(files, chunk_rows), profile, transformer, writers, shards)
    if cluster.is_leader:
        write_leader_files(
            dirs, transformer, statistics, suggest_constraints(statistics), smoke, report=report
        )
        write_fingerprint(dirs["baseline"], profile)
    return writers.sizes


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Validate, split and transform the raw data.")
    add_arguments(parser)
    parser.add_argument("--shards", type=int, default=1, help="training instances: files per split and host")
    parser.add_argument("--profiles-dir", type=Path, default=None, help="default: the profiles input dir")
    parser.add_argument("--output-root", type=Path, default=None,
                        help="write every output's folder under this dir instead")  # fmt: skip
    return parser.parse_args(argv)


def _run(argv: list[str] | None) -> None:
    args = parse_args(argv)
    dirs = {
        name: (args.output_root / name if args.output_root else container_path(path))
        for name, path in contract.PREPROCESS_OUTPUTS.items()
    }
    cluster = read_cluster(contract.PROCESSING_RESOURCE_CONFIG)
    profile = load_profiles(args.profiles_dir or container_path(contract.PROFILES_INPUT_DIR), cluster)
    # a host of several may get no raw file: it writes header-only parts, columns from the profiles
    files = raw_files(
        args.input_dir or container_path(contract.RAW_DATA_DIR), may_be_empty=profile is not None
    )
    header = common_header(files) if files or profile is None else list(profile.settings.columns)
    settings = settings_of(args, header)
    sizes = preprocess_files(files, settings, dirs, cluster=cluster, chunk_rows=args.chunk_rows,
                             shards=args.shards, profile=profile)  # fmt: skip
    shown = {name: str(path) for name, path in dirs.items()}
    LOG.info("%s wrote splits %s (%d shards each) to %s", cluster.current_host, sizes, args.shards, shown)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the processing job; 0 on success, else 1 with the reason in the message file."""
    return run_step(lambda: _run(argv), contract.PROCESSING_MESSAGE_FILE)


if __name__ == "__main__":
    sys.exit(main())
