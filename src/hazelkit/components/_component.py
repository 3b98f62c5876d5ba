"""A component: a value in a System, what it depends on, and how it starts and stops.

How a value is started is read from its shape, in this order:

1. an async context manager (``__aenter__``/``__aexit__``, a Cluster included): entered
   to start, exited (with no exception) to stop; dependents get what ``__aenter__``
   returned;
2. an object with ``start()`` and/or ``stop()`` (async, or plain functions): called;
   dependents get the object itself;
3. anything else: a plain value, running as soon as its dependencies are.

A :class:`Lifecycle` factory given to :func:`using` replaces this choice: it is the
extension point for components that start differently (a cluster singleton, which runs
on one node at a time, will be one; it is not implemented yet).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from hazelkit._core._exceptions import ArgumentError, ConfigurationError
from hazelkit._core._handle import check_seconds

__all__ = ["Component", "Lifecycle", "LifecycleFactory", "default_lifecycle", "using"]


class Lifecycle(Protocol):
    """How a :class:`System` starts and stops one component.

    ``start()`` returns the value that dependents get injected; ``stop()`` undoes it. A
    System calls ``start()`` at most once and ``stop()`` only after ``start()``
    returned. Build one for a value with :func:`default_lifecycle`, or wrap that one to
    change when or where the component runs.
    """

    async def start(self) -> Any:
        """Start the component; return what dependents get."""
        ...

    async def stop(self) -> None:
        """Stop the component started by :meth:`start`."""
        ...


#: Makes the Lifecycle of a component from its value and its started dependencies (by
#: attribute name), after they were injected.
LifecycleFactory = Callable[[Any, Mapping[str, Any]], Lifecycle]


@dataclass(frozen=True, slots=True)
class Component:
    """A value of a :class:`System` with its dependencies (made by :func:`using`).

    ``dependencies`` maps the attribute set on ``value`` to the name of the component
    whose started value it gets. A timeout of None means the System's default.
    """

    value: Any
    dependencies: Mapping[str, str] = field(default_factory=dict)
    start_timeout: float | None = None
    stop_timeout: float | None = None
    lifecycle: LifecycleFactory | None = None
    #: Run on one node of the cluster at a time (True: under the component's name).
    singleton: bool | str = False


def using(
    value: Any,
    *names: str,
    start_timeout: float | None = None,
    stop_timeout: float | None = None,
    lifecycle: LifecycleFactory | None = None,
    singleton: bool | str = False,
    **renamed: str,
) -> Component:
    """``value`` as a component that depends on other components of its System.

    ``using(Api(), "db")`` sets ``api.db`` to the started ``db`` component before
    ``api`` starts; ``using(Api(), store="db")`` sets ``api.store`` to it. Given a
    Component, adds to it. ``start_timeout`` and ``stop_timeout`` (seconds) override
    the System's defaults; ``lifecycle`` replaces how the value is started and stopped
    (see :class:`Lifecycle`). ``singleton=True`` (or a name) runs it on exactly one node
    of the Cluster it depends on, with a fencing token, and moves when that node fails
    (the runtime's cluster singletons, as :meth:`hazelkit.Cluster.singleton`). Raises
    ConfigurationError for a bad name or timeout.
    """
    base = value if isinstance(value, Component) else Component(value)
    dependencies = dict(base.dependencies)
    for attribute, target in [*((n, n) for n in names), *renamed.items()]:
        if not isinstance(target, str) or not target:
            raise ConfigurationError(f"a dependency must name a component, not {target!r}")
        dependencies[attribute] = target
    if lifecycle is not None and not callable(lifecycle):
        raise ArgumentError(f"lifecycle must be callable, not {type(lifecycle).__name__}")
    if singleton and lifecycle is not None:
        raise ConfigurationError("a component is a singleton or has its own lifecycle, not both")
    return Component(
        base.value,
        dependencies,
        _seconds(start_timeout, "start_timeout", base.start_timeout),
        _seconds(stop_timeout, "stop_timeout", base.stop_timeout),
        lifecycle if lifecycle is not None else base.lifecycle,
        singleton if singleton else base.singleton,
    )


def _seconds(value: float | None, what: str, default: float | None) -> float | None:
    if value is None:
        return default
    return check_seconds(value, what)


def default_lifecycle(value: Any, dependencies: Mapping[str, Any] | None = None) -> Lifecycle:
    """The Lifecycle a System uses for ``value``, read from its shape (see the module
    docstring): an async context manager, an object with start/stop, or a plain value.
    ``dependencies`` is accepted so that this is a :data:`LifecycleFactory`."""
    if hasattr(value, "__aenter__") and hasattr(value, "__aexit__"):
        return _Entered(value)
    if callable(getattr(value, "start", None)) or callable(getattr(value, "stop", None)):
        return _StartStop(value)
    return _Plain(value)


async def _call(value: Any, method: str) -> None:
    function = getattr(value, method, None)
    if callable(function):
        result = function()
        if inspect.isawaitable(result):
            await result


class _Entered:
    def __init__(self, manager: Any) -> None:
        self._manager = manager

    async def start(self) -> Any:
        return await self._manager.__aenter__()

    async def stop(self) -> None:
        await self._manager.__aexit__(None, None, None)


class _StartStop:
    def __init__(self, value: Any) -> None:
        self._value = value

    async def start(self) -> Any:
        await _call(self._value, "start")
        return self._value

    async def stop(self) -> None:
        await _call(self._value, "stop")


class _Plain:
    def __init__(self, value: Any) -> None:
        self._value = value

    async def start(self) -> Any:
        return self._value

    async def stop(self) -> None:
        return None
