"""The System: named components started in dependency order and stopped in reverse."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any, TypeVar

from hazelkit._core._exceptions import (
    ComponentError,
    ComponentStopError,
    ConfigurationError,
    HazelkitError,
    KeyNotFoundError,
)
from hazelkit._core._handle import check_seconds
from hazelkit.components._component import Component, Lifecycle, default_lifecycle
from hazelkit.components._graph import dependency_order, reverse, walk
from hazelkit.components._health import (
    ComponentHealth,
    ComponentState,
    SystemHealth,
    check_health,
    describe,
)

__all__ = ["System"]

logger = logging.getLogger("hazelkit")
T = TypeVar("T")


class System:
    """A map of named components, each started after the components it depends on.

    ``System({"cluster": hazelkit.connect(url), "api": using(Api(), "cluster")})``. A
    value is an async context manager (a Cluster, say), an object with ``start()`` and
    ``stop()``, or a plain value; :func:`using` declares what it depends on.

    Guarantees:

    - *Checked when built*: a dependency on a name that is not in the system, or a
      cycle, raises ConfigurationError naming the name or the cycle's path.
    - *Order*: a component starts only after every component it depends on is running;
      components that do not depend on each other start concurrently. Stopping runs in
      reverse: a component stops only after every component depending on it stopped.
    - *Injection*: just before a component starts, each dependency is set as an
      attribute of its value (``api.cluster = <the started Cluster>``); a dependency
      gets what its component's start produced (``__aenter__``'s result, else the
      value itself).
    - *Rollback*: if a component fails to start (or its start times out), no other
      component begins to start, those already starting finish, and every running
      component is stopped in reverse order; then ComponentError naming the failed
      component is raised, with the original as ``__cause__`` (other failures are added
      as notes). A component whose own start failed is not stopped: its start must
      clean up after itself. Cancelling ``start()`` rolls back the same way.
    - *Stop errors are collected*: ``stop()`` stops every running component even if
      some fail, then raises ComponentStopError (an ExceptionGroup of one
      ComponentError per failed component).
    - *Bounded*: each start and each stop is cancelled after ``start_timeout`` or
      ``stop_timeout`` seconds (defaults here, per component in :func:`using`), which
      counts as a failure that says so.

    A System starts once: its components (a Cluster, say) may not start twice.
    """

    def __init__(
        self,
        components: Mapping[str, Any],
        *,
        start_timeout: float = 30.0,
        stop_timeout: float = 30.0,
        health_timeout: float = 5.0,
    ) -> None:
        self._specs = {_check_name(n): _component(c) for n, c in components.items()}
        graph = {n: list(dict.fromkeys(s.dependencies.values())) for n, s in self._specs.items()}
        self._order = dependency_order(graph)
        self._graph = graph
        self._dependents = reverse(graph)
        self._start_timeout = _timeout(start_timeout, "start_timeout")
        self._stop_timeout = _timeout(stop_timeout, "stop_timeout")
        self._health_timeout = _timeout(health_timeout, "health_timeout")
        self._states = dict.fromkeys(self._order, ComponentState.NOT_STARTED)
        self._lifecycles: dict[str, Lifecycle] = {}
        self._started: dict[str, Any] = {}
        self._errors: dict[str, str] = {}
        self._begun = False
        self._busy = asyncio.Lock()

    # -- start ------------------------------------------------------------------------------

    async def start(self) -> System:
        """Start every component in dependency order (see the class docstring); return
        the System. Raises ComponentError naming the first component that failed, after
        stopping what had started; HazelkitError if the System was started before."""
        async with self._busy:
            if self._begun:
                raise HazelkitError("this System was started before: build a new one")
            self._begun = True
            try:
                failures = await walk(
                    self._order, self._graph, self._start_one, stop_at_failure=True
                )
            except BaseException:
                await self._roll_back_quietly()
                raise
            if failures:
                await self._roll_back(list(failures.values()))
        return self

    async def _start_one(self, name: str) -> None:
        spec = self._specs[name]
        self._states[name] = ComponentState.STARTING
        timeout = _or(spec.start_timeout, self._start_timeout)
        try:
            dependencies = self._inject(name, spec)
            make = spec.lifecycle or default_lifecycle
            if spec.singleton:
                from hazelkit.components._singleton import singleton_lifecycle

                make = singleton_lifecycle(name if spec.singleton is True else spec.singleton)
            lifecycle = make(spec.value, dependencies)
            started = await _within(timeout, lifecycle.start)
        except _Expired as expired:
            raise self._failed(name, f"did not start within {timeout:g} s") from expired.__cause__
        except Exception as error:
            raise self._failed(name, f"failed to start: {describe(error)}") from error
        self._lifecycles[name], self._started[name] = lifecycle, started
        self._states[name] = ComponentState.RUNNING
        logger.debug("component %r started", name)

    def _inject(self, name: str, spec: Component) -> dict[str, Any]:
        dependencies = {a: self._started[target] for a, target in spec.dependencies.items()}
        for attribute, value in dependencies.items():
            try:
                setattr(spec.value, attribute, value)
            except (AttributeError, TypeError) as error:
                raise ConfigurationError(
                    f"cannot set the dependency {attribute!r} on component {name!r}"
                    f" ({type(spec.value).__name__} does not allow it: {error})"
                ) from error
        return dependencies

    async def _roll_back(self, failures: list[Exception]) -> None:
        first, *others = failures
        for other in others:
            first.add_note(f"also failed to start: {other}")
        for error in await self._stop_running():
            first.add_note(f"while rolling back: {error}")
        raise first

    async def _roll_back_quietly(self) -> None:
        for error in await self._stop_running():
            logger.error("while rolling back a cancelled start: %s", error, exc_info=error)

    # -- stop -------------------------------------------------------------------------------

    async def stop(self) -> None:
        """Stop every running component, each after the components that depend on it.

        Every running component is stopped even when others fail to; then
        ComponentStopError lists the failures. Does nothing for components that are
        not running, so calling it twice is harmless.
        """
        async with self._busy:
            errors = await self._stop_running()
        if errors:
            names = ", ".join(repr(error.component) for error in errors)
            raise ComponentStopError(f"components failed to stop: {names}", errors)

    async def _stop_running(self) -> list[ComponentError]:
        order = list(reversed(self._order))
        failures = await walk(order, self._dependents, self._stop_one, stop_at_failure=False)
        return [_as_component_error(name, error) for name, error in failures.items()]

    async def _stop_one(self, name: str) -> None:
        if self._states[name] is not ComponentState.RUNNING:
            return
        self._states[name] = ComponentState.STOPPING
        timeout = _or(self._specs[name].stop_timeout, self._stop_timeout)
        try:
            await _within(timeout, self._lifecycles[name].stop)
        except _Expired as expired:
            raise self._failed(name, f"did not stop within {timeout:g} s") from expired.__cause__
        except Exception as error:
            raise self._failed(name, f"failed to stop: {describe(error)}") from error
        self._states[name] = ComponentState.STOPPED
        logger.debug("component %r stopped", name)

    def _failed(self, name: str, what: str) -> ComponentError:
        self._states[name] = ComponentState.FAILED
        self._errors[name] = message = f"component {name!r} {what}"
        return ComponentError(message, component=name)

    # -- looking at it ----------------------------------------------------------------------

    def __getitem__(self, name: str) -> Any:
        """The started value of component ``name`` (what its dependents got). Raises
        KeyNotFoundError for an unknown name, ComponentError if it never started."""
        if name not in self._specs:
            raise KeyNotFoundError(name)
        if name not in self._started:
            state = self._states[name]
            raise ComponentError(f"component {name!r} is {state}, not started", component=name)
        return self._started[name]

    @property
    def names(self) -> list[str]:
        """The component names in dependency order (each after what it depends on)."""
        return list(self._order)

    @property
    def states(self) -> dict[str, ComponentState]:
        """Each component's state now, by name, in dependency order (a snapshot)."""
        return dict(self._states)

    async def health(self, timeout: float | None = None) -> SystemHealth:
        """Each component's state and, for a running one with a ``health()`` method, its
        verdict: checks run concurrently, each bounded by ``timeout`` seconds (default
        the System's ``health_timeout``); one that raises or times out reports
        unhealthy with the reason. A running Cluster is healthy while connected."""
        bound = self._health_timeout if timeout is None else _timeout(timeout, "timeout")

        async def one(name: str) -> ComponentHealth:
            state = self._states[name]
            if state is ComponentState.RUNNING:
                return await check_health(name, self._started[name], bound)
            return ComponentHealth(name, state, False, error=self._errors.get(name))

        results = await asyncio.gather(*(one(name) for name in self._order))
        return SystemHealth({result.name: result for result in results})

    async def __aenter__(self) -> System:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def __repr__(self) -> str:
        states = ", ".join(f"{name}: {state}" for name, state in self._states.items())
        return f"<System {{{states}}}>"


class _Expired(Exception):
    """The bound of :func:`_within` ran out (a TimeoutError from the step itself is not
    this); the TimeoutError is the ``__cause__``."""


async def _within(timeout: float, step: Callable[[], Awaitable[T]]) -> T:
    deadline = asyncio.timeout(timeout)
    try:
        async with deadline:
            return await step()
    except TimeoutError as error:
        if deadline.expired():
            raise _Expired from error
        raise


def _as_component_error(name: str, error: Exception) -> ComponentError:
    if isinstance(error, ComponentError):
        return error
    wrapped = ComponentError(f"component {name!r}: {describe(error)}", component=name)
    wrapped.__cause__ = error
    return wrapped


def _component(value: Any) -> Component:
    return value if isinstance(value, Component) else Component(value)


def _check_name(name: object) -> str:
    if not isinstance(name, str) or not name:
        raise ConfigurationError(f"a component name must be a non-empty str, not {name!r}")
    return name


def _timeout(value: float, what: str) -> float:
    seconds = check_seconds(value, what)
    assert seconds is not None
    return seconds


def _or(value: float | None, default: float) -> float:
    return default if value is None else value
