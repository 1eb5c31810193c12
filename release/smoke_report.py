"""The smoke test's findings: one :class:`Failure` per failed check, and the :class:`SmokeReport`."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Failure:
    """One failed check: which (``status``, ``schema``, ``latency``), which sample, and why."""

    check: str
    sample: int | None
    detail: str

    def __str__(self) -> str:
        where = f"sample {self.sample}" if self.sample is not None else "all samples"
        return f"{self.check} check failed for {where}: {self.detail}"


@dataclass(frozen=True)
class SmokeReport:
    """What :func:`release.smoke.run_smoke` found."""

    target: str
    samples: int
    latencies_ms: tuple[float, ...]
    p95_ms: float
    max_latency_ms: float
    failures: tuple[Failure, ...]
    #: The problem type the predictions were checked against (None: not recorded, shapes compared).
    problem_type: str | None = None

    @property
    def passed(self) -> bool:
        return not self.failures

    def summary(self) -> str:
        """Readable lines for a build log: the verdict, then one line per failure."""
        verdict = "PASSED" if self.passed else f"FAILED ({len(self.failures)} failure(s))"
        lines = [
            f"smoke test of {self.target} ({self.problem_type or 'problem type not recorded'}): "
            f"{self.samples} sample(s), p95 latency {self.p95_ms:.1f} ms "
            f"(bound {self.max_latency_ms:g} ms): {verdict}"
        ]
        return "\n".join([*lines, *(f"  - {failure}" for failure in self.failures)])


def p95(latencies: list[float]) -> float:
    """Nearest-rank 95th percentile (0 for no values)."""
    if not latencies:
        return 0.0
    ordered = sorted(latencies)
    return ordered[max(math.ceil(0.95 * len(ordered)) - 1, 0)]
