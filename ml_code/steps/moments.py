"""Exact sums of floats and of their squares, as integers, so a profile's sum, mean and standard
deviation do not depend on how the rows were cut into chunks and hosts.

Float addition is not associative: summing host 1's rows, then host 2's, differs in the last bits
from summing them all at once, and the P = 1 and P = 2 baselines would not be byte-identical. Every
finite double is ``m * 2**e`` with an integer ``|m| < 2**53``; the sums here are those integers,
added exactly (vectorised in int64 over limbs small enough not to overflow, then in Python ints per
exponent), in fixed point: ``value * 2**SCALE`` (squares: ``* 2**SQUARE_SCALE``). Merging two
profiles adds two integers: exact, associative and commutative. Rounding happens once, at the end.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any, Final

import numpy as np
import numpy.typing as npt

#: The smallest subnormal is 2**-1074 = m * 2**e with e >= -1126: every value * 2**SCALE is an integer.
SCALE: Final = 1130
SQUARE_SCALE: Final = 2 * SCALE
#: Rows summed at once: limb sums (< 2**37 each) stay below 2**63.
_BLOCK: Final = 1 << 25


def _grouped(limbs: list[npt.NDArray[np.int64]], shifts: list[int], exps: npt.NDArray[np.int64]) -> int:
    """Sum of ``sum_i limbs[i] << shifts[i]`` shifted by each row's exponent ``exps`` (all >= 0)."""
    order = np.argsort(exps, kind="stable")
    sorted_exps = exps[order]
    starts = np.flatnonzero(np.r_[True, sorted_exps[1:] != sorted_exps[:-1]])
    total = 0
    for limb, shift in zip(limbs, shifts, strict=True):
        sums = np.add.reduceat(limb[order], starts)
        for exp, value in zip(sorted_exps[starts].tolist(), sums.tolist(), strict=True):
            total += value << (exp + shift)
    return total


def exact_sums(values: npt.NDArray[np.float64]) -> tuple[int, int]:
    """(sum of ``values`` * 2**SCALE, sum of their squares * 2**SQUARE_SCALE), both exact integers.

    ``values`` must be finite (raises ValueError otherwise).
    """
    if not np.isfinite(values).all():
        raise ValueError("exact sums need finite values")
    total, squares = 0, 0
    for start in range(0, len(values), _BLOCK):
        block = values[start : start + _BLOCK]
        mantissa, exponent = np.frexp(block)
        m = (mantissa * float(2**53)).astype(np.int64)  # exact: |m| < 2**53
        e = exponent.astype(np.int64) - 53 + SCALE
        total += _grouped([m >> 26, m & ((1 << 26) - 1)], [26, 0], e)
        a = np.abs(m)
        hi, mid, lo = a >> 36, (a >> 18) & ((1 << 18) - 1), a & ((1 << 18) - 1)
        limbs = [hi * hi, 2 * hi * mid, 2 * hi * lo + mid * mid, 2 * mid * lo, lo * lo]
        squares += _grouped(limbs, [72, 54, 36, 18, 0], 2 * e)
    return total, squares


def mean_std(count: int, total: int, squares: int) -> tuple[float, float, float]:
    """(sum, mean, population standard deviation) of ``count`` values from their exact sums."""
    exact_sum = Fraction(total, 2**SCALE)
    mean = exact_sum / count
    variance = Fraction(squares, 2**SQUARE_SCALE) / count - mean * mean
    return float(exact_sum), float(mean), math.sqrt(max(float(variance), 0.0))


def to_text(number: int) -> str:
    """An exact sum as JSON-friendly hex text (no 4,300-digit limit of int <-> decimal str)."""
    return hex(number)


def from_text(text: Any) -> int:
    return int(str(text), 16)
