"""Reading CDK context safely: every error names the key's full dotted path.

:class:`Reader` wraps one mapping of context; :class:`ConfigError` is what every reader raises.
Shared by the config sections (``stacks.config`` and ``stacks.config_release``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final, TypeVar, cast


class ConfigError(ValueError):
    """A context entry is missing or invalid; the message names the key."""


T = TypeVar("T")
MISSING: Final = object()


class Reader:
    """Reads one mapping of context, naming every key by its full dotted path."""

    def __init__(self, data: Any, path: str) -> None:
        if not isinstance(data, Mapping):
            raise ConfigError(f"context key '{path}': expected an object, got {show(data)}")
        self._data = cast(Mapping[str, Any], data)
        self.path = path

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def raw(self, name: str, default: Any = MISSING) -> Any:
        if name in self._data and self._data[name] is not None:
            return self._data[name]
        if default is MISSING:
            raise ConfigError(f"context key '{self.key(name)}' is missing")
        return default

    def child(self, name: str, default: Any = MISSING) -> Reader:
        return Reader(self.raw(name, default), self.key(name))

    def string(self, name: str, pattern: re.Pattern[str], hint: str, default: Any = MISSING) -> str:
        value = self.raw(name, default)
        if not isinstance(value, str) or not pattern.match(value):
            raise ConfigError(f"context key '{self.key(name)}': expected {hint}, got {show(value)}")
        return value

    def optional_string(self, name: str, pattern: re.Pattern[str], hint: str) -> str | None:
        if self.raw(name, None) is None:
            return None
        return self.string(name, pattern, hint)

    def choice(self, name: str, allowed: tuple[str, ...], default: Any = MISSING) -> str:
        value = self.raw(name, default)
        if value not in allowed:
            raise ConfigError(
                f"context key '{self.key(name)}': expected one of {', '.join(allowed)}, got {show(value)}"
            )
        return cast(str, value)

    def integer(self, name: str, low: int, high: int, default: Any = MISSING) -> int:
        value = self.raw(name, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ConfigError(
                f"context key '{self.key(name)}': expected an integer from {low} to {high}, got {show(value)}"
            )
        return value

    def number(self, name: str, low: float, high: float, default: Any = MISSING) -> float:
        value = self.raw(name, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
            raise ConfigError(
                f"context key '{self.key(name)}': expected a number from {low} to {high}, got {show(value)}"
            )
        return float(value)

    def boolean(self, name: str, default: Any = MISSING) -> bool:
        value = self.raw(name, default)
        if not isinstance(value, bool):
            raise ConfigError(f"context key '{self.key(name)}': expected true or false, got {show(value)}")
        return value

    def items(self, name: str, default: Any = MISSING) -> list[tuple[str, Any]]:
        value = self.raw(name, default)
        if not isinstance(value, list):
            raise ConfigError(f"context key '{self.key(name)}': expected a list, got {show(value)}")
        return [(f"{self.key(name)}[{i}]", item) for i, item in enumerate(value)]

    def tags(self, name: str) -> dict[str, str]:
        value = self.raw(name, {})
        if not isinstance(value, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) and k and len(k) <= 128 and len(v) <= 256
            for k, v in value.items()
        ):
            raise ConfigError(
                f"context key '{self.key(name)}': expected an object of string tag names to string values"
            )
        return dict(sorted(value.items()))

    def reject_unknown(self, known: tuple[str, ...]) -> None:
        for name in self._data:
            if name not in known:
                raise ConfigError(
                    f"context key '{self.key(name)}' is not a known setting; "
                    f"expected one of {', '.join(known)}"
                )


def show(value: Any) -> str:
    return "nothing" if value is MISSING or value is None else repr(value)


def check(key: str, value: Any, pattern: re.Pattern[str], hint: str) -> str:
    if not isinstance(value, str) or not pattern.match(value):
        raise ConfigError(f"context key '{key}': expected {hint}, got {show(value)}")
    return value
