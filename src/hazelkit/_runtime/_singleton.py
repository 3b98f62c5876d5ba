"""Cluster singletons: a coroutine that runs on exactly one node at a time.

A singleton is a space of one partition (``singleton:NAME``) on the runtime's leases:
the node holding the lease runs ``fn(token)``, the token being the lease's epoch, which
grows with every take, so whatever the singleton writes can refuse an older token (a
stale instance). Nodes that registered the same name are the candidates; the assignment
rules, failover and handoff are the runtime's (see :mod:`._host`):

- the node that holds the lease runs ``fn``; it cancels ``fn`` the moment its own clock
  says the lease may have lapsed, before any other node may take it, so two instances
  never overlap by the lease clocks;
- it stays where it runs when other nodes join (a move is a restart);
- a node that dies is replaced within ``lease + 2`` seconds;
- a node that leaves gracefully cancels ``fn`` (and waits for it, bounded) before it
  releases the lease; then another starts it at once.

``fn`` runs until cancelled. If it returns, it is not run again while this node holds the
lease; if it raises, the error is logged and it is started again after a pause that grows
to 30 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from hazelkit._core import _lowlevel as lowlevel
from hazelkit._core._exceptions import ArgumentError
from hazelkit._core._handle import check_name
from hazelkit._runtime._host import HostedSpace, host_of
from hazelkit._runtime._leases import PartitionLeases
from hazelkit._runtime._nodes import NodeInfo, NodeRegistry

if TYPE_CHECKING:
    from hazelkit._core._cluster import Cluster

__all__ = ["Singleton", "SingletonStatus", "singleton_status"]

logger = logging.getLogger("hazelkit")

SingletonFunction = Callable[[int], Awaitable[Any]]
_CHECK = 0.1
_MAX_PAUSE = 30.0


class _SingletonWorker:
    """Runs ``fn(token)`` while this node holds the singleton's lease."""

    def __init__(self, hosted: HostedSpace, fn: SingletonFunction, token: int) -> None:
        self.hosted = hosted
        self.stopped = False
        self._fn = fn
        self._token = token
        self._task = lowlevel.spawn(hosted.cluster, self._run(), name=f"singleton {hosted.name}")

    async def _run(self) -> None:
        pause = 0.5
        runner: asyncio.Task[Any] | None = None
        try:
            while self.hosted.leases.valid(0) is not None:
                if runner is None:
                    runner = asyncio.ensure_future(self._fn(self._token))
                done, _ = await asyncio.wait({runner}, timeout=_CHECK)
                if done and runner.exception() is not None:
                    logger.error(
                        "singleton %r failed; starting it again in %g s",
                        self.hosted.name, pause, exc_info=runner.exception(),
                    )  # fmt: skip
                    await asyncio.sleep(pause)
                    pause, runner = min(pause * 2, _MAX_PAUSE), None
                elif done:
                    await asyncio.sleep(_CHECK)  # it finished: keep the lease, run nothing
        finally:
            self.stopped = True
            if runner is not None and not runner.done():
                runner.cancel()
                with contextlib.suppress(BaseException):
                    await runner

    def lost(self, why: str) -> None:
        logger.warning("singleton %r stops on this node: %s", self.hosted.name, why)
        self._task.cancel()

    async def stop(self, timeout: float) -> None:
        self._task.cancel()
        await asyncio.wait({self._task}, timeout=timeout)


@dataclass(frozen=True, slots=True)
class SingletonStatus:
    """Where a singleton runs, as any node or client can read it."""

    name: str
    running: bool  #: a node holds its lease now (it may have been released or lapsed)
    node: NodeInfo | None  #: that node, if it is still announced
    token: int  #: the fencing token of the current (or last) instance; 0 if never run
    since: datetime.datetime | None  #: when that node took it


class Singleton:
    """``fn(token)`` on exactly one of the nodes that registered this name (see the
    module). Use ``async with``, or ``await start()`` and ``stop()``."""

    def __init__(
        self, cluster: Cluster, name: str, fn: SingletonFunction, *, lease: float = 5.0
    ) -> None:
        if not callable(fn):
            raise ArgumentError(f"a singleton needs an async function, not {fn!r}")
        self._cluster = cluster
        self.name = check_name(name, "singleton")
        self._fn = fn
        self._lease = lease
        self._hosted: HostedSpace | None = None

    async def start(self) -> Self:
        """Register this node as a candidate (it may start ``fn`` at once)."""
        if self._hosted is None:
            host = host_of.get(self._cluster)
            self._hosted = await host.add(
                _space(self.name),
                1,
                partitions=1,
                lease=self._lease,
                make_worker=self._worker,
                sticky=True,
            )
        return self

    def _worker(self, hosted: HostedSpace, partition: int, epoch: int) -> _SingletonWorker:
        return _SingletonWorker(hosted, self._fn, epoch)

    async def stop(self) -> None:
        """Stop being a candidate: if ``fn`` runs here, cancel it (and wait for it, up to
        half a lease) before another node may start it. Idempotent."""
        hosted, self._hosted = self._hosted, None
        if hosted is not None and not self._cluster.closed:
            await host_of.get(self._cluster).remove(hosted)

    @property
    def running_here(self) -> bool:
        """Whether ``fn`` runs on this node now."""
        return self._hosted is not None and bool(self._hosted.held())

    async def status(self) -> SingletonStatus:
        """Where the singleton runs now (see :meth:`hazelkit.Cluster.singleton_status`)."""
        return await singleton_status(self._cluster, self.name)

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def __repr__(self) -> str:
        return f"<Singleton {self.name!r} of {self._cluster.url}>"


def _space(name: str) -> str:
    return f"singleton:{name}"


async def singleton_status(cluster: Cluster, name: str) -> SingletonStatus:
    """Where singleton ``name`` runs now, read from any Cluster (hosting or not)."""
    leases = PartitionLeases(cluster, _space(check_name(name, "singleton")), 1, 5.0, "")
    record = leases._decode((await leases.read_all())[0])
    if record is None:
        return SingletonStatus(name, False, None, 0, None)
    nodes = {node.id: node for node in await NodeRegistry(cluster, ttl=5.0).live()}
    since = datetime.datetime.fromtimestamp(record.since, datetime.UTC)
    node = None if record.owner is None else nodes.get(record.owner)
    return SingletonStatus(name, record.owner is not None, node, record.epoch, since)
