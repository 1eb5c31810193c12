"""The quality gate's sentences: what was compared, the numbers, and why it passed or held.

The registry's customer metadata accepts at most 256 characters of letters, digits, spaces and
``_.:/=+-@`` (botocore's ``CustomerMetadataValue``): :func:`metadata_message` says the same within that.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from ml_code.steps.gate_baselines import RELATIVE_LIFT

METADATA_LIMIT: Final = 256
_METADATA_PUNCTUATION: Final = frozenset("_.:/=+-@ ")
_METADATA_WORDS: Final = (("%", " percent"), (">=", "at least"), ("<=", "at most"))


def number(value: float) -> str:
    """Four significant digits: ``0.8612``, ``52.13``, ``1234``."""
    return f"{value:.4g}"


def signed(value: float) -> str:
    """``+0.012``, ``-0.5``; no ``-0`` (adding 0.0 turns IEEE's negative zero into zero)."""
    return f"{value + 0.0:+.3g}"


def version_of(arn: str) -> str:
    """``version 3`` for ``...:model-package/<group>/3``; the ARN itself otherwise."""
    tail = arn.rsplit("/", 1)[-1]
    return f"version {tail}" if tail.isdigit() else arn


def champion_words(champion: Mapping[str, Any] | None, metric: str) -> str:
    """How the candidate compares with the approved champion, or that there is none to compare with.

    ``champion``: the gate section's ``champion`` (``allowed``: the margin in the metric's units).
    """
    if champion is None:
        return "no approved champion yet"
    who = f"the approved champion ({version_of(champion['model_package_arn'])})"
    if champion.get("value") is None:
        return f"{who} could not be scored ({champion.get('error')}), so it was not compared"
    allowed, margin = champion["allowed"], champion["margin"]
    worse = champion["lower"] < -allowed
    margin_words = (
        f"the margin: {margin * 100:g} % of the champion's {metric}"
        if metric in RELATIVE_LIFT
        else "the margin"
    )
    return (
        f"{'it is worse than' if worse else 'it is not worse than'} {who}, which scores "
        f"{number(champion['value'])} on the same rows: improvement {signed(champion['improvement'])}, "
        f"{champion['confidence'] * 100:g} % lower bound {signed(champion['lower'])} "
        f"{'<' if worse else '>='} -{number(allowed)} ({margin_words})"
    )


def held_words(why: str, versus: str | None) -> str:
    """``Held: <why>`` and, when the check did not reach the champion, what it would have met."""
    return f"Held: {why}" + (f" ({versus})." if versus else ".")


def cannot_judge_words(measured: str, too_few: str) -> str:
    return (
        f"Held, cannot judge: {too_few}, so {measured} would be noise; add labelled rows or raise "
        "the test fraction."
    )


def metadata_message(message: str) -> str:
    """``message`` within the registry's customer-metadata characters and length."""
    for text, words in _METADATA_WORDS:
        message = message.replace(text, f" {words} ")
    kept = "".join(c if c.isalnum() or c in _METADATA_PUNCTUATION else " " for c in message)
    squeezed = " ".join(kept.split())
    return squeezed if len(squeezed) <= METADATA_LIMIT else squeezed[: METADATA_LIMIT - 3].rstrip() + "..."
