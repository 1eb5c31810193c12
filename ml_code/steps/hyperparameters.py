"""The training job's hyperparameters: their names, defaults and bounds, and how decoded values
(the job's ``hyperparameters.json`` or ``--name value`` flags) become a checked
:class:`Hyperparameters`. ``train.py`` re-exports both names."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any, Final

from ml_code.errors import DataValidationError


@dataclass(frozen=True, kw_only=True)
class Hyperparameters:
    """The training job's hyperparameters (names as SageMaker passes them)."""

    num_round: int = 300
    max_depth: int = 5
    eta: float = 0.1
    subsample: float = 0.9
    early_stopping_rounds: int = 20
    seed: int = 42


#: What each bounded hyperparameter must satisfy, and how the error says it.
_BOUNDS: Final[dict[str, tuple[Callable[[float], bool], str]]] = {
    "num_round": (lambda v: v >= 1, ">= 1"),
    "max_depth": (lambda v: v >= 0, ">= 0"),
    "eta": (lambda v: v > 0, "> 0"),
    "subsample": (lambda v: 0 < v <= 1, "in (0, 1]"),
    "early_stopping_rounds": (lambda v: v >= 0, ">= 0"),
}
#: Names SageMaker itself may add to a job's hyperparameters (automatic model tuning).
_SAGEMAKER_ADDED: Final = frozenset({"_tuning_objective_metric"})


def _number(text: str) -> int | float | str:
    for parse in (int, float):
        try:
            return parse(text)
        except ValueError:
            pass
    return text


def _typed(name: str, value: Any, kind: type) -> int | float | str:
    """``value`` as ``kind`` (int or float), or the problem with it as text.

    A number in a string counts (``"0.3"``: what a JSON-quoted numeric hyperparameter decodes to).
    """
    what = "an integer" if kind is int else "a number"
    if isinstance(value, str):
        value = _number(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"{name} must be {what}, got {value!r}"
    if kind is int and isinstance(value, float) and not value.is_integer():
        return f"{name} must be {what}, got {value!r}"
    try:
        typed: int | float = kind(value)
    except OverflowError:
        return f"{name} must be {what} of a usable size, got {value!r}"
    allowed, bound = _BOUNDS.get(name, (lambda _: True, ""))
    return typed if allowed(typed) else f"{name} must be {bound}, got {value!r}"


def hyperparameters_from(values: Mapping[str, Any]) -> Hyperparameters:
    """The :class:`Hyperparameters` for decoded ``values`` (missing names keep their defaults).

    Raises:
        DataValidationError: naming every unknown hyperparameter and every bad value.
    """
    known = {f.name: f for f in fields(Hyperparameters)}
    unknown = sorted(set(values) - set(known) - _SAGEMAKER_ADDED)
    if unknown:
        raise DataValidationError(
            f"unknown hyperparameter(s) {', '.join(unknown)}; train.py accepts {', '.join(sorted(known))}"
        )
    kinds = {name: type(getattr(Hyperparameters(), name)) for name in known}
    typed = {name: _typed(name, value, kinds[name]) for name, value in values.items() if name in known}
    problems = [str(v) for name, v in typed.items() if isinstance(v, str)]
    if problems:
        raise DataValidationError(f"bad hyperparameter(s): {'; '.join(problems)}")
    return Hyperparameters(**typed)  # type: ignore[arg-type]
