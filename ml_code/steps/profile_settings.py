"""What every host's profile must agree on to be merged (:class:`Settings`), and how a row is placed
under them (``Settings.place``, :mod:`placement`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from ml_code.steps.chunks import stripped
from ml_code.steps.data_arguments import DEFAULT_SAMPLE_ROWS
from ml_code.steps.placement import place_rows
from ml_code.steps.row_hash import Placement
from ml_code.steps.strata import Cuts


@dataclass(frozen=True)
class Settings:
    """What every host's profile must agree on to be merged."""

    columns: tuple[str, ...]
    target: str
    problem_type: str
    validation_fraction: float = 0.15
    test_fraction: float = 0.15
    seed: int = 42
    sample_rows: int = DEFAULT_SAMPLE_ROWS
    #: ``pipeline.columns`` (``--column NAME=ROLE``), sorted by name: roles set per column (column_roles)
    roles: tuple[tuple[str, str], ...] = ()

    @property
    def features(self) -> list[str]:
        return [c for c in self.columns if c != self.target]

    @property
    def fractions(self) -> tuple[float, float]:
        """The nominal cuts of ``u`` (:mod:`row_hash`): test below the first, validation the second."""
        return self.test_fraction, self.test_fraction + self.validation_fraction

    @property
    def stratified(self) -> bool:
        """Classification without a key: each class gets its own cuts (:mod:`placement`)."""
        return self.problem_type != "regression" and not any(r == "identifier" for _, r in self.roles)

    def place(
        self, chunk: pd.DataFrame, shards: int = 1, cuts: Cuts | None = None,
        hashes: npt.NDArray[np.uint64] | None = None,
    ) -> Placement:  # fmt: skip
        """Each labelled row's split, shard and rank (:mod:`placement`; stratified: by ``cuts``, a
        finished profile's; ``hashes``: the rows', when known). Raises ValueError when stratified
        without cuts."""
        if self.stratified and cuts is None:
            raise ValueError("a stratified split needs the merged profile's cuts (Profile.finish)")
        key = [name for name, role in self.roles if role == "identifier"]
        return place_rows(chunk, seed=self.seed, validation_fraction=self.validation_fraction,
                          test_fraction=self.test_fraction, shards=shards, key=key, target=self.target,
                          cuts=cuts if self.stratified else None, hashes=hashes)  # fmt: skip


def differences(mine: Settings, theirs: Settings) -> str:
    """The settings two profiles differ in, each as ``name: mine vs theirs`` (short enough to be
    seen in a failure reason, which the whole settings of a wide table are not)."""
    left, right = asdict(mine), asdict(theirs)
    return "; ".join(f"{name}: {left[name]} vs {right[name]}" for name in left if left[name] != right[name])


def labelled(chunk: pd.DataFrame, target: str) -> pd.DataFrame:
    """The rows of ``chunk`` with a target value (missing or blank targets are dropped)."""
    values = chunk[target]
    return chunk[values.notna() & (stripped(values) != "")]
