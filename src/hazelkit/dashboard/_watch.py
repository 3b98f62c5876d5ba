"""The dashboard's one reader of the cluster: a snapshot every ``interval`` seconds.

Every page open on the dashboard shares the same snapshots (frames): one background task
per dashboard reads the cluster, however many browsers watch. The task belongs to the
Cluster (it ends when the Cluster closes, at the latest) and starts on first use.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hazelkit._core import _lowlevel as lowlevel
from hazelkit._core._exceptions import ClusterClosedError, HazelkitError
from hazelkit._observe._report import ClusterReport, gather
from hazelkit.dashboard._changes import OwnerChange, OwnerChanges

if TYPE_CHECKING:
    from hazelkit._core._cluster import Cluster
    from hazelkit.workflows import WorkflowSnapshot

__all__ = ["ClusterWatch", "Frame"]

logger = logging.getLogger("hazelkit.dashboard")

CLOSE_GRACE = 2.0


@dataclass(frozen=True, slots=True)
class Frame:
    """One snapshot of the cluster as the dashboard shows it."""

    number: int  #: 1, 2, ... in the order they were taken
    report: ClusterReport
    workflows: list[WorkflowSnapshot]
    changes: tuple[OwnerChange, ...]  #: the last ownership changes, oldest first
    error: str | None = None  #: why the latest read failed (this frame is older), if it did


class ClusterWatch:
    """Reads ``cluster`` every ``interval`` seconds (each read bounded by
    ``read_timeout``) while open; waiters get each new frame as it is taken.

    A failed read is logged and kept as the next frame's ``error``; the watch goes on.
    It stops for good on :meth:`close` or when the Cluster closes.
    """

    def __init__(self, cluster: Cluster, *, interval: float, read_timeout: float) -> None:
        self.cluster = cluster
        self.interval = interval
        self.read_timeout = read_timeout
        self.changes = OwnerChanges(interval)
        self.frame: Frame | None = None
        self.closed = False
        self._task: asyncio.Task[None] | None = None
        self._tick = asyncio.Event()

    def start(self) -> None:
        """Start reading (idempotent). Raises ClusterClosedError if the Cluster is closed."""
        if self._task is None and not self.closed:
            self._task = lowlevel.spawn(self.cluster, self._run(), name="hazelkit dashboard")
            lowlevel.on_close(self.cluster, self.close)

    async def close(self) -> None:
        """Stop reading and wake every waiter (idempotent); returns once the task ended:
        a read under way may finish first (at most ``CLOSE_GRACE`` seconds, then it is
        cancelled; cancelling a client's calls midway leaves noise in the log)."""
        self.closed = True
        self._tick.set()
        task, self._task = self._task, None
        if task is not None and task is not asyncio.current_task():
            await asyncio.wait({task}, timeout=min(CLOSE_GRACE, self.read_timeout))
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def next_frame(self, after: int, timeout: float) -> Frame | None:
        """The first frame numbered above ``after``, waiting at most ``timeout`` seconds
        for it (None if none came, or the watch closed)."""
        self.start()
        tick = self._tick
        if not self._is_new(after):
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await tick.wait()
        return self.frame if self._is_new(after) and not self.closed else None

    def _is_new(self, after: int) -> bool:
        return self.frame is not None and self.frame.number > after

    async def _run(self) -> None:
        while not self.closed:
            try:
                async with asyncio.timeout(self.read_timeout):
                    self._publish(await self._read())
            except ClusterClosedError:
                break
            except (HazelkitError, TimeoutError) as error:
                logger.warning("dashboard: reading the cluster failed: %s", error)
                self._failed(str(error) or type(error).__name__)
            await self._sleep(self.interval)
        self.closed = True
        self._tick.set()

    async def _read(self) -> Frame:
        # The leases are read first: the start of the read dates them best (a slow rest
        # of the read would otherwise shorten the stillness the change labels rest on).
        started = time.monotonic()
        report = await gather(self.cluster)
        workflows = [snapshot async for snapshot in self.cluster.workflows.list()]
        self.changes.update(report.partitions, now=started, at=report.taken_at)
        number = 1 if self.frame is None else self.frame.number + 1
        return Frame(number, report, workflows, tuple(self.changes.recent))

    def _failed(self, error: str) -> None:
        if self.frame is not None:
            last = self.frame
            self._publish(Frame(last.number + 1, last.report, last.workflows, last.changes, error))

    def _publish(self, frame: Frame) -> None:
        self.frame = frame
        tick, self._tick = self._tick, asyncio.Event()
        tick.set()

    async def _sleep(self, seconds: float) -> None:
        """Sleep, waking early if the watch closes."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                while not self.closed:
                    await self._tick.wait()
