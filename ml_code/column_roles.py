"""What each raw column is to the model, and why: the role Preprocess gives it and a one-line reason.

Decided once, from the merged profile of the training rows (exact counts, and the bottom-k sample
for what needs the values themselves) and the column's name, by these rules in this order:

1. ``pipeline.columns`` says (``--column NAME=ROLE``): that role ("set in pipeline.columns"), unless
   the column has no values at all, which stays ``empty``; ``drop`` leaves it out (role ``dropped``).
2. ``empty``: no values in the training rows. Not a model input.
3. ``constant``: one value in every training row (none missing). Not a model input.
4. A column whose every value is a number: ``identifier`` when named like one (:func:`named_like_id`)
   unless it is fractional with repeated values (a float column with repeats is a measurement, whatever
   its name); else ``numeric``. Distinct numbers alone do not make a key (an income in cents, a
   measurement): an unnamed numeric key needs ``pipeline.columns``.
5. ``categorical`` for a boolean column (``True``/``False``).
6. ``date`` when at least :data:`DATE_SHARE` of the sampled values parse as dates
   (:mod:`ml_code.feature_dates`: ISO 8601 and ``YYYY/MM/DD``; nothing locale-ambiguous).
7. ``identifier`` when named like one.
8. ``text`` when free text: at least :data:`TEXT_DISTINCT_SHARE` of the values distinct, a mean of at
   least :data:`TEXT_MIN_CHARS` characters and :data:`TEXT_MIN_WORDS` words. Not a model input.
9. ``identifier`` when at least :data:`ID_DISTINCT_SHARE` of its present values are distinct (values
   nearly all ties at one row each are keys, not categories), over at least :data:`ID_MIN_ROWS` values.
10. ``categorical`` otherwise (its most frequent values up to the cap, as the transformer keeps).

Model inputs are ``numeric``, ``categorical`` and ``date`` (:data:`MODEL_ROLES`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from ml_code.errors import DataValidationError
from ml_code.feature_dates import parsed_share

ROLES: Final = ("numeric", "categorical", "date", "identifier", "text", "constant", "empty", "dropped")
#: What ``pipeline.columns`` may set (``drop``: the role ``dropped``).
OVERRIDES: Final = ("numeric", "categorical", "date", "identifier", "text", "drop")
OVERRIDE_HELP: Final = f"a column's role (pipeline.columns), repeatable; ROLE: {', '.join(OVERRIDES)}"
MODEL_ROLES: Final = frozenset({"numeric", "categorical", "date"})
ID_DISTINCT_SHARE: Final = 0.95
ID_MIN_ROWS: Final = 20
DATE_SHARE: Final = 0.95
TEXT_DISTINCT_SHARE: Final = 0.5
TEXT_MIN_CHARS: Final = 20
TEXT_MIN_WORDS: Final = 3
_ID_NAME: Final = re.compile(r"(?i:id|uuid|guid|key)|.*[_\s.-](?i:id|uuid|guid|key)|.*[a-z0-9](?:Id|ID)")


@dataclass(frozen=True)
class ColumnFacts:
    """What the rules read of one raw column over the training rows."""

    name: str
    rows: int  # training rows
    present: int  # rows with a (non-blank) value
    numeric: bool  # every present value is a finite number
    integral: bool  # ... and a whole one
    boolean: bool  # every present value is a boolean spelling
    distinct: int  # distinct present values (exact, or estimated from the sample past the cap)
    top: str | None = None  # the most frequent value (quoted by ``constant``)
    sample: Sequence[str] = ()  # present values of the training sample (texts)


@dataclass(frozen=True)
class ColumnRole:
    """A column's role and the one-line reason for it."""

    name: str
    role: str
    reason: str

    @property
    def model_input(self) -> bool:
        return self.role in MODEL_ROLES


def named_like_id(name: str) -> bool:
    """Whether ``name`` reads as a key: ``id``, ``uuid``, ``key``, ``*_id``, ``* id``, ``*Id``, ``*ID``."""
    return _ID_NAME.fullmatch(name.strip()) is not None


