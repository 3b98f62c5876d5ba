"""Publishing to a reliable topic from one Cluster: numbered, in order, grouped.

Every handle of one topic name on one Cluster shares one :class:`Publisher`: one id and
one numbering of messages (0, 1, 2, ...), so subscribers remember one publisher per
node. Messages must be stored in number order, since that is what lets a subscriber
drop the repeat of a retried publish (see :mod:`hazelkit._envelope`): so only one batch
is being stored at a time. Publishes made meanwhile queue, and the next batch takes
all of them (up to ``MAX_READ_BATCH`` messages) in arrival order, so many tasks
publishing at once cost one round trip per batch rather than one each (group commit).

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
import weakref
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from hazelkit._backends.protocol import MAX_READ_BATCH
from hazelkit._envelope import pack
from hazelkit._exceptions import ClusterClosedError, OperationTimeoutError

if TYPE_CHECKING:
    from hazelkit._cluster import Cluster

__all__ = ["Publisher", "StoreBatch", "publisher_of"]

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
class Publisher:
    """Who publishes to one topic from one Cluster (see the module)."""

    id: str
    number: int = 0
    _queue: deque[_Pending] = field(default_factory=deque)
    _flusher: asyncio.Task[None] | None = None
    _storing: asyncio.Task[int] | None = None
    _batch: list[tuple[_Pending, int]] = field(default_factory=list)
    #: A publish is storing its own messages (the uncontended path, no task involved).
    _inline: bool = False

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

        Raises OperationTimeoutError after ``timeout`` seconds (saying whether the
        messages may have been stored), whatever ``store`` raised for their batch, and
        ClusterClosedError if the Cluster closed first.
        """
        if not (self._inline or self._queue or (self._flusher and not self._flusher.done())):
            return await self._publish_inline(cluster, payloads, store, timeout, what)
        result: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        pending = _Pending(payloads, store, policy, time.monotonic() + timeout, result)
        self._queue.append(pending)
        if not self._inline and (self._flusher is None or self._flusher.done()):
            try:
                self._flusher = cluster.spawn(self._flush(), name=f"publish to {what}")
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
            raise OperationTimeoutError(
                f"{what}: the message was not confirmed within {timeout:g} s; it may or may"
                " not have been stored"
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
                    self._flusher = cluster.spawn(self._flush(), name=f"publish to {what}")
                except ClusterClosedError as error:
                    self._fail_all(error)

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
                self._fail_all(ClusterClosedError("the Cluster closed before this publish"))
                raise
            except Exception as error:
                for part, _ in batch:
                    _fail(part, error)
                    if part.taken < len(part.payloads) and part in self._queue:
                        self._queue.remove(part)  # no later chunk after a failed one
                continue
            finally:
                self._storing, self._batch = None, []
            for part, count in reversed(batch):
                if part.taken == len(part.payloads) and not part.result.done():
                    part.result.set_result(last)
                last -= count

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


def _fail(part: _Pending, error: Exception) -> None:
    if not part.result.done():
        part.result.set_exception(error)


def _cancelling() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


_publishers: weakref.WeakKeyDictionary[Cluster, dict[str, Publisher]] = weakref.WeakKeyDictionary()


def publisher_of(cluster: Cluster, name: str) -> Publisher:
    """The publisher of topic ``name`` on ``cluster`` (shared by all its handles)."""
    publishers = _publishers.setdefault(cluster, {})
    publisher = publishers.get(name)
    if publisher is None:
        publisher = publishers[name] = Publisher(uuid.uuid4().hex)
    return publisher
