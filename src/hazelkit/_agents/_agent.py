"""Agent: Clojure's agent, shared by every node, applied by one node at a time.

``cluster.agent(name, initial=...)`` is a cheap handle; the agent itself is an entity of
the runtime (``hazelkit.agents`` map, one inbox per partition), created by its first send
with the ``initial`` value and options of that handle (a later handle's options do not
change an agent that exists). Nodes that run agents call ``cluster.agents.host()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import AsyncIterator, Callable, Hashable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, Literal, Self, TypeVar

from hazelkit._agents._actions import action_name
from hazelkit._agents._behavior import AGENT_TYPE, AgentBehavior, current_effects
from hazelkit._core import _lowlevel as lowlevel
from hazelkit._core._exceptions import ArgumentError, ConfigurationError, OperationTimeoutError
from hazelkit._core._handle import check_name
from hazelkit._core._local import ClusterLocal
from hazelkit._runtime._client import EntityClient
from hazelkit._runtime._entities import host_entities
from hazelkit._runtime._host import HostedSpace, host_of
from hazelkit._runtime._record import EntityRecord, Status
from hazelkit._runtime._space import SpaceShape

if TYPE_CHECKING:
    from hazelkit._core._cluster import Cluster

__all__ = ["Agent", "AgentHosting", "Agents"]

logger = logging.getLogger("hazelkit")

T = TypeVar("T")
RECORDS_MAP = "hazelkit.agents"
ErrorMode = Literal["fail", "continue"]
Watch = Callable[[Any, Any], object]
_Changes = asyncio.Queue[tuple[bytes | None, bytes | None]]


def _client(cluster: Cluster) -> EntityClient:
    return EntityClient(cluster, "agent", RECORDS_MAP)


_clients: ClusterLocal[EntityClient] = ClusterLocal(_client, with_cluster=True)


class AgentHosting:
    """This Cluster running agents, as a node (``async with cluster.agents.host():``)."""

    def __init__(self, cluster: Cluster, lease: float, shape: SpaceShape | None) -> None:
        self._cluster = cluster
        self._lease = lease
        self._shape = shape
        self._hosted: HostedSpace | None = None

    async def start(self) -> Self:
        """Begin applying agents' actions here (ConfigurationError on a shape mismatch)."""
        if self._hosted is None:
            client = _clients.get(self._cluster)
            self._hosted = await host_entities(
                self._cluster, AgentBehavior(), client, lease=self._lease, shape=self._shape
            )
        return self

    async def stop(self) -> None:
        """Hand every partition off gracefully and stop (idempotent)."""
        hosted, self._hosted = self._hosted, None
        if hosted is not None and not self._cluster.closed:
            await host_of.get(self._cluster).remove(hosted)

    def partitions(self) -> list[int]:
        """The partitions of agents this node applies now."""
        return [] if self._hosted is None else self._hosted.held()

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


class Agents:
    """The agents of a Cluster (``cluster.agents``): hosting them."""

    def __init__(self, cluster: Cluster) -> None:
        self._cluster = cluster

    def host(
        self,
        *,
        lease: float = 5.0,
        partitions: int | None = None,
        inbox_capacity: int | None = None,
    ) -> AgentHosting:
        """Make this Cluster a node applying agents' actions (any number of nodes share
        them; each must register every action). Failover within about ``lease + 2`` s."""
        shape = None
        if partitions is not None or inbox_capacity is not None:
            shape = SpaceShape(partitions or 16, inbox_capacity or 10_000)
        return AgentHosting(self._cluster, lease, shape)


