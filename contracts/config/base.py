"""What every config section is made of: checked values, and errors that name the dotted key.

A section is a frozen pydantic dataclass with :data:`SECTION`: camelCase keys, unknown keys
rejected. Each value check runs before pydantic's own, so one bad value gives one message:
``context key 'environments.dev.studio.users[0].persona': expected one of ..., got 'admin'``.
Cross-field rules raise :class:`SettingError` naming their key; they hold for what is loaded from
context (tests may build other objects in Python, e.g. with ``dataclasses.replace``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Annotated, Any, Final, TypeVar, get_args

from pydantic import AfterValidator, BeforeValidator, ConfigDict, TypeAdapter, ValidationError, ValidationInfo
from pydantic.dataclasses import is_pydantic_dataclass

T = TypeVar("T")
#: Fields the loader fills in (from the key a section sits under); context may not set them.
INTERNAL: Final = ("name", "approvedModel")


class ConfigError(ValueError):
    """A context entry is missing or invalid; one line per problem, each naming its key."""


#: An AWS account ID and region, as config spells them.
ACCOUNT_RE: Final = r"^\d{12}$"
REGION_RE: Final = r"^[a-z]{2}(-gov)?-[a-z]+-\d$"


class SettingError(ValueError):
    """A broken rule; ``at`` is its key relative to the section (``{section}`` in the text: the section's)."""

    def __init__(self, at: str, message: str) -> None:
        super().__init__(message)
        self.at = at


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


SECTION: Final = ConfigDict(
    extra="forbid", alias_generator=_camel, validate_by_name=True, validate_by_alias=True
)


def loading(info: ValidationInfo) -> bool:
    """True while :func:`validate` reads context (cross-field rules apply); False for objects made in code."""
    return bool(info.context)


def check(hint: str, ok: Callable[[Any], bool]) -> BeforeValidator:
    """Refuse a value ``ok`` rejects with ``expected <hint>, got <value>`` (None: left to the type)."""

    def validate(value: Any) -> Any:
        if value is not None and not ok(value):
            raise ValueError(f"expected {hint}, got {value!r}")
        return value

    return BeforeValidator(validate)


def integer(low: int, high: int) -> BeforeValidator:
    return check(f"an integer from {low} to {high}", lambda v: type(v) is int and low <= v <= high)


def number(low: float, high: float) -> BeforeValidator:
    return check(f"a number from {low} to {high}", lambda v: type(v) in (int, float) and low <= v <= high)


def text(pattern: str, hint: str) -> BeforeValidator:
    regex = re.compile(pattern)
    return check(hint, lambda v: isinstance(v, str) and regex.match(v) is not None)


def one_of(options: Iterable[object]) -> BeforeValidator:
    allowed = tuple(options)
    return check(
        f"one of {', '.join(map(str, allowed))}",
        lambda v: any(type(v) is type(o) and v == o for o in allowed),
    )


def sorted_set(what: str | None = None) -> AfterValidator:
    """Sort and de-duplicate a list; with ``what``, refuse an empty one."""

    def validate(values: tuple[str, ...]) -> tuple[str, ...]:
        if what and not values:
            raise ValueError(f"list at least one {what}")
        return tuple(sorted(set(values)))

    return AfterValidator(validate)


BOOLEAN: Final = check("true or false", lambda v: isinstance(v, bool))
INSTANCE_RE: Final = re.compile(r"^ml\.[a-z0-9]+\.[a-z0-9]+$")
InstanceType = Annotated[str, text(INSTANCE_RE.pattern, "a SageMaker instance type such as ml.m5.large")]


def _are_tags(tags: Any) -> bool:
    return isinstance(tags, dict) and all(
        isinstance(k, str) and isinstance(v, str) and 0 < len(k) <= 128 and len(v) <= 256
        for k, v in tags.items()
    )


Tags = Annotated[
    dict[str, str],
    check("an object of string tag names to string values", _are_tags),
    AfterValidator(lambda tags: dict(sorted(tags.items()))),
]


def validate(section: type[T], data: Any, prefix: tuple[str, ...] = ()) -> T:
    """``data`` (context under the dotted key ``prefix``) as ``section``; a null setting means "not set".

    Raises:
        ConfigError: one line per problem, each naming its full dotted key.
    """
    try:
        return TypeAdapter(section).validate_python(
            _without_nulls(data, section), by_alias=True, by_name=False, context={"loading": True}
        )
    except ValidationError as exc:
        raise ConfigError("\n".join(_describe(error, section, prefix) for error in exc.errors())) from None


def _describe(error: Any, section: type, prefix: tuple[str, ...]) -> str:
    cause = error.get("ctx", {}).get("error")
    key = _dotted((*prefix, *error["loc"]))
    kind = error["type"]
    if kind in ("missing", "missing_keyword_argument"):
        message = "is missing"
    elif kind in ("extra_forbidden", "unexpected_keyword_argument"):
        message = f"is not a known setting; expected one of {', '.join(_known(section, error['loc'][:-1]))}"
    elif isinstance(cause, ValueError):
        message = str(cause).replace("{section}", key)
        if isinstance(cause, SettingError):
            key += cause.at if cause.at.startswith("[") else f".{cause.at}"
    elif kind in ("tuple_type", "list_type"):
        message = f"expected a list, got {error['input']!r}"
    elif kind in ("dataclass_type", "dict_type"):
        message = f"expected an object, got {error['input']!r}"
    else:
        message = str(error["msg"])
    return (
        f"context key '{key}' {message}" if message.startswith("is ") else f"context key '{key}': {message}"
    )


def _dotted(loc: Iterable[str | int]) -> str:
    key = ""
    for part in loc:
        if isinstance(part, int):
            key += f"[{part}]"
        elif part != "[key]":  # pydantic's marker for a bad mapping key: the key itself names it
            key += f".{part}" if key else part
    return key


def _fields(section: Any) -> dict[str, Any]:
    """The keys ``section`` (a section class, or anything else: none) accepts, and their types."""
    fields = getattr(section, "__pydantic_fields__", {}).values()
    return {str(f.alias): f.annotation for f in fields}


def _section_in(annotation: Any) -> Any:
    """The section class in a field's type (``X``, ``X | None``, ``tuple[X, ...]``), or None."""
    if is_pydantic_dataclass(annotation):
        return annotation
    return next(filter(None, map(_section_in, get_args(annotation))), None)


def _known(section: Any, loc: Iterable[str | int]) -> list[str]:
    """The keys the section at ``loc`` below ``section`` accepts."""
    for part in loc:
        if part in (fields := _fields(section)):  # else a list index or a mapping key: same section
            section = _section_in(fields[str(part)])
    return [key for key in _fields(section) if key not in INTERNAL]


def _without_nulls(data: Any, section: Any) -> Any:
    """``data`` without null settings (so they take their default); an unknown key stays, to be refused."""
    if isinstance(data, list):
        return [_without_nulls(item, section) for item in data]
    if not isinstance(data, dict):
        return data
    fields = _fields(section)
    return {
        key: _without_nulls(value, _section_in(fields[key]) if key in fields else None)
        for key, value in data.items()
        if value is not None or key not in fields
    }
