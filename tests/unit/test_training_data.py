"""What a training host reads: row counts, when it pages its matrices out, and that a kept target
does not keep its chunk (one host; several: test_distributed_train.py)."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xgboost as xgb
from split_parts import make_splits, write_parts, write_transformer

from ml_code import contract
from ml_code.features import FeatureTransformer
from ml_code.steps import training_data
from ml_code.steps.split_files import count_rows, part_files, read_chunks
from ml_code.steps.train import ALONE, Hyperparameters, TrainingData, train

ROOT = Path(__file__).resolve().parents[2]
FAST = Hyperparameters(num_round=15, max_depth=3, early_stopping_rounds=5)


@pytest.fixture(scope="module")
def splits(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """train/ (180 rows in 3 part files), validation/, test/ and transformer/, as preprocess writes them."""
    root = tmp_path_factory.mktemp("splits")
    made = make_splits(300, seed=9)
    for name in ("train", "validation", "test"):
        write_parts(made.frames[name], root / name, 3)
    write_transformer(made.transformer, root / "transformer")
    return root


def data_of(splits: Path, tmp_path: Path, chunk_rows: int, *, external: bool = False) -> TrainingData:
    return TrainingData(
        train_dir=splits / "train",
        validation_dir=splits / "validation",
        transformer_dir=splits / "transformer",
        chunk_rows=chunk_rows,
        external_memory=external,
        cache_root=tmp_path / "volume",
    )


def test_count_rows_counts_the_lines_after_each_header(tmp_path: Path) -> None:
    # GIVEN a file ending in a line break, one without it, a header-only file and an empty one
    (tmp_path / "a.csv").write_text("h\n1\n2\n")
    (tmp_path / "b.csv").write_text("h\n1\n2\n3")
    (tmp_path / "c.csv").write_text("h\n")
    (tmp_path / "d.csv").write_text("")
    # WHEN they are counted THEN only data rows count
    assert count_rows([tmp_path / n for n in ("a.csv", "b.csv", "c.csv", "d.csv")]) == 5
    assert count_rows([]) == 0


def test_count_rows_agrees_with_the_reader(splits: Path) -> None:
    transformer = FeatureTransformer.from_json(
        (splits / "transformer" / contract.TRANSFORMER_FILE).read_text()
    )
    files = part_files(splits / "train")
    read = sum(len(target) for path in files for _, target in read_chunks(path, transformer, 7))
    assert count_rows(files) == read == 180


def test_a_kept_target_owns_its_memory(splits: Path) -> None:
    # GIVEN a chunk read from a part file (read_csv keeps its float columns in one 2-D block)
    transformer = FeatureTransformer.from_json(
        (splits / "transformer" / contract.TRANSFORMER_FILE).read_text()
    )
    features, target = next(read_chunks(part_files(splits / "test")[0], transformer, 50))
    # THEN the target is an array of its own, not a view that would keep the whole block alive
    assert target.base is None
    assert target.dtype == np.float64
    assert features.dtype == np.float32


@pytest.mark.parametrize(
    ("chunk_rows", "forced", "external"), [(36, False, False), (35, False, True), (1000, True, True)]
)
def test_a_share_past_the_bound_is_paged_out(
    splits: Path, tmp_path: Path, chunk_rows: int, forced: bool, external: bool
) -> None:
    # GIVEN 180 training rows: in memory up to EXTERNAL_MEMORY_CHUNKS (5) chunks, or when not forced
    data = data_of(splits, tmp_path, chunk_rows, external=forced)
    # WHEN the job decides THEN it pages out past 5 chunks of rows, or when told to
    assert data.external_memory_rows == training_data.EXTERNAL_MEMORY_CHUNKS * chunk_rows
    assert training_data.uses_external_memory(data, part_files(data.train_dir)) is external


def test_external_memory_by_size_trains_the_model_memory_does_and_removes_its_cache(
    splits: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # GIVEN the same job with 180 training rows read 20 at a time (past 5 chunks) and with a bound
    # so high that it stays in memory
    caplog.set_level(logging.INFO, logger=training_data.__name__)
    data = data_of(splits, tmp_path, 20)
    # WHEN both train
    train(data, tmp_path / "external", FAST, cluster=ALONE)
    paged = [r.getMessage() for r in caplog.records if "train rows" in r.getMessage()]
    monkeypatch.setattr(training_data, "EXTERNAL_MEMORY_CHUNKS", 1000)
    train(data, tmp_path / "memory", FAST, cluster=ALONE)
    # THEN the first paged out, under the volume, and left nothing there; both models predict alike
    assert paged
    assert paged[0].endswith("in external memory")
    assert caplog.records[-1].getMessage().endswith("in memory")
    assert (tmp_path / "volume").is_dir()
    assert not list((tmp_path / "volume").iterdir())
    transformer = FeatureTransformer.from_json(
        (splits / "transformer" / contract.TRANSFORMER_FILE).read_text()
    )
    features = np.concatenate([f for f, _ in read_chunks(part_files(splits / "test")[0], transformer)])
    predictions = []
    for name in ("external", "memory"):
        booster = xgb.Booster()
        booster.load_model(str(tmp_path / name / contract.MODEL_FILE))
        predictions.append(booster.predict(xgb.DMatrix(features)))
    np.testing.assert_allclose(predictions[0], predictions[1], atol=1e-6)
    # AND each round scored the validation split alone when paged out (the training share's own
    # scores would cost a prediction cache and a sort of every row), both splits in memory
    curves = {name: json.loads((tmp_path / name / contract.TRAINING_HISTORY_FILE).read_text())
              for name in ("external", "memory")}  # fmt: skip
    assert {key.split("-")[0] for key in curves["external"]} == {"validation"}
    assert {key.split("-")[0] for key in curves["memory"]} == {"train", "validation"}
    validation = [key for key in curves["memory"] if key.startswith("validation-")]
    assert {key: curves["external"][key] for key in validation} == {
        key: curves["memory"][key] for key in validation
    }


def test_freed_memory_is_handed_back_without_glibc_too(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_glibc(name: str) -> None:
        raise OSError(f"{name}: cannot open shared object file")

    monkeypatch.setattr(training_data.ctypes, "CDLL", no_glibc)
    training_data.release_freed_memory()  # nothing to hand back to, and no error


#: Run in a fresh interpreter: whether a 12 MB block gets a mapping of its own after a 24 MB mapped
#: block was freed (glibc's own rule raises its bound to 24 MB then; the fixed bound is 8 MB).
MAPPED_PROBE = r"""
import ctypes, sys
from ml_code.steps import training_data

class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
        "keepcost")]

libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
libc.free.argtypes, libc.mallinfo2.restype = [ctypes.c_void_p], MallInfo2
if sys.argv[1] == "fixed":
    training_data.map_large_allocations()
libc.free(libc.malloc(24 << 20))
before = libc.mallinfo2().hblkhd
block = libc.malloc(12 << 20)
print(libc.mallinfo2().hblkhd - before >= 12 << 20)
libc.free(block)
"""


@pytest.mark.parametrize(("how", "mapped"), [("glibc's own", "False"), ("fixed", "True")])
def test_large_blocks_keep_their_own_mappings_once_the_bound_is_fixed(how: str, mapped: str) -> None:
    """Paged-out training fixes glibc's bound (training_data.map_large_allocations): a block of
    MMAP_THRESHOLD_BYTES or more is mapped, and given back when freed, not left in the heap."""
    assert training_data.MMAP_THRESHOLD_BYTES <= 12 << 20
    probe = subprocess.run(
        [sys.executable, "-c", MAPPED_PROBE, how], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert probe.stdout.strip() == mapped, probe.stderr
