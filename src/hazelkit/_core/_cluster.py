"""The Cluster: one connection to one grid, and the owner of everything built on it."""

from __future__ import annotations

import asyncio
import enum
import logging
from asyncio import _get_running_loop
from collections.abc import Awaitable, Callable, Coroutine, Generator
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TypeVar

from hazelkit._agents._factories import AgentFactories
from hazelkit._backends import open_backend
from hazelkit._backends.protocol import (
    Backend,
    BackendListener,
    BackendState,
    MemberInfo,
    MembershipEventType,
    RawMembershipEvent,
)
from hazelkit._caching._factories import CachingFactories
from hazelkit._codec import Codec
from hazelkit._coordination._factories import CoordinationFactories
from hazelkit._core._clock import Clock
from hazelkit._core._exceptions import ClusterClosedError, HazelkitError, WrongEventLoopError
from hazelkit._core._fork import _generation as _forks
from hazelkit._core._fork import check_same_process, fork_generation
from hazelkit._core._loops import grid_calls_allowed
from hazelkit._core._subscription import EventHub, Subscription
from hazelkit._core._url import ClusterOptions, parse_url
from hazelkit._observe import _metrics
from hazelkit._runtime._factories import RuntimeFactories
from hazelkit._streams._factories import StreamFactories
from hazelkit._structures._factories import StructureFactories

logger = logging.getLogger("hazelkit")
T = TypeVar("T")

#: How long close() waits for background tasks to finish after cancelling them.
CLOSE_TIMEOUT = 5.0


class ClusterState(enum.Enum):
    """Where a :class:`Cluster` is in its life.

    ``STARTING`` → ``RUNNING`` ⇄ ``DISCONNECTED`` → ``CLOSING`` → ``CLOSED``.
    """

    STARTING = "starting"
    RUNNING = "running"
    DISCONNECTED = "disconnected"
    CLOSING = "closing"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class Member:
    """A member of the grid: a Hazelcast member, or a Cluster attached to an embedded grid."""

    uuid: str
    address: str
    #: True for the member this Cluster is (embedded grids only; a Hazelcast client is
    #: not a member).
    local: bool = False


@dataclass(frozen=True, slots=True)
class LifecycleEvent:
    """The Cluster moved from ``previous`` to ``state``."""

    state: ClusterState
    previous: ClusterState


@dataclass(frozen=True, slots=True)
class MembershipEvent:
    """A member joined or left the grid."""

    joined: bool
    member: Member

    @property
    def left(self) -> bool:
        """True when the member left (the opposite of :attr:`joined`)."""
        return not self.joined


def _member(info: MemberInfo) -> Member:
    return Member(info.uuid, info.address, info.local)


