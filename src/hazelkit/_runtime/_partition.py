"""One partition on its owner: read the inbox in order, dispatch, commit the cursor, fire
timers.

The worker reads the inbox from the committed cursor, hands each message to its entity's
mailbox (:mod:`._entity`) and moves the cursor past every message whose entity finished
with it (the lowest sequence still in hand bounds it). It keeps at most
:data:`MAX_IN_FLIGHT` messages in hand, so a slow entity slows its partition instead of
filling memory. Timers due in the partition come from an index entry the owner keeps
(``hazelkit.rt.timers``: entity -> earliest due, written before the commit that sets a
timer, so it never misses one) and are loaded on takeover: a timer that fell due while
no node owned the partition fires, once, as soon as the new owner has loaded.

It stops when its lease may have lapsed (by this node's clock), when a commit finds a
newer owner, or gracefully (stop()): no new messages are taken, those in hand finish, the
cursor is committed, and the host releases the lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import secrets
import time
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from hazelkit._core import _lowlevel as lowlevel
from hazelkit._core._cas import write_if_same
from hazelkit._core._exceptions import (
    ClusterClosedError,
    HazelkitError,
    IndeterminateOperationError,
)
from hazelkit._observe import _metrics as metrics
from hazelkit._runtime._entity import EntityWorker, Stale, Work
from hazelkit._runtime._inbox import Cursor, unpack
from hazelkit._runtime._record import Outgoing, Status
from hazelkit._runtime._topics import SUBS_MAP, TopicFeed

if TYPE_CHECKING:
    from hazelkit._runtime._entities import EntitySpace
    from hazelkit._runtime._host import HostedSpace

__all__ = ["MAX_IN_FLIGHT", "TIMERS_MAP", "PartitionWorker"]

logger = logging.getLogger("hazelkit")

TIMERS_MAP = "hazelkit.rt.timers"
MAX_IN_FLIGHT = 1000
#: The most messages one read takes (Hazelcast's limit for a ringbuffer read is 999): a
#: backlog reaches the entities' mailboxes in a few reads, where their commits group.
READ_BATCH = 999
READ_WAIT = 0.5
CURSOR_EVERY = 0.5
#: How long an entity with nothing to do stays in memory before it is passivated.
PASSIVATE_AFTER = 2.0


class PartitionWorker:
    """Applies one partition's messages while this node holds its lease."""

    def __init__(
        self, entities: EntitySpace, hosted: HostedSpace, partition: int, epoch: int
    ) -> None:
        self.entities_space = entities
        self.hosted = hosted
        self.cluster = hosted.cluster
        self.codec = self.cluster.codec
        self.behavior = entities.behavior
        self.partition = partition
        self.epoch = epoch
        self.node = hosted.node
        self.lease = hosted.leases.lease
        self.inbox = entities.space.inbox(partition)
        self.gen = ""
        self.stopped = False
        self._stopping = False
        self._reading = False
        self._next = 0
        self._cursor_raw = b""
        self._committed = 0
        self._committed_at = 0.0
        self.in_flight: set[int] = set()
        self.entities: dict[str, EntityWorker] = {}
        self._timers: list[tuple[float, str]] = []
        self._index: dict[str, float] = {}
        self._index_raw: bytes | None = None
        self._index_key = self.codec.encode_key((entities.space.name, partition))
        self._progress = asyncio.Event()
        self._timer_wake = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self._feeds: dict[str, TopicFeed] = {}
        self._subs: dict[str, list[str]] = {}
        self._subs_raw: bytes | None = None
        self._subs_key = self._index_key
        self.space_name = entities.space.name
        self.handlers = {
            handler: {**metrics.split_space(self.space_name), metrics.HANDLER: handler}
            for handler in ("message", "timer", "topic")
        }
        #: Entities of this partition paused at their last commit or load here.
        self.paused: set[str] = set()
        if metrics.STATE.live:
            metrics.watch_paused(self, self.space_name)
        #: How this node took the partition from a previous owner, and since when it had
        #: none; the messages up to ``backlog_end`` were waiting for the new owner.
        self.takeover = hosted.leases.taken.pop(partition, None)
        self.backlog_end = -1
        self._ownerless_measured: set[str] = set()

    # -- what entity workers use ----------------------------------------------------------

    @property
    def records(self) -> Any:
        return self.entities_space.space.records

    def spawn(self, coroutine: Coroutine[Any, Any, None], *, name: str) -> asyncio.Task[None]:
        return lowlevel.spawn(self.cluster, coroutine, name=name)

    def now(self) -> float:
        return self.cluster.clock.time()

    def lease_valid(self) -> bool:
        held = self.hosted.leases.valid(self.partition)
        return not self.stopped and held is not None and held.record.epoch == self.epoch

    def lost(self, why: str) -> None:
        if not self.stopped:
            logger.warning(
                "node %s stops partition %d of %r: %s", self.node, self.partition,
                self.hosted.name, why,
            )  # fmt: skip
        self.stopped = True
        self._progress.set()
        self._timer_wake.set()

    def done(self, sequence: int) -> None:
        if sequence >= 0:
            self.in_flight.discard(sequence)
        self._progress.set()

    def idle(self, worker: EntityWorker) -> None:
        """An entity ran out of work: passivated after :data:`PASSIVATE_AFTER` seconds
        without more (its record stays in the cluster; kept meanwhile, so a burst of
        messages costs one read of the record, not one per message)."""
        worker.idle_at = time.monotonic()

    def _passivate(self) -> None:
        cutoff = time.monotonic() - PASSIVATE_AFTER
        idle = [
            entity
            for entity, worker in self.entities.items()
            if worker.idle_at is not None and worker.idle_at < cutoff and not worker.busy
        ]
        for entity in idle:
            del self.entities[entity]

    def note_status(self, entity_id: str, status: Status) -> None:
        """The entity's status as last committed or loaded (for the paused count)."""
        if status is Status.PAUSED:
            self.paused.add(entity_id)
        else:
            self.paused.discard(entity_id)

    def first_work(self, entity_id: str, sequence: int) -> None:
        """Work ``sequence`` of an entity is about to be applied: if it waited through a
        takeover, record how long the entity had no owner (once per entity)."""
        if sequence > self.backlog_end or self.takeover is None:
            return
        if entity_id not in self._ownerless_measured:
            self._ownerless_measured.add(entity_id)
            how, since = self.takeover
            metrics.ownerless(self.space_name, how, time.monotonic() - since)

    def decode_payload(self, payload: bytes) -> Any:
        return self.codec.decode(payload, self.entities_space.client.place)

    async def deliver(self, entity_id: str, outgoing: Outgoing) -> None:
        await self.entities_space.deliver(entity_id, outgoing)

    def _worker(self, entity_id: str) -> EntityWorker:
        worker = self.entities.get(entity_id)
        if worker is None:
            worker = self.entities[entity_id] = EntityWorker(self, entity_id)
        return worker

    # -- the read loop --------------------------------------------------------------------

    async def run(self) -> None:
        try:
            await self._begin()
            self.spawn(self._timer_loop(), name=f"timers of partition {self.partition}")
            while not self._stopping and not self.stopped:
                if not self.lease_valid():
                    self.lost("its lease may have lapsed")
                    break
                try:
                    await self._step()
                except ClusterClosedError:
                    raise
                except HazelkitError:
                    logger.warning("partition %d: retrying a read", self.partition, exc_info=True)
                    await asyncio.sleep(0.2)
        except Stale:
            self.lost("a newer owner committed")
        except ClusterClosedError:
            self.stopped = True  # the Cluster is closing (or crashed): nothing to hand on
        except HazelkitError:
            self.lost("could not load its cursor or timers")
            logger.warning("partition %d could not start", self.partition, exc_info=True)

    async def _begin(self) -> None:
        self._cursor_raw, cursor = await self.inbox.load_cursor()
        self.gen, self._next, self._committed = cursor.gen, cursor.next, cursor.next
        self._committed_at = time.monotonic()
        if self.takeover is not None and metrics.STATE.live:
            self.backlog_end = await self.inbox.ring.tail()
        raw = await self._index_store.get(self._index_key)
        self._index_raw = raw
        self._index = {} if raw is None else dict(self.codec.decode(raw))
        for entity, due in self._index.items():
            heapq.heappush(self._timers, (float(due), entity))
        raw = await self._subs_store.get(self._subs_key)
        self._subs_raw = raw
        self._subs = {} if raw is None else {k: list(v) for k, v in self.codec.decode(raw).items()}
        for entity in self._subs:
            self._worker(entity).submit(Work(-1, None))  # loads it, and feeds its topics

    async def _step(self) -> None:
        if len(self.in_flight) >= MAX_IN_FLIGHT:
            await _nap(self._progress, READ_WAIT)
        else:
            self._reading = True
            try:
                room = min(READ_BATCH, MAX_IN_FLIGHT - len(self.in_flight))
                batch = await self.inbox.ring.read_many(self._next, 1, room, READ_WAIT)
            finally:
                self._reading = False
            if batch.items:
                self._dispatch(batch.sequences, batch.items, batch.next_sequence)
            elif await self.inbox.ring.tail() < self._next - 1:
                await self._reset()
        await self._commit_cursor()

    def _dispatch(self, sequences: list[int], items: list[bytes], next_sequence: int) -> None:
        if sequences[0] > self._next:
            logger.error(
                "partition %d of %r: %d messages were overwritten before they were applied",
                self.partition, self.hosted.name, sequences[0] - self._next,
            )  # fmt: skip
        for sequence, item in zip(sequences, items, strict=True):
            message = unpack(item)
            if message is None:
                logger.warning("partition %d: item %d is not a message", self.partition, sequence)
                continue
            self.in_flight.add(sequence)
            self._worker(message.entity).submit(Work(sequence, message))
        self._next = max(self._next, next_sequence)

    async def _reset(self) -> None:
        """The ringbuffer restarted (every member holding it was lost): start a new
        generation at its head, so entities do not skip its messages as applied."""
        head = await self.inbox.ring.head()
        logger.error(
            "partition %d of %r: its inbox was lost (reset to %d); messages not yet applied"
            " were lost with it", self.partition, self.hosted.name, head,
        )  # fmt: skip
        self.gen, self._next = secrets.token_hex(4), head
        await self._commit_cursor(force=True)

    async def _commit_cursor(self, *, force: bool = False) -> None:
        target = min(self.in_flight) if self.in_flight else self._next
        moved = target != self._committed or force
        due = time.monotonic() - self._committed_at >= CURSOR_EVERY
        if not moved or not (due or force or self._stopping):
            return
        if not self.lease_valid():
            raise Stale
        raw = await self.inbox.commit_cursor(self._cursor_raw, Cursor(self.gen, target))
        if raw is None:
            raise Stale
        self._cursor_raw, self._committed = raw, target
        self._committed_at = time.monotonic()

    # -- stopping -------------------------------------------------------------------------

    async def stop(self, timeout: float) -> None:
        """Take no more messages, let those in hand finish (up to ``timeout`` seconds),
        commit the cursor. The host releases the lease afterwards."""
        self._stopping = True
        self._timer_wake.set()
        if self.task is not None and self._reading:
            # A poll of the inbox takes nothing (the cursor moves only on dispatch): end it
            # now rather than wait out READ_WAIT, so a handoff leaves no gap.
            self.task.cancel()
        deadline = time.monotonic() + timeout
        if self.task is not None:
            await asyncio.wait({self.task}, timeout=timeout)
        while self.in_flight and time.monotonic() < deadline and not self.stopped:
            await _nap(self._progress, 0.1)
        if not self.stopped and not self.cluster.closed:
            try:
                await self._commit_cursor(force=True)
            except (Stale, HazelkitError):
                logger.warning("partition %d: final cursor not committed", self.partition)
        self.stopped = True

    # -- subscribed topics ----------------------------------------------------------------

    @property
    def _subs_store(self) -> Any:
        return lowlevel.backend(self.cluster).map(SUBS_MAP)

    def feed(self, entity: str, topic: str, sequence: int, item: bytes) -> None:
        """Hand message ``sequence`` of ``topic`` to ``entity`` (from a feed)."""
        self._worker(entity).submit(Work(sequence, None, topic, item))

    async def resolve_topics(self, topics: dict[str, int]) -> dict[str, int]:
        """``topics`` with "latest" (-1) and "oldest" (-2) turned into sequences."""
        resolved = dict(topics)
        for topic, position in topics.items():
            if position < 0:
                ring = lowlevel.backend(self.cluster).ringbuffer(topic)
                resolved[topic] = await ring.tail() + 1 if position == -1 else await ring.head()
        return resolved

    async def index_topics(self, entity: str, topics: dict[str, int]) -> None:
        """Make sure the index lists the entity's topics (before its commit)."""
        known = set(self._subs.get(entity, ()))
        if set(topics) <= known:
            return
        index = {**self._subs, entity: sorted(known | set(topics))}
        if not self.lease_valid():
            raise Stale
        raw = self.codec.encode(index)
        try:
            won = await write_if_same(self._subs_store, self._subs_key, self._subs_raw, raw)
        except IndeterminateOperationError:
            won = await self._subs_store.get(self._subs_key) == raw
        if not won:
            raise Stale
        self._subs_raw, self._subs = raw, index

    def subscribed(self, entity: str, topics: dict[str, int], *, rewind: bool) -> None:
        """After a commit: feed ``entity`` its topics from their positions (from the
        record when it was loaded or resumed, ``rewind``), and stop feeding the rest."""
        for topic, existing in self._feeds.items():
            if topic not in topics:
                existing.drop(entity)
        for topic, position in topics.items():
            feed = self._feeds.get(topic)
            if feed is None:
                feed = self._feeds[topic] = TopicFeed(self, topic)
            if rewind or entity not in feed.positions:
                feed.place(entity, position)
            else:
                feed.positions[entity] = position

    # -- timers ---------------------------------------------------------------------------

    @property
    def _index_store(self) -> Any:
        return lowlevel.backend(self.cluster).map(TIMERS_MAP)

    async def index_timers(self, entity: str, timers: dict[str, float]) -> None:
        """Make sure the index knows the entity's earliest timer (before its commit)."""
        earliest = min(timers.values())
        known = self._index.get(entity)
        if known is not None and known <= earliest:
            return
        await self._write_index({**self._index, entity: earliest})

    def schedule(self, entity: str, timers: dict[str, float]) -> None:
        """After a commit: wake the entity when its earliest timer is due; drop it from
        the index once it has none (lazily)."""
        if timers:
            heapq.heappush(self._timers, (min(timers.values()), entity))
            self._timer_wake.set()
        elif entity in self._index:
            index = {k: v for k, v in self._index.items() if k != entity}
            self.spawn(self._write_index_quietly(index), name="timer index")

    async def _write_index_quietly(self, index: dict[str, float]) -> None:
        try:
            await self._write_index(index)
        except (Stale, HazelkitError):
            logger.debug("partition %d: timer index not trimmed", self.partition)

    async def _write_index(self, index: dict[str, float]) -> None:
        if not self.lease_valid():
            raise Stale
        raw = self.codec.encode(index)
        try:
            won = await write_if_same(self._index_store, self._index_key, self._index_raw, raw)
        except IndeterminateOperationError:
            won = await self._index_store.get(self._index_key) == raw
        if not won:
            raise Stale
        self._index_raw, self._index = raw, index

    async def _timer_loop(self) -> None:
        while not self.stopped and not self._stopping:
            now = self.now()
            while self._timers and self._timers[0][0] <= now:
                _, entity = heapq.heappop(self._timers)
                self._worker(entity).submit(Work(-1, None))
            self._passivate()
            wait = READ_WAIT if not self._timers else min(READ_WAIT, self._timers[0][0] - now)
            await _nap(self._timer_wake, max(wait, 0.01))


async def _nap(event: asyncio.Event, timeout: float) -> None:
    """Wait until ``event`` is set or ``timeout`` seconds pass, then clear it."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(timeout):  # wait_for could swallow a cancellation
            await event.wait()
    event.clear()
