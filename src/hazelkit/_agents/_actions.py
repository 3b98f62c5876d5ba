"""Actions, error handlers and validators are referenced by name, never pickled.

A function registered with ``@hazelkit.action("inventory.add")`` (or
:func:`register_action`) is found by that name on whichever node applies the agent, so
every node that hosts agents must register every action (import the module that
defines them at start-up: the registry is per process). Sending an unregistered function
is refused at once; a name the owner does not know fails that action (see the agent's
error mode) and nothing else.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from hazelkit._core._exceptions import ArgumentError, ConfigurationError

__all__ = ["action", "action_name", "find_action", "register_action"]

F = TypeVar("F", bound=Callable[..., Any])

_by_name: dict[str, Callable[..., Any]] = {}
_names: dict[Callable[..., Any], str] = {}
_lock = threading.Lock()


def register_action(name: str, fn: Callable[..., Any]) -> None:
    """Register ``fn`` (plain or async) under ``name``. Registering the same function
    again is a no-op; another function under a taken name is a ConfigurationError."""
    if not isinstance(name, str) or not name:
        raise ConfigurationError(f"an action name must be a non-empty str, not {name!r}")
    if not callable(fn):
        raise ArgumentError(f"action {name!r} must be callable, not {fn!r}")
    with _lock:
        existing = _by_name.get(name)
        if existing is not None and existing is not fn:
            raise ConfigurationError(f"action {name!r} is registered already for {existing!r}")
        _by_name[name] = fn
        _names[fn] = name


def action(name: str) -> Callable[[F], F]:
    """Register the decorated function as the action (or error handler, or validator)
    ``name``::

        @hazelkit.action("inventory.add")
        def add(stock: dict, item: str, count: int) -> dict:
            return {**stock, item: stock.get(item, 0) + count}
    """

    def register(fn: F) -> F:
        register_action(name, fn)
        return fn

    return register


def action_name(fn_or_name: Callable[..., Any] | str) -> str:
    """The registered name of ``fn_or_name`` (a name is returned as it is)."""
    if isinstance(fn_or_name, str):
        if not fn_or_name:
            raise ConfigurationError("an action name must be a non-empty str")
        return fn_or_name
    name = _names.get(fn_or_name)
    if name is None:
        raise ArgumentError(
            f"{fn_or_name!r} is not a registered action: decorate it with"
            ' @hazelkit.action("name") (functions are sent by name, never pickled)'
        )
    return name


def find_action(name: str) -> Callable[..., Any]:
    """The function registered as ``name``; ConfigurationError if this process has none."""
    fn = _by_name.get(name)
    if fn is None:
        raise ConfigurationError(
            f"no action {name!r} is registered in this process: import the module that"
            " registers it on every node that hosts agents"
        )
    return fn
