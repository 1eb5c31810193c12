"""What a training host reads: the fitted transformer (its own channel, every host gets it whole) and
its shard of the train and validation splits as quantised matrices (:mod:`ml_code.steps.split_iter`).

In a distributed job each host builds its matrices inside the collective (the quantile sketch is
merged across hosts) and the row counts are summed over the hosts: a host with an empty shard is
fine, a split without a row on any host is the same error on every host.

Memory: a ``QuantileDMatrix`` holds the binned rows (plus XGBoost's building buffers, about 60 bytes
per row here), so a host whose training share passes :data:`EXTERNAL_MEMORY_CHUNKS` chunks builds an
``ExtMemQuantileDMatrix`` instead (its validation matrix too), paged out to a temporary folder on the
instance's volume: memory then stays near one chunk's worth whatever the share. The hosts decide
together (the largest share counts), so all of them build the same kind; both kinds train the same
model. ``--external-memory`` (``TrainingData.external_memory``) pages out whatever the size.

Past the bound three more things keep a host's peak flat: blocks of :data:`MMAP_THRESHOLD_BYTES`
and more get mappings of their own, given back when freed (:func:`map_large_allocations`); the
heap that building freed (pandas' reading buffers) goes back to the system before training
(``malloc_trim``; both are glibc's, as in the image); and each round scores the validation matrix
only (:func:`watchlist`): scoring the whole training share every round costs XGBoost a prediction
cache and, for AUC, a sort of every row (about 14 bytes per row). The run's training curve then
has ``validation-<metric>`` alone.
"""

from __future__ import annotations

import ctypes
import logging
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from ml_code import contract
from ml_code.cluster import Cluster
from ml_code.container import container_path
from ml_code.errors import DataValidationError
from ml_code.features import FeatureTransformer
from ml_code.steps.collective import global_range, global_sums
from ml_code.steps.split_files import DEFAULT_CHUNK_ROWS, count_rows, no_rows_message, part_files
from ml_code.steps.split_iter import split_matrix
from ml_code.xgboost_lib import xgb

LOG = logging.getLogger(__name__)
#: A host's training share bigger than this many ``chunk_rows`` is read into external memory.
EXTERNAL_MEMORY_CHUNKS: Final = 5
#: Blocks from this size are mapped on their own when paging out (:func:`map_large_allocations`).
MMAP_THRESHOLD_BYTES: Final = 8 * 2**20
#: glibc's ``mallopt`` parameter number for that size (``M_MMAP_THRESHOLD`` in malloc.h).
_M_MMAP_THRESHOLD: Final = -3


@dataclass(frozen=True, kw_only=True)
class TrainingData:
    """Where a host's data is and how it is read."""

    train_dir: Path
    validation_dir: Path
    transformer_dir: Path
    chunk_rows: int = DEFAULT_CHUNK_ROWS
    #: External memory whatever the size of the shares (else only past :attr:`external_memory_rows`).
    external_memory: bool = False
    #: Where external memory's temporary cache folder is made (None: /opt/ml, the instance's volume).
    cache_root: Path | None = None

    @property
    def external_memory_rows(self) -> int:
        """The largest training share (rows on one host) still built in memory."""
        return EXTERNAL_MEMORY_CHUNKS * self.chunk_rows


def uses_external_memory(data: TrainingData, train_files: list[Path]) -> bool:
    """Whether this job pages its matrices out: forced, or some host's training share is past the
    bound. Every host of a job must call it (a collective unless forced, which every host is alike)
    and gets the same answer."""
    if data.external_memory:
        return True
    _, largest = global_range(count_rows(train_files))
    return largest > data.external_memory_rows


@contextmanager
def _cache(data: TrainingData, external: bool) -> Iterator[Path | None]:
    """External memory's cache: a temporary folder under ``data.cache_root`` (not in the model or
    output folders SageMaker uploads), removed when training ends; None when not paging out."""
    if not external:
        yield None
        return
    root = data.cache_root or container_path(contract.OPT_ML)
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="xgboost-cache-", dir=root) as folder:
        yield Path(folder)


