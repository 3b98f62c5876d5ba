"""Fault injection: a backend wrapper that delays, fails, drops or hangs chosen calls.

``inject_faults(cluster)`` puts a :class:`Faults` between a Cluster and its backend. Each
rule applies to the next ``times`` calls of one primitive (``"map.replace_if_same"``,
``"ringbuffer.add"``, ...), optionally of one structure name, and then retires. Every
call is counted, so a test can assert how many grid calls something made.

What each fault means, in the terms of :mod:`hazelkit`'s error contract:

- ``fail``: the request never reached the grid; nothing was applied (default error:
  ClusterUnavailableError, which callers may retry).
- ``drop``: the request was applied but its reply was lost; the caller gets
  IndeterminateOperationError (it must read back before retrying).
- ``delay``: the call is applied after a pause (a slow member).
- ``hang``: the call never answers until :meth:`Faults.release` or cancellation (an
  unresponsive member); the caller's own timeout must end it.
- ``lose_events``: listener callbacks of a structure kind are not called (events lost
  around a member failure, as Hazelcast may lose them).
"""

from __future__ import annotations

import asyncio
import inspect
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hazelkit._backends import protocol
from hazelkit._core._exceptions import (
    ClusterUnavailableError,
    ConfigurationError,
    HazelkitError,
    IndeterminateOperationError,
)

if TYPE_CHECKING:
    from hazelkit._core._cluster import Cluster

__all__ = ["Faults", "inject_faults"]

_STORES: dict[str, type[Any]] = {
    "map": protocol.MapStore,
    "multimap": protocol.MultiMapStore,
    "queue": protocol.QueueStore,
    "set": protocol.SetStore,
    "list": protocol.ListStore,
    "ringbuffer": protocol.RingbufferStore,
    "topic": protocol.TopicStore,
    "id_generator": protocol.IdGeneratorStore,
}


@dataclass
class _Rule:
    action: str  # fail, drop, delay, hang, lose
    operation: str
    name: str | None
    remaining: int
    error: HazelkitError | None = None
    seconds: float = 0.0

    def matches(self, operation: str, name: str) -> bool:
        return self.operation == operation and self.name in (None, name)


class Faults:
    """The fault plan of one Cluster (see the module). Rules are matched in the order
    they were added; each call uses the first rule that matches it."""

    def __init__(self) -> None:
        self._rules: list[_Rule] = []
        self._calls: Counter[tuple[str, str]] = Counter()
        self._released = asyncio.Event()

    # -- the plan -----------------------------------------------------------------------

    def fail(
        self,
        operation: str,
        *,
        times: int = 1,
        name: str | None = None,
        error: HazelkitError | None = None,
    ) -> None:
        """The next ``times`` calls raise ``error`` (default ClusterUnavailableError)
        without reaching the grid: nothing is applied."""
        self._add(_Rule("fail", _check(operation), name, _count(times), error=error))

    def drop(self, operation: str, *, times: int = 1, name: str | None = None) -> None:
        """The next ``times`` calls are applied, then raise IndeterminateOperationError
        (the reply was lost)."""
        self._add(_Rule("drop", _check(operation), name, _count(times)))

    def delay(
        self, operation: str, seconds: float, *, times: int = 1, name: str | None = None
    ) -> None:
        """The next ``times`` calls wait ``seconds`` before they are applied."""
        if not isinstance(seconds, int | float) or seconds < 0:
            raise ConfigurationError(f"a delay is a number of seconds >= 0, not {seconds!r}")
        self._add(_Rule("delay", _check(operation), name, _count(times), seconds=seconds))

    def hang(self, operation: str, *, times: int = 1, name: str | None = None) -> None:
        """The next ``times`` calls wait, unapplied, until :meth:`release` or until
        they are cancelled."""
        self._add(_Rule("hang", _check(operation), name, _count(times)))

    def lose_events(self, kind: str, *, times: int = 1, name: str | None = None) -> None:
        """The next ``times`` events to listeners of ``kind`` (``"map"``, ``"queue"``,
        ...; optionally of structure ``name``) are not delivered."""
        if kind not in _STORES:
            raise ConfigurationError(f"unknown structure kind {kind!r}; known: {sorted(_STORES)}")
        self._add(_Rule("lose", f"{kind}.events", name, _count(times)))

    def release(self) -> None:
        """Let every hung call go on (it is then applied) and hang nothing more."""
        self._rules = [rule for rule in self._rules if rule.action != "hang"]
        self._released.set()

    def clear(self) -> None:
        """Remove every rule that has not run out (counts are kept)."""
        self._rules.clear()
        self._released.set()

    def calls(self, operation: str, *, name: str | None = None) -> int:
        """How many calls of ``operation`` (on structure ``name``, or any) were made."""
        _check(operation)
        return sum(
            n for (op, nm), n in self._calls.items() if op == operation and name in (None, nm)
        )

    # -- what the wrapped stores ask ----------------------------------------------------

    def _add(self, rule: _Rule) -> None:
        if rule.action == "hang":
            self._released.clear()
        self._rules.append(rule)

    def _take(self, operation: str, name: str) -> _Rule | None:
        for rule in self._rules:
            if rule.matches(operation, name):
                rule.remaining -= 1
                if rule.remaining <= 0:
                    self._rules.remove(rule)
                return rule
        return None

    async def _call(self, operation: str, name: str, method: Callable[..., Any], *args: Any,
                    **kwargs: Any) -> Any:  # fmt: skip
        self._calls[(operation, name)] += 1
        rule = self._take(operation, name)
        if rule is None:
            return await method(*args, **kwargs)
        what = f"{operation} on {name!r}"
        if rule.action == "fail":
            raise rule.error or ClusterUnavailableError(f"{what}: injected failure, not applied")
        if rule.action == "delay":
            await asyncio.sleep(rule.seconds)
        elif rule.action == "hang":
            await self._released.wait()
        result = await method(*args, **kwargs)
        if rule.action == "drop":
            raise IndeterminateOperationError(
                f"{what}: injected lost reply; it was applied", operation=what
            )
        return result

    def _deliver(
        self, kind: str, name: str, callback: Callable[[Any], None]
    ) -> Callable[[Any], None]:
        def deliver(event: Any) -> None:
            if self._take(f"{kind}.events", name) is None:
                callback(event)

        return deliver


