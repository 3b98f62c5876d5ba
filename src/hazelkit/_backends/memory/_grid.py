"""The embedded grid: shared state of every Cluster connected to one ``memory://NAME``.

A grid lives in one process and may be used from several threads and event loops at once
(an async app and the blocking facade's helper thread, say). All state is guarded by one
re-entrant lock held only for short, non-awaiting critical sections. Waiters and listeners
remember the event loop they belong to and are woken with ``call_soon_threadsafe``.

A grid exists while at least one Cluster is attached to it; when the last one detaches, its
data is gone, as a Hazelcast cluster's data is gone when its last member stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import itertools
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from hazelkit._backends.protocol import (
    BackendListener,
    BackendState,
    MemberInfo,
    MembershipEventType,
    RawMembershipEvent,
)
from hazelkit._core._clock import SYSTEM_CLOCK, Clock
from hazelkit._core._exceptions import ConfigurationError

E = TypeVar("E")

_grids: dict[str, Grid] = {}
_grids_lock = threading.Lock()


def attach(
    name: str, listener: BackendListener, clock: Clock = SYSTEM_CLOCK
) -> tuple[Grid, MemberInfo]:
    """Join the grid called ``name`` (creating it, on ``clock``, if needed) as a new
    member. Raises ConfigurationError if the grid runs on another clock."""
    with _grids_lock:
        grid = _grids.get(name)
        if grid is None:
            grid = _grids[name] = Grid(name, clock)
        elif grid.clock is not clock:
            raise ConfigurationError(
                f"embedded grid memory://{name} runs on {grid.clock!r}, not {clock!r}: "
                "every Cluster of one grid must be given the same clock"
            )
        member = grid.join(listener)
    return grid, member


def detach(grid: Grid, member: MemberInfo) -> None:
    """Leave the grid; the last member to leave drops the grid and its data."""
    with _grids_lock:
        if grid.leave(member) == 0 and _grids.get(grid.name) is grid:
            del _grids[grid.name]
            grid.stop_following_clock()


def _deliver(loop: asyncio.AbstractEventLoop, callback: Callable[..., object], arg: Any) -> bool:
    """Schedule ``callback(arg)`` on ``loop``; False if that loop is gone."""
    try:
        loop.call_soon_threadsafe(callback, arg)
    except RuntimeError:  # the loop is closed
        return False
    return True


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class Signal:
    """Wakes every task waiting for a change of one structure, on any event loop.

    Use under the grid lock: check the condition, and if it does not hold, take a
    :meth:`waiter` before releasing the lock, so no change between the check and the
    wait can be missed.
    """

    __slots__ = ("_waiters",)

    def __init__(self) -> None:
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []

    def waiter(self) -> asyncio.Future[None]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._waiters.append((loop, future))
        return future

    def notify_all(self) -> None:
        waiters, self._waiters = self._waiters, []
        for loop, future in waiters:
            _deliver(loop, _wake, future)


@dataclass(eq=False)
class Registration(Generic[E]):
    """A listener of one structure; ``close()`` removes it."""

    listeners: Listeners[E]
    loop: asyncio.AbstractEventLoop
    callback: Callable[[E], None]
    key: bytes | None = None
    include_values: bool = True

    async def close(self) -> None:
        self.listeners.remove(self)


@dataclass(eq=False)
class Listeners(Generic[E]):
    """The listeners of one structure, each called on its own event loop, in event order."""

    lock: threading.RLock
    _registrations: list[Registration[E]] = field(default_factory=list)

    def add(
        self,
        callback: Callable[[E], None],
        *,
        key: bytes | None = None,
        include_values: bool = True,
    ) -> Registration[E]:
        registration = Registration(self, asyncio.get_running_loop(), callback, key, include_values)
        with self.lock:
            self._registrations.append(registration)
        return registration

    def remove(self, registration: Registration[E]) -> None:
        with self.lock:
            if registration in self._registrations:
                self._registrations.remove(registration)

    def fire(self, make_event: Callable[[bool], E], key: bytes | None = None) -> None:
        """Deliver an event to every matching listener (call with the grid lock held).

        ``make_event(include_values)`` builds the event once per variant.
        """
        if not self._registrations:
            return
        events: dict[bool, E] = {}
        for registration in list(self._registrations):
            if registration.key is not None and registration.key != key:
                continue
            include = registration.include_values
            event = events.get(include)
            if event is None:
                event = events[include] = make_event(include)
            if not _deliver(registration.loop, registration.callback, event):
                self._registrations.remove(registration)


class Grid:
    """All structures of one embedded grid, keyed by kind and name."""

    def __init__(self, name: str, clock: Clock = SYSTEM_CLOCK) -> None:
        self.name = name
        #: Measures TTLs, idle times and ringbuffer ages (a test's ManualClock, say).
        self.clock = clock
        on_advance = getattr(clock, "on_advance", None)
        self._unfollow: Callable[[], None] | None = (
            on_advance(self.expire_due) if on_advance is not None else None
        )
        self.lock = threading.RLock()
        self._structures: dict[tuple[str, str], Any] = {}
        self._members: dict[str, tuple[MemberInfo, BackendListener, asyncio.AbstractEventLoop]] = {}
        self._ids = itertools.count(1)

    # -- membership -------------------------------------------------------------------

    def join(self, listener: BackendListener) -> MemberInfo:
        loop = asyncio.get_running_loop()
        with self.lock:
            member = MemberInfo(
                uuid=str(uuid.uuid4()), address=f"memory://{self.name}#{next(self._ids)}"
            )
            for _, other, other_loop in self._members.values():
                event = RawMembershipEvent(MembershipEventType.JOINED, member)
                _deliver(other_loop, other.on_membership, event)
            self._members[member.uuid] = (member, listener, loop)
            listener.on_state(BackendState.CONNECTED)
        return member

    def leave(self, member: MemberInfo) -> int:
        with self.lock:
            self._members.pop(member.uuid, None)
            for _, other, other_loop in self._members.values():
                event = RawMembershipEvent(MembershipEventType.LEFT, member)
                _deliver(other_loop, other.on_membership, event)
            return len(self._members)

    def members(self, local: MemberInfo) -> list[MemberInfo]:
        with self.lock:
            return [
                MemberInfo(m.uuid, m.address, local=m.uuid == local.uuid)
                for m, _, _ in self._members.values()
            ]

    # -- structures -------------------------------------------------------------------

    def structure(self, kind: str, name: str, factory: Callable[[], E]) -> E:
        """The state of structure ``name`` of ``kind``, created on first use."""
        with self.lock:
            state = self._structures.get((kind, name))
            if state is None:
                state = self._structures[(kind, name)] = factory()
            result: E = state
            return result

    def names(self) -> list[tuple[str, str]]:
        """``(kind, name)`` of every structure, sorted."""
        with self.lock:
            return sorted(self._structures)

    def destroy(self, kind: str, name: str) -> None:
        with self.lock:
            state = self._structures.pop((kind, name), None)
            changed = getattr(state, "changed", None)
            if isinstance(changed, Signal):
                changed.notify_all()  # waiters re-check, against the structure's new state

    def sweep(self, member: MemberInfo) -> None:
        """Expire due map entries everywhere, firing their EXPIRED events.

        Every member runs a sweeper, but only the oldest member's sweeps: one sweep per
        grid, handed over when that member leaves.
        """
        with self.lock:
            if next(iter(self._members), None) == member.uuid:
                self.expire_due()

    def expire_due(self) -> None:
        """Expire what is due now by the grid's clock (also called as a ManualClock
        advances, so a test sees expiry without waiting for the sweeper)."""
        now = self.clock.monotonic()
        with self.lock:
            for state in list(self._structures.values()):
                expire = getattr(state, "expire_due", None)
                if expire is not None:
                    expire(now)

    def stop_following_clock(self) -> None:
        if self._unfollow is not None:
            self._unfollow()
            self._unfollow = None


class _NotYet:
    """The sentinel an attempt returns while its condition does not hold."""


NOT_YET = _NotYet()
T = TypeVar("T")


async def wait_until(
    lock: threading.RLock, signal: Signal, attempt: Callable[[], T | _NotYet], timeout: float
) -> T | _NotYet:
    """Call ``attempt`` under ``lock`` until it returns a result or ``timeout`` runs out.

    ``attempt`` is retried each time ``signal`` fires; the last try happens at the
    deadline, so a change that lands just before it is not missed.
    """
    deadline = time.monotonic() + max(timeout, 0.0)
    while True:
        with lock:
            result = attempt()
            remaining = deadline - time.monotonic()
            if not isinstance(result, _NotYet) or remaining <= 0:
                return result
            waiter = signal.waiter()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(waiter, remaining)


#: Embedded operations complete without waiting, so a loop of them would never let other
#: tasks run (lease renewers, readers); every this many operations, one yields.
YIELD_EVERY = 16
_operations = threading.local()
C = TypeVar("C", bound=type)


def cooperative(cls: C) -> C:
    """Make every public coroutine method of ``cls`` yield to the event loop now and then,
    as a network round trip would."""
    for attribute, function in list(vars(cls).items()):
        if not attribute.startswith("_") and inspect.iscoroutinefunction(function):
            setattr(cls, attribute, _yielding(function))
    return cls


def _yielding(function: Callable[..., Any]) -> Callable[..., Any]:
    async def operation(*args: Any, **kwargs: Any) -> Any:
        result = await function(*args, **kwargs)
        count = getattr(_operations, "count", 0) + 1
        if count >= YIELD_EVERY:
            count = 0
            await asyncio.sleep(0)
        _operations.count = count
        return result

    functools.update_wrapper(operation, function)
    return operation