def parse_overrides(pairs: Sequence[str]) -> dict[str, str]:
    """``NAME=ROLE`` arguments as a mapping; raises ValueError naming a malformed one or an unknown role."""
    overrides: dict[str, str] = {}
    for pair in pairs:
        name, sep, role = pair.rpartition("=")
        if not sep or not name:
            raise ValueError(f"--column {pair!r}: expected NAME=ROLE")
        if role not in OVERRIDES:
            raise ValueError(f"--column {pair!r}: the role must be one of {', '.join(OVERRIDES)}")
        overrides[name] = role
    return overrides


def checked_overrides(
    pairs: Sequence[str], columns: Sequence[str], target: str
) -> tuple[tuple[str, str], ...]:
    """``--column NAME=ROLE`` arguments as sorted (name, role) pairs.

    Raises DataValidationError for a malformed one, an unknown role, or a name that is not a feature column.
    """
    try:
        roles = parse_overrides(pairs)
    except ValueError as exc:
        raise DataValidationError(str(exc)) from None
    wrong = sorted(set(roles) - (set(columns) - {target}))
    if wrong:
        raise DataValidationError(f"pipeline.columns names {wrong}: not feature columns of {list(columns)}")
    return tuple(sorted(roles.items()))


def _share(part: int, whole: int) -> str:
    return f"{part:,} distinct values in {whole:,} rows ({part / whole:.0%})"


def _numeric(facts: ColumnFacts) -> ColumnRole:
    name = facts.name
    distinct_share = facts.distinct / facts.present
    if named_like_id(name) and (facts.integral or distinct_share >= ID_DISTINCT_SHARE):
        return ColumnRole(name, "identifier", f"named like one ({name!r})")
    kind = "whole numbers" if facts.integral else "numbers"
    return ColumnRole(name, "numeric", f"{kind}, {facts.distinct:,} distinct values")


def _text_shape(sample: Sequence[str]) -> tuple[float, float]:
    """Mean characters and words of the sampled values."""
    if not sample:
        return 0.0, 0.0
    return sum(map(len, sample)) / len(sample), sum(len(v.split()) for v in sample) / len(sample)


def decide(facts: ColumnFacts, override: str | None = None) -> ColumnRole:
    """The role of one column (see the module doc)."""
    name = facts.name
    if facts.present == 0:
        ignored = f" (pipeline.columns' {override!r} ignored)" if override not in (None, "drop") else ""
        return ColumnRole(name, "empty", f"no values{ignored}")
    if override is not None:
        role = "dropped" if override == "drop" else override
        return ColumnRole(name, role, "set in pipeline.columns")
    if facts.distinct == 1 and facts.present == facts.rows:
        return ColumnRole(name, "constant", f"one value ({facts.top!r}) in every row")
    if facts.numeric:
        return _numeric(facts)
    if facts.boolean:
        return ColumnRole(name, "categorical", "true/false values")
    return _text_like(facts)


def _text_like(facts: ColumnFacts) -> ColumnRole:
    """Rules 6 to 10, for a column of texts that are neither numbers nor booleans."""
    name = facts.name
    share = parsed_share(facts.sample)
    if share >= DATE_SHARE:
        return ColumnRole(name, "date", f"{share:.0%} of values parse as ISO dates (YYYY-MM-DD)")
    if named_like_id(name):
        return ColumnRole(name, "identifier", f"named like one ({name!r})")
    chars, words = _text_shape(facts.sample)
    distinct_share = facts.distinct / facts.present
    if distinct_share >= TEXT_DISTINCT_SHARE and chars >= TEXT_MIN_CHARS and words >= TEXT_MIN_WORDS:
        return ColumnRole(name, "text", f"free text (mean {chars:.0f} characters, {words:.0f} words)")
    if distinct_share >= ID_DISTINCT_SHARE and facts.present >= ID_MIN_ROWS:
        return ColumnRole(name, "identifier", _share(facts.distinct, facts.present))
    return ColumnRole(name, "categorical", f"{facts.distinct:,} distinct values")


def decide_all(columns: Sequence[ColumnFacts], overrides: Mapping[str, str]) -> list[ColumnRole]:
    """Every column's role, in ``columns``' order; raises ValueError for an override naming no column."""
    unknown = sorted(set(overrides) - {c.name for c in columns})
    if unknown:
        raise ValueError(f"pipeline.columns names columns the data has not: {unknown}")
    return [decide(facts, overrides.get(facts.name)) for facts in columns]
