"""What a training host reads: the fitted transformer (its own channel, every host gets it whole) and
its shard of the train and validation splits as quantised matrices (:mod:`ml_code.steps.split_iter`).

In a distributed job each host builds its matrices inside the collective (the quantile sketch is
merged across hosts) and the row counts are summed over the hosts: a host with an empty shard is
fine, a split without a row on any host is the same error on every host.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import xgboost as xgb

from ml_code import contract
from ml_code.cluster import Cluster
from ml_code.container import container_path
from ml_code.errors import DataValidationError
from ml_code.features import FeatureTransformer
from ml_code.steps.collective import global_sums
from ml_code.steps.split_files import DEFAULT_CHUNK_ROWS, no_rows_message, part_files
from ml_code.steps.split_iter import split_matrix

LOG = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class TrainingData:
    """Where a host's data is and how it is read."""

    train_dir: Path
    validation_dir: Path
    transformer_dir: Path
    chunk_rows: int = DEFAULT_CHUNK_ROWS
    #: External memory: the binned matrices are paged out here (None: kept in memory).
    cache_dir: Path | None = None


@contextmanager
def external_memory_cache(external_memory: bool) -> Iterator[Path | None]:
    """External memory's cache: a temporary folder on the instance's volume (under /opt/ml, not in
    the model or output folders SageMaker uploads), removed when training ends; None without."""
    if not external_memory:
        yield None
        return
    root = container_path(contract.OPT_ML)
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


def training_matrices(
    data: TrainingData, transformer: FeatureTransformer, cluster: Cluster
) -> tuple[xgb.DMatrix, xgb.DMatrix]:
    """This host's train and validation matrices (validation binned like train).

    Call inside :func:`ml_code.steps.collective.collective` when the job has several hosts: every
    host must build them, in this order.

    Raises:
        DataValidationError: a part file is bad, or a split has no row on any host.
    """
    train_files, validation_files = part_files(data.train_dir), part_files(data.validation_dir)
    dtrain = split_matrix(train_files, transformer, data.chunk_rows, cache_dir=data.cache_dir)
    dvalid = split_matrix(
        validation_files, transformer, data.chunk_rows, ref=dtrain, cache_dir=data.cache_dir
    )
    local = [dtrain.num_row(), dvalid.num_row()]
    LOG.info(
        "%s: %d train rows from %d files, %d validation rows from %d files",
        cluster.current_host, local[0], len(train_files), local[1], len(validation_files),
    )  # fmt: skip
    totals = global_sums(local)
    for total, files, channel in (
        (totals[0], train_files, contract.TRAIN_CHANNEL),
        (totals[1], validation_files, contract.VALIDATION_CHANNEL),
    ):
        if total == 0:
            message = no_rows_message(files, f"the {channel} channel")
            if cluster.size > 1:
                message += f"; the {channel} split has no row on any of the {cluster.size} hosts"
            raise DataValidationError(message)
    return dtrain, dvalid
