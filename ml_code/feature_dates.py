"""Dates as the transformer reads them: which texts are dates, and the numbers a date becomes.

A date is text in ISO 8601 (``YYYY-MM-DD``, optionally followed by ``T`` or a space and a time
``HH:MM[:SS[.fff]]`` with an optional ``Z`` or ``+HH:MM`` offset) or ``YYYY/MM/DD``; nothing
locale-ambiguous (``03/04/2024`` is not a date here). The time of day and the offset are read
past, not used: a date feature is its calendar day. Anything else (numbers, other spellings,
impossible days such as ``2023-02-30``) is not a date: the transformer counts it as missing.

A date feature's outputs, in this order (:data:`DATE_PARTS`): its year, month (1-12), day of week
(0 = Monday) and days since the reference day fixed at fit time (the earliest training date).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Final

#: The numbers a date feature becomes, as output-name suffixes ``<name>__<part>``.
DATE_PARTS: Final = ("year", "month", "dayofweek", "days")
_TIME: Final = r"(?:[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?(?:Z|[+-][0-9]{2}:?[0-9]{2})?)?"
_DATE: Final = re.compile(
    rf"\s*([0-9]{{4}})(?:-([0-9]{{2}})-([0-9]{{2}}){_TIME}|/([0-9]{{2}})/([0-9]{{2}}))\s*"
)


def parse_date(value: object) -> dt.date | None:
    """The calendar day of a date text (see the module doc), or None for anything else."""
    if not isinstance(value, str):
        return None
    match = _DATE.fullmatch(value)
    if match is None:
        return None
    year, month, day = match.group(1), match.group(2) or match.group(4), match.group(3) or match.group(5)
    try:
        return dt.date(int(year), int(month), int(day))
    except ValueError:  # e.g. 2023-02-30
        return None


def date_parts(day: dt.date, reference: dt.date) -> tuple[float, float, float, float]:
    """``day``'s outputs (:data:`DATE_PARTS`) with days counted from ``reference``."""
    return float(day.year), float(day.month), float(day.weekday()), float((day - reference).days)


def parsed_share(values: Iterable[str]) -> float:
    """The share of ``values`` (present texts) that are dates; 0.0 for none."""
    total = dates = 0
    for value in values:
        total += 1
        dates += parse_date(value) is not None
    return dates / total if total else 0.0
