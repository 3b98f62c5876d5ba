"""Publishing to a reliable topic from one Cluster: numbered, in order, grouped.

Every handle of one topic name on one Cluster shares one :class:`Publisher`, with one
id, so subscribers remember few publishers per node. It numbers messages (0, 1, 2,
...) in *lanes* (up to :data:`MAX_LANES`; lane ``k > 0`` publishes as ``id.k``).
A lane's messages must be stored in number order, since that is what lets a
subscriber drop the repeat of a retried publish (see :mod:`hazelkit._streams._envelope`): so a
lane stores one batch at a time. Publishes made meanwhile queue, and the lane's next
batch takes all of them (up to ``MAX_READ_BATCH`` messages) in arrival order, so many
tasks publishing at once cost one round trip per batch rather than one each (group
commit), with up to ``MAX_LANES`` batches on their way at once.

A publish takes the first idle lane, so a publish that begins after another returned
is stored after it (both lanes are idle then, and lane order does not matter: the
first was stored already); publishes made at the same time may be stored in either
order, but the values of one ``publish_all`` keep theirs.

A publish that finds nothing being stored stores its messages itself, from its own
task (the uncontended path). Batches of queued publishes are stored by a Cluster task,
which ends when the queue is empty, and is cancelled with the Cluster. A publish that
times out or is cancelled while still queued is never stored; once its batch is on its
way it may be, and if every publish of that batch gave up, the batch is cancelled.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from hazelkit._backends.protocol import MAX_READ_BATCH
from hazelkit._core import _lowlevel as lowlevel
from hazelkit._core._exceptions import (
    ClusterClosedError,
    IndeterminateOperationError,
    OperationTimeoutError,
)
from hazelkit._core._local import ClusterLocal
from hazelkit._streams._envelope import Envelope, pack

if TYPE_CHECKING:
    from hazelkit._core._cluster import Cluster

__all__ = ["MAX_LANES", "Publisher", "StoreBatch", "node_publisher", "publisher_of"]

#: How many batches of one topic one Cluster may have on their way at once.
MAX_LANES = 4
#: Lane ``k > 0`` of publisher ``P`` numbers its messages as publisher ``P.k``.
LANE_SEPARATOR = "."

#: Stores envelopes (a batch) within a timeout; returns the sequence of the last one.
StoreBatch = Callable[[list[bytes], float], Awaitable[int]]


@dataclass(eq=False, slots=True)
class _Pending:
    """One publish call: its payloads, how to store them, and its caller's result."""

    payloads: list[bytes]
    store: StoreBatch
    #: Batches never mix publishes of handles with different full policies.
    policy: object
    deadline: float
    result: asyncio.Future[int]
    #: How many payloads were numbered and put in a batch so far.
    taken: int = 0
    abandoned: bool = False