def load_transformer(transformer_dir: Path) -> FeatureTransformer:
    """The fitted transformer of the ``transformer`` channel; raises DataValidationError without one."""
    path = transformer_dir / contract.TRANSFORMER_FILE
    if not path.is_file():
        raise DataValidationError(
            f"{contract.TRANSFORMER_FILE} not found in the {contract.TRANSFORMER_CHANNEL} channel"
        )
    return FeatureTransformer.from_json(path.read_text(encoding="utf-8"))


@contextmanager
def training_matrices(
    data: TrainingData, transformer: FeatureTransformer, cluster: Cluster
) -> Iterator[tuple[xgb.DMatrix, xgb.DMatrix]]:
    """This host's train and validation matrices (validation binned like train), for the ``with``
    block: an external memory cache is removed when it ends.

    Enter inside :func:`ml_code.steps.collective.collective` when the job has several hosts: every
    host must build them, in this order.

    Raises:
        DataValidationError: a part file is bad, or a split has no row on any host.
    """
    train_files, validation_files = part_files(data.train_dir), part_files(data.validation_dir)
    external = uses_external_memory(data, train_files)
    if external:
        map_large_allocations()
    with _cache(data, external) as cache_dir:
        dtrain = split_matrix(train_files, transformer, data.chunk_rows, cache_dir=cache_dir)
        dvalid = split_matrix(validation_files, transformer, data.chunk_rows, ref=dtrain, cache_dir=cache_dir)
        local = [dtrain.num_row(), dvalid.num_row()]
        LOG.info(
            "%s: %d train rows from %d files, %d validation rows from %d files, %s",
            cluster.current_host, local[0], len(train_files), local[1], len(validation_files),
            "in external memory" if external else "in memory",
        )  # fmt: skip
        _require_rows(global_sums(local), (train_files, validation_files), cluster)
        if external:
            release_freed_memory()
        yield dtrain, dvalid
        # XGBoost removes its cache pages when a matrix goes: before the folder does (callers too).
        del dtrain, dvalid


def _require_rows(totals: list[int], files: tuple[list[Path], list[Path]], cluster: Cluster) -> None:
    for total, split_files, channel in zip(
        totals, files, (contract.TRAIN_CHANNEL, contract.VALIDATION_CHANNEL), strict=True
    ):
        if total == 0:
            message = no_rows_message(split_files, f"the {channel} channel")
            if cluster.size > 1:
                message += f"; the {channel} split has no row on any of the {cluster.size} hosts"
            raise DataValidationError(message)


def watchlist(dtrain: xgb.DMatrix, dvalid: xgb.DMatrix) -> list[tuple[xgb.DMatrix, str]]:
    """What each round scores (early stopping watches the last): train and validation, or the
    validation matrix alone when the matrices are paged out (see the module's docstring)."""
    if isinstance(dtrain, xgb.ExtMemQuantileDMatrix):
        return [(dvalid, "validation")]
    return [(dtrain, "train"), (dvalid, "validation")]


def map_large_allocations() -> None:
    """From here on, glibc gives every block of :data:`MMAP_THRESHOLD_BYTES` or more a mapping of
    its own, returned to the system when freed; elsewhere, nothing.

    Why: glibc starts at 128 kB and raises that bound to each mapped block freed (up to 32 MB), so
    once building has freed its large buffers, blocks of a few MB (XGBoost's per-page and per-round
    buffers) come from the heap, which keeps the space they leave in holes it cannot give back. A
    fixed bound stops that. Train on 3M rows, one host, external memory (the scale benchmark's data,
    the image's Python): peak RSS ~287 -> ~222 MB (1 MB: 218 MB; 128 kB: 213 MB), the same model.
    """
    try:
        ctypes.CDLL("libc.so.6").mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
    except (OSError, AttributeError):
        LOG.debug("no glibc mallopt here: the allocator keeps its own bounds")


def release_freed_memory() -> None:
    """Hand the heap's freed pages back to the system (glibc's ``malloc_trim``); elsewhere, nothing."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        LOG.debug("no glibc malloc_trim here: freed memory stays with the process")
