"""Reading environment variables: the one set of parsers every settings reader uses.

``settings`` (connections), ``auth.settings``, ``backup.config`` and the ``RAINBOND_*``
defaults of ``extension`` all read variables through these helpers, so a malformed value
is always one :class:`~rainbond_kit.errors.ConfigurationError` naming the variable.
"""

from __future__ import annotations

from collections.abc import Mapping

from rainbond_kit.errors import ConfigurationError

__all__ = ["first", "flag", "integer", "number", "port", "text"]

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def text(env: Mapping[str, str], name: str) -> str:
    """The variable's value, stripped (``""`` when unset)."""
    return env.get(name, "").strip()


def first(env: Mapping[str, str], *names: str) -> tuple[str, str] | None:
    """``(name, value)`` of the first non-empty variable among ``names``, else ``None``."""
    for name in names:
        value = text(env, name)
        if value:
            return name, value
    return None


def port(env: Mapping[str, str], name: str, default: int) -> int:
    """A TCP port (1-65535); ``default`` when unset."""
    raw = text(env, name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a port number (1-65535), got {raw!r}") from None
    if not 1 <= value <= 65535:
        raise ConfigurationError(f"{name} must be a port number (1-65535), got {value}")
    return value


def number(
    env: Mapping[str, str], name: str, default: float, *, integer: bool = False, minimum: float = 0
) -> float:
    """A number (an integer with ``integer``) >= ``minimum``; ``default`` when unset."""
    raw = text(env, name)
    if not raw:
        return default
    try:
        value = int(raw) if integer else float(raw)
    except ValueError:
        kind = "an integer" if integer else "a number"
        raise ConfigurationError(f"{name} must be {kind}, got {raw!r}") from None
    if value < minimum:
        raise ConfigurationError(f"{name} must be >= {minimum:g}, got {raw!r}")
    return value


def integer(env: Mapping[str, str], name: str, default: int, *, minimum: int = 0) -> int:
    """An integer >= ``minimum``; ``default`` when unset."""
    return int(number(env, name, default, integer=True, minimum=minimum))


def flag(env: Mapping[str, str], name: str, default: bool = False) -> bool:
    """``1/true/yes/on`` or ``0/false/no/off`` (any case); ``default`` when unset."""
    raw = text(env, name).lower()
    if not raw:
        return default
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ConfigurationError(f"{name} must be true or false, got {raw!r}")