def _count(times: int) -> int:
    if isinstance(times, bool) or not isinstance(times, int) or times < 1:
        raise ConfigurationError(f"times must be a positive int, not {times!r}")
    return times


def _check(operation: str) -> str:
    kind, _, method = operation.partition(".")
    store = _STORES.get(kind)
    if (
        store is None
        or method.startswith("_")
        or not inspect.isfunction(getattr(store, method, None))
    ):
        raise ConfigurationError(
            f"unknown operation {operation!r}: use KIND.METHOD, KIND one of {sorted(_STORES)}"
            " and METHOD a method of its store (e.g. 'map.replace_if_same')"
        )
    return operation


class _FaultyStore:
    """A store whose coroutine methods go through the fault plan."""

    def __init__(self, inner: Any, kind: str, faults: Faults) -> None:
        self._inner = inner
        self._kind = kind
        self._faults = faults
        self.name: str = inner.name

    def __getattr__(self, attribute: str) -> Any:
        value = getattr(self._inner, attribute)
        if attribute.startswith("_") or not inspect.iscoroutinefunction(value):
            return value
        operation = f"{self._kind}.{attribute}"
        faults, name = self._faults, self.name

        async def call(*args: Any, **kwargs: Any) -> Any:
            if attribute == "listen":
                args = (faults._deliver(self._kind, name, args[0]), *args[1:])
            return await faults._call(operation, name, value, *args, **kwargs)

        return call


class _FaultyBackend:
    """A backend whose stores go through the fault plan; everything else passes."""

    def __init__(self, inner: Any, faults: Faults) -> None:
        self._inner = inner
        self.faults = faults

    def __getattr__(self, attribute: str) -> Any:
        value = getattr(self._inner, attribute)
        if attribute not in _STORES:
            return value

        def store(*args: Any, **kwargs: Any) -> _FaultyStore:
            return _FaultyStore(value(*args, **kwargs), attribute, self.faults)

        return store


def inject_faults(cluster: Cluster) -> Faults:
    """Put a fault plan between ``cluster`` and its backend, and return it.

    Call it before the handles under test first touch the grid (a handle keeps the
    store it first resolved). Calling it again returns the same plan. Works on both
    backends: the faults are injected in this process, in front of the real calls.
    """
    backend = cluster._backend
    if isinstance(backend, _FaultyBackend):
        return backend.faults
    faults = Faults()
    cluster._backend = _FaultyBackend(backend, faults)
    return faults