@dataclass(eq=False, slots=True)
class _Lane:
    """One numbering of messages, stored one batch at a time (see the module)."""

    id: str
    number: int = 0
    _queue: deque[_Pending] = field(default_factory=deque)
    _flusher: asyncio.Task[None] | None = None
    _storing: asyncio.Task[int] | None = None
    _batch: list[tuple[_Pending, int]] = field(default_factory=list)
    #: A publish is storing its own messages (the uncontended path, no task involved).
    _inline: bool = False

    @property
    def idle(self) -> bool:
        return not (self._inline or self._queue or (self._flusher and not self._flusher.done()))

    @property
    def load(self) -> int:
        return len(self._queue) + (not self.idle)

    async def publish(
        self,
        cluster: Cluster,
        payloads: list[bytes],
        store: StoreBatch,
        *,
        policy: object,
        timeout: float,
        what: str,
    ) -> int:
        """Store ``payloads`` after every earlier publish of this publisher, in order;
        return the sequence of the last one.

        After ``timeout`` seconds raises OperationTimeoutError if the messages were not
        stored (an earlier publish was still under way) and IndeterminateOperationError
        if they may have been; ClusterClosedError if the Cluster closed first.
        """
        if self.idle:
            return await self._publish_inline(cluster, payloads, store, timeout, what)
        result: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        pending = _Pending(payloads, store, policy, time.monotonic() + timeout, result)
        self._queue.append(pending)
        if not self._inline and (self._flusher is None or self._flusher.done()):
            try:
                self._start_flusher(cluster, what)
            except ClusterClosedError:
                self._queue.remove(pending)
                raise
        try:
            async with asyncio.timeout(timeout) as scope:
                return await asyncio.shield(pending.result)
        except TimeoutError:
            if not scope.expired():
                raise  # the store's own OperationTimeoutError
            self._abandon(pending)
            if pending.taken == 0:
                raise OperationTimeoutError(
                    f"{what}: an earlier publish from this node was still being stored or"
                    f" retried after {timeout:g} s (this message was not stored)"
                ) from None
            raise IndeterminateOperationError(
                f"{what}: the message was not confirmed within {timeout:g} s; it may or may"
                " not have been stored",
                operation=what,
            ) from None
        except asyncio.CancelledError:
            self._abandon(pending)
            raise

    async def _publish_inline(
        self, cluster: Cluster, payloads: list[bytes], store: StoreBatch, timeout: float, what: str
    ) -> int:
        """Nothing else is being stored: store ``payloads`` from the caller's own task
        (cancelling it cancels the store), then hand what queued meanwhile to a flusher."""
        self._inline = True
        deadline = time.monotonic() + timeout
        try:
            sequence = -1
            for start in range(0, len(payloads), MAX_READ_BATCH):
                if start and time.monotonic() >= deadline:
                    raise OperationTimeoutError(
                        f"{what}: the first {start} values were stored, the other"
                        f" {len(payloads) - start} were not within {timeout:g} s"
                    )
                now = time.time()
                items = []
                for payload in payloads[start : start + MAX_READ_BATCH]:
                    items.append(pack(self.id, self.number, now, payload))
                    self.number += 1
                sequence = await store(items, max(deadline - time.monotonic(), 0.0))
            return sequence
        finally:
            self._inline = False
            if self._queue:
                try:
                    self._start_flusher(cluster, what)
                except ClusterClosedError as error:
                    self._fail_all(error)

    def _start_flusher(self, cluster: Cluster, what: str) -> None:
        self._flusher = lowlevel.spawn(cluster, self._flush(), name=f"publish to {what}")
        self._flusher.add_done_callback(self._flusher_done)

    def _flusher_done(self, flusher: asyncio.Task[None]) -> None:
        # Cancelled with the Cluster, maybe before its first step: nothing queued is
        # stored any more (a batch on its way was settled by _flush, if it had started).
        if flusher.cancelled():
            self._fail_all(ClusterClosedError("the Cluster closed before this publish was stored"))

    def _abandon(self, pending: _Pending) -> None:
        pending.abandoned = True
        if not pending.result.done():
            pending.result.cancel()
        storing = self._storing
        if storing is not None and all(part.abandoned for part, _ in self._batch):
            storing.cancel()  # nobody waits for this batch any more

    async def _flush(self) -> None:
        while self._queue:
            items, batch = self._next_batch()
            if not batch:
                continue
            first = batch[0][0]
            remaining = max(part.deadline for part, _ in batch) - time.monotonic()
            self._batch = batch
            self._storing = asyncio.ensure_future(first.store(items, max(remaining, 0.0)))
            try:
                last = await self._storing
            except asyncio.CancelledError:
                if self._storing.cancelled() and not _cancelling():
                    continue  # every publish of the batch gave up: on to the next
                self._settle_on_close(batch, self._storing)
                raise
            except Exception as error:
                for part, _ in batch:
                    _fail(part, error)
                    if part.taken < len(part.payloads) and part in self._queue:
                        self._queue.remove(part)  # no later chunk after a failed one
                continue
            finally:
                self._storing, self._batch = None, []
            _resolve(batch, last)

    @staticmethod
    def _settle_on_close(batch: list[tuple[_Pending, int]], storing: asyncio.Task[int]) -> None:
        """The Cluster closes while ``batch`` is on its way: tell its publishes what is
        known (stored, failed, or maybe stored)."""
        if storing.done() and not storing.cancelled():
            error = storing.exception()
            if error is None:
                _resolve(batch, storing.result())
                return
        else:
            error = ClusterClosedError(
                "the Cluster closed while this publish was being stored; it may or may not"
                " have been stored"
            )
        for part, _ in batch:
            _fail(part, error)

    def _next_batch(self) -> tuple[list[bytes], list[tuple[_Pending, int]]]:
        """Number the next messages in queue order, up to one batch of one policy."""
        items: list[bytes] = []
        batch: list[tuple[_Pending, int]] = []
        queue = self._queue
        while queue and len(items) < MAX_READ_BATCH:
            part = queue[0]
            if part.abandoned or part.result.done():
                queue.popleft()
                continue
            if batch and part.policy != batch[0][0].policy:
                break
            chunk = part.payloads[part.taken : part.taken + MAX_READ_BATCH - len(items)]
            now = time.time()
            for payload in chunk:
                items.append(pack(self.id, self.number, now, payload))
                self.number += 1
            part.taken += len(chunk)
            batch.append((part, len(chunk)))
            if part.taken < len(part.payloads):
                break  # the batch is full; the rest of this call goes next
            queue.popleft()
        return items, batch

    def _fail_all(self, error: Exception) -> None:
        for part, _ in self._batch:
            _fail(part, error)
        while self._queue:
            _fail(self._queue.popleft(), error)