class Cluster(
    StructureFactories,
    CachingFactories,
    CoordinationFactories,
    StreamFactories,
    RuntimeFactories,
    AgentFactories,
):
    """A connection to a grid: the embedded one (``memory://``) or a Hazelcast cluster.

    Create it with :func:`hazelkit.connect` and use it as an async context manager, or
    ``await`` it and call :meth:`close` yourself::

        async with hazelkit.connect("hazelcast://127.0.0.1:5701?cluster=dev") as cluster:
            users = cluster.map("users")

    A Cluster belongs to the event loop that started it, in the process that started it:
    used from another event loop it raises :class:`~hazelkit.WrongEventLoopError`, and in
    a child process after ``fork()`` :class:`~hazelkit.ForkedClusterError` (connect in the
    child instead). Every background task that a structure, stream or lock starts is owned
    by the Cluster and ends when it closes.
    """

    def __init__(self, options: ClusterOptions, *, codec: Codec | None = None) -> None:
        self.options = options
        #: Encodes every key, value and message; shared by all structures of this Cluster.
        self.codec = codec if codec is not None else Codec()
        self._backend: Backend = open_backend(options)
        self._state = ClusterState.STARTING
        self._lifecycle: EventHub[LifecycleEvent] = EventHub()
        self._membership: EventHub[MembershipEvent] = EventHub()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closers: list[Callable[[], Awaitable[None]]] = []
        #: While close steps run, the backend stays usable: they hand leases off.
        self._in_close_steps = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._started = False
        self._closed_because = "closed"
        self._lost: asyncio.Task[None] | None = None
        self._fork_generation = fork_generation()

    # -- life ---------------------------------------------------------------------------

    async def start(self) -> Cluster:
        """Connect. Raises ClusterUnavailableError within the connect timeout if the grid
        cannot be reached. Starting twice is an error (HazelkitError); a closed Cluster
        cannot restart (ClusterClosedError): connect a new one."""
        self._check_not_closed()
        if self._started:
            raise HazelkitError(f"Cluster for {self.url} was already started")
        self._started = True
        self._loop = asyncio.get_running_loop()
        self._fork_generation = fork_generation()
        _metrics.refresh()  # an SDK installed since the last connect starts recording now
        listener = BackendListener(self._on_backend_state, self._on_membership)
        try:
            await self._backend.start(listener)
        except BaseException:
            self._set_state(ClusterState.CLOSED)
            self._end_streams()
            raise
        if self._state is ClusterState.STARTING:
            self._set_state(ClusterState.RUNNING)
        logger.debug("connected to %s", self.url)
        return self

    async def close(self) -> None:
        """Disconnect and end every background task, subscription and listener this
        Cluster started. Idempotent; waits at most a few seconds for tasks to finish.
        First its close steps run, still connected: a node hands off the workflows,
        agents and singletons it runs (a graceful leave), so others take them at once.

        In a child process after ``fork()`` it only marks this copy closed: the
        connection belongs to the parent. From another event loop it raises
        WrongEventLoopError (the connection cannot be closed from there)."""
        if self._state in (ClusterState.CLOSING, ClusterState.CLOSED):
            return
        if self._fork_generation != fork_generation():
            self._closed_because = "closed (in a child process, after fork())"
            self._state = ClusterState.CLOSED
            return
        self._check_loop()
        self._set_state(ClusterState.CLOSING)
        try:
            self._in_close_steps = True
            for closer in reversed(self._closers):
                try:
                    await closer()
                except Exception:
                    logger.warning("error while closing %s", self.url, exc_info=True)
            self._closers.clear()
            self._in_close_steps = False
            await self._cancel_tasks()
            await self._backend.close()
        finally:
            self._in_close_steps = False
            self._set_state(ClusterState.CLOSED)
            self._end_streams()

    async def _abort(self) -> None:
        """End this Cluster as a crash would: no close steps run (leases are not given
        back, nothing is handed off), its tasks are cancelled and its backend dropped."""
        if self._state in (ClusterState.CLOSING, ClusterState.CLOSED):
            return
        self._set_state(ClusterState.CLOSING)
        self._closed_because = "crashed (hazelkit.testing.crash)"
        try:
            self._closers.clear()
            await self._cancel_tasks()
            await self._backend.close()
        finally:
            self._set_state(ClusterState.CLOSED)
            self._end_streams()

    def __await__(self) -> Generator[Any, None, Cluster]:
        return self.start().__await__()

    async def __aenter__(self) -> Cluster:
        if not self._started:
            await self.start()
        else:
            self._check_open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def state(self) -> ClusterState:
        """The current :class:`ClusterState`."""
        return self._state

    @property
    def clock(self) -> Clock:
        """Where this Cluster reads the time: the system clock unless ``connect`` was
        given ``clock=`` (a :class:`hazelkit.testing.ManualClock` in tests)."""
        return self.options.clock

    @property
    def url(self) -> str:
        """The URL this Cluster is connected to (without credentials)."""
        return self.options.url

    @property
    def closed(self) -> bool:
        """True once :meth:`close` has begun."""
        return self._state in (ClusterState.CLOSING, ClusterState.CLOSED)

    def _check_open(self) -> None:
        # Every grid call passes here. The common case (running, this process, this
        # loop) is one test: 0.23 us instead of 0.58 us through the checks below.
        running = _get_running_loop()
        if (
            self._state is ClusterState.RUNNING
            and (running is self._loop or running is None)
            and self._fork_generation == _forks[0]
        ):
            return
        if self._fork_generation != fork_generation():  # the message only when it fails
            check_same_process(self._fork_generation, f"the Cluster for {self.url}")
        self._check_loop()
        if self._state is ClusterState.STARTING:
            raise ClusterClosedError(f"Cluster for {self.url} is not started: await it first")
        self._check_not_closed()

    def _check_not_closed(self) -> None:
        if self._state is ClusterState.CLOSING and self._in_close_steps:
            return  # close steps (graceful handoffs) still read and write the grid
        if self._state in (ClusterState.CLOSING, ClusterState.CLOSED):
            raise ClusterClosedError(
                f"Cluster for {self.url} is {self._closed_because}: connect a new one"
            )

    def _check_loop(self) -> None:
        """Raise WrongEventLoopError when called on a running loop that is not this
        Cluster's (a call from plain code, with no loop running, is not checked here;
        nor is a blocking facade's direct call, on a loop of :mod:`._loops`)."""
        if self._loop is None:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            return
        if running is not self._loop and not grid_calls_allowed(running):
            raise WrongEventLoopError(
                f"the Cluster for {self.url} was started on another event loop and can be "
                "used only there (each asyncio.run() starts a new loop): connect on the loop "
                "that uses it, or hand the work to its loop with "
                "asyncio.run_coroutine_threadsafe()"
            )

    # -- membership and lifecycle ---------------------------------------------------------

    def members(self) -> list[Member]:
        """The grid's members as this Cluster currently sees them."""
        return [_member(info) for info in self._backend.members()]

    def lifecycle_events(self, capacity: int = 256) -> Subscription[LifecycleEvent]:
        """A stream of state changes of this Cluster, from now until it closes.

        The buffer keeps the newest ``capacity`` events if the reader falls behind.
        """
        return self._lifecycle.subscribe(capacity)

    def membership_events(self, capacity: int = 256) -> Subscription[MembershipEvent]:
        """A stream of members joining and leaving, from now until the Cluster closes.

        Events are notifications: around a network failure one may be late or lost, so
        call :meth:`members` for the current truth.
        """
        return self._membership.subscribe(capacity)

    def _set_state(self, state: ClusterState) -> None:
        previous, self._state = self._state, state
        if previous is not state:
            self._lifecycle.publish(LifecycleEvent(state, previous))

    def _on_backend_state(self, state: BackendState) -> None:
        if self._state in (ClusterState.STARTING, ClusterState.CLOSING, ClusterState.CLOSED):
            return
        if state is BackendState.LOST:
            # The backend gave up reconnecting: end everything built on it, as close() does.
            self._closed_because = "gave up reconnecting (the reconnect option)"
            loop = self._loop or asyncio.get_running_loop()
            self._lost = loop.create_task(self.close(), name=f"hazelkit: close lost {self.url}")
        elif state is BackendState.CONNECTED:
            self._set_state(ClusterState.RUNNING)
        else:
            self._set_state(ClusterState.DISCONNECTED)

    def _on_membership(self, event: RawMembershipEvent) -> None:
        joined = event.type is MembershipEventType.JOINED
        self._membership.publish(MembershipEvent(joined, _member(event.member)))

    def _end_streams(self) -> None:
        self._lifecycle.close()
        self._membership.close()

    # -- ownership of background work (reached through hazelkit._core._lowlevel) ---------

    def _spawn(self, coroutine: Coroutine[Any, Any, T], *, name: str) -> asyncio.Task[T]:
        try:
            self._check_open()
        except ClusterClosedError:
            coroutine.close()
            raise
        task = asyncio.get_running_loop().create_task(coroutine, name=f"hazelkit: {name}")
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("background task %r failed", task.get_name(), exc_info=task.exception())

    def _on_close(self, closer: Callable[[], Awaitable[None]]) -> None:
        self._closers.append(closer)

    async def _cancel_tasks(self) -> None:
        tasks = [t for t in self._tasks if not t.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=CLOSE_TIMEOUT)
            for task in pending:
                logger.error(
                    "background task %r did not stop within %s s", task.get_name(), CLOSE_TIMEOUT
                )

    def __repr__(self) -> str:
        return f"<Cluster {self.url} {self._state.value}>"


def connect(url: str | None = None, *, codec: Codec | None = None, **options: Any) -> Cluster:
    """A Cluster for ``url``, to be entered with ``async with`` or awaited.

    ``url`` is ``memory://NAME`` (the embedded grid, the default when neither ``url`` nor
    ``$HAZELKIT_URL`` is given) or ``hazelcast://HOST:PORT[,HOST:PORT]?cluster=NAME``.
    Options (``connect_timeout``, ``operation_timeout``, ``cluster_name``, ``username``,
    ``password``, ``tls``, ``smart_routing``, ``client_options``) override the URL;
    ``clock`` sets where hazelkit reads the time (tests: ``hazelkit.testing.ManualClock``).

    Raises ConfigurationError at once for a malformed URL or option; connecting raises
    ClusterUnavailableError if the grid cannot be reached within ``connect_timeout``.
    """
    return Cluster(parse_url(url, **options), codec=codec)