class Agent(Generic[T]):
    """A cluster-wide agent (``cluster.agent(name, initial=...)``), as in Clojure.

    Guarantees: actions of one agent run one at a time, on its owner node, in the order
    they were stored; ``send`` returns once the action is stored, and it is applied
    exactly once through owner crashes and failover (the runtime's effectively-once
    guarantee). ``deref`` reads the last committed value from any node. Actions, the
    error handler and the validator are referenced by name (see ``hazelkit.action``).
    """

    def __init__(
        self,
        cluster: Cluster,
        name: str,
        *,
        initial: T | None = None,
        error_mode: ErrorMode = "fail",
        error_handler: Callable[..., Any] | str | None = None,
        validator: Callable[[Any], object] | str | None = None,
    ) -> None:
        if error_mode not in ("fail", "continue"):
            raise ConfigurationError(f"error_mode must be 'fail' or 'continue', not {error_mode!r}")
        if error_handler is not None and error_mode != "continue":
            raise ConfigurationError("an error_handler needs error_mode='continue'")
        self._cluster = cluster
        self.name = check_name(name, "agent")
        self.initial = initial
        self._options = {
            "error_mode": error_mode,
            "error_handler": None if error_handler is None else action_name(error_handler),
            "validator": None if validator is None else action_name(validator),
        }
        self._created = False
        self._sent = -1
        self._watches: dict[Hashable, Watch] = {}
        self._watcher: asyncio.Task[None] | None = None

    @property
    def _client(self) -> EntityClient:
        return _clients.get(self._cluster)

    async def _ensure(self) -> None:
        if not self._created:
            args = {"initial": self.initial, "options": self._options}
            await self._client.create(AGENT_TYPE, self.name, args)
            self._created = True

    async def send(self, action: Callable[..., Any] | str, *args: Any) -> None:
        """Queue ``action(value, *args)`` (a registered action, by function or name);
        returns once it is durably stored. Inside an action of another agent, the send
        is held until that action commits, and delivered once."""
        message: dict[str, Any] = {"action": action_name(action), "args": list(args)}
        effects = current_effects.get()
        if effects is not None:  # held until the running action commits; may create it
            message["create"] = {"initial": self.initial, "options": self._options}
            effects.send(self.name, message, None)
            return
        await self._ensure()
        sequence = await self._client.send(self.name, message, key=None, timeout=30.0)
        self._sent = max(self._sent, sequence)

    async def deref(self) -> T:
        """The value as last committed (``initial`` before the agent exists)."""
        value: T = self._value(await self._client.read(self.name))
        return value

    def _value(self, record: EntityRecord | None) -> Any:
        if record is None or not isinstance(record.state, dict):
            return self.initial
        return record.state["v"]

    async def await_(self, timeout: float = 30.0) -> None:
        """Wait until every action this handle sent before the call was applied (or
        held by a failed agent). OperationTimeoutError after ``timeout`` seconds."""
        target = self._sent
        if target < 0:
            return
        async with _deadline(timeout, f"agent {self.name!r} did not catch up"):
            while True:
                record = await self._client.read(self.name)
                if record is not None and record.applied >= target:
                    return
                await asyncio.sleep(0.02)

    async def error(self) -> str | None:
        """Why the agent stopped (error_mode "fail"), or None while it runs; in
        "continue" mode, None (see :meth:`last_error`)."""
        record = await self._client.read(self.name)
        if record is None or record.status is not Status.PAUSED:
            return None
        return record.error

    async def last_error(self) -> str | None:
        """The last error of an action, whether the agent stopped on it or went on."""
        record = await self._client.read(self.name)
        return None if record is None else record.error

    async def restart(self, new_state: T, *, clear_actions: bool = False) -> None:
        """Restart a failed agent with ``new_state``: the failed action is dropped, and
        the actions queued after it run (or are dropped too, with ``clear_actions``).
        Returns once the restart is stored; it is applied in order with the actions."""
        payload = {"state": new_state, "clear": clear_actions}
        await self._client.send(self.name, payload, key=None, timeout=30.0, kind="restart")

    async def add_watch(self, key: Hashable, fn: Watch) -> None:
        """Call ``fn(old, new)`` on this node after each change of the value (from any
        node), in order, on this Cluster's loop; notifications only (one may be lost
        when a member fails)."""
        if not callable(fn):
            raise ArgumentError(f"a watch must be callable, not {fn!r}")
        self._watches[key] = fn
        if self._watcher is None or self._watcher.done():
            await self._start_watching()

    async def remove_watch(self, key: Hashable) -> None:
        """Remove the watch added under ``key`` (nothing happens if there is none)."""
        self._watches.pop(key, None)
        if not self._watches and self._watcher is not None:
            self._watcher.cancel()
            self._watcher = None

    async def _start_watching(self) -> None:
        queue: _Changes = asyncio.Queue()
        store = lowlevel.backend(self._cluster).map(RECORDS_MAP)
        key = self._cluster.codec.encode_key(self.name)
        registration = await store.listen(
            lambda event: queue.put_nowait((event.old_value, event.value)), key=key
        )
        name = f"watches of agent {self.name!r}"
        self._watcher = lowlevel.spawn(self._cluster, self._watch(queue, registration), name=name)

    async def _watch(self, queue: _Changes, registration: Any) -> None:
        try:
            while True:
                old_raw, new_raw = await queue.get()
                old = self._decoded(old_raw)
                for new in self._values_written(new_raw):
                    if old == new:
                        continue  # an action that left the value as it was
                    await self._call_watches(old, new)
                    old = new
        finally:
            with contextlib.suppress(Exception):
                await registration.close()

    async def _call_watches(self, old: Any, new: Any) -> None:
        for key, fn in list(self._watches.items()):
            try:
                result = fn(old, new)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                logger.exception("watch %r of agent %r failed", key, self.name)

    def _decoded(self, raw: bytes | None) -> Any:
        return self._value(None if raw is None else self._client.decode(raw))

    def _values_written(self, raw: bytes | None) -> list[Any]:
        """The value after each action that one write committed, in order: a write
        that committed a group of actions carries the values before its last."""
        if raw is None:
            return [self.initial]
        record = self._client.decode(raw)
        steps = [step["v"] for step in record.steps if isinstance(step, dict) and "v" in step]
        return [*steps, self._value(record)]

    def __repr__(self) -> str:
        return f"<Agent {self.name!r} of {self._cluster.url}>"


@contextlib.asynccontextmanager
async def _deadline(timeout: float, what: str) -> AsyncIterator[None]:
    try:
        async with asyncio.timeout(timeout):
            yield
    except TimeoutError:
        raise OperationTimeoutError(f"{what} within {timeout:g} s") from None