def _resolve(batch: list[tuple[_Pending, int]], last: int) -> None:
    """Hand each completed publish of a stored batch its last message's sequence."""
    for part, count in reversed(batch):
        if part.taken == len(part.payloads) and not part.result.done():
            part.result.set_result(last)
        last -= count


def _fail(part: _Pending, error: BaseException) -> None:
    if not part.result.done():
        part.result.set_exception(error)


def _cancelling() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


@dataclass(eq=False, slots=True)
class Publisher:
    """Who publishes to one topic from one Cluster: up to :data:`MAX_LANES` lanes, each
    a numbering of its own stored one batch at a time, so that up to that many
    batches are on their way at once (see the module)."""

    id: str
    _lanes: list[_Lane] = field(default_factory=list)

    async def publish(
        self,
        cluster: Cluster,
        payloads: list[bytes],
        store: StoreBatch,
        *,
        policy: object,
        timeout: float,
        what: str,
    ) -> int:
        """Store ``payloads`` in order, after every publish that returned before this
        one began; return the sequence of the last one.

        After ``timeout`` seconds raises OperationTimeoutError if the messages were not
        stored (an earlier publish was still under way) and IndeterminateOperationError
        if they may have been; ClusterClosedError if the Cluster closed first.
        """
        lane = self._pick_lane()
        return await lane.publish(
            cluster, payloads, store, policy=policy, timeout=timeout, what=what
        )

    def _pick_lane(self) -> _Lane:
        """The first idle lane, else a new one, else the least loaded."""
        lanes = self._lanes
        for lane in lanes:
            if lane.idle:
                return lane
        if len(lanes) < MAX_LANES:
            lane = _Lane(self.id if not lanes else f"{self.id}{LANE_SEPARATOR}{len(lanes)}")
            lanes.append(lane)
            return lane
        return min(lanes, key=lambda lane: lane.load)


#: Per Cluster: the publisher of each topic it published to.
_publishers: ClusterLocal[dict[str, Publisher]] = ClusterLocal(dict)


def node_publisher(envelope: Envelope) -> str:
    """The id of the Publisher (one per topic and node) that stored ``envelope``."""
    return envelope.publisher.partition(LANE_SEPARATOR)[0]


def publisher_of(cluster: Cluster, name: str) -> Publisher:
    """The publisher of topic ``name`` on ``cluster`` (shared by all its handles)."""
    publishers = _publishers.get(cluster)
    publisher = publishers.get(name)
    if publisher is None:
        publisher = publishers[name] = Publisher(uuid.uuid4().hex)
    return publisher
