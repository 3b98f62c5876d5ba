"""ReliableTopic: publish/subscribe on a ringbuffer, with sequences, replay and loss
detection (hazelkit's own, not Hazelcast's ReliableTopic proxy)."""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Generic, Literal, TypeVar

from hazelkit._backends.protocol import OverflowPolicy, RingbufferStore
from hazelkit._coordination._grant import ATTEMPT_GRACE
from hazelkit._core import _lowlevel as lowlevel
from hazelkit._core._buffer import Overflow
from hazelkit._core._exceptions import (
    CapacityError,
    ClusterUnavailableError,
    ConfigurationError,
    IndeterminateOperationError,
    OperationTimeoutError,
    SerializationError,
)
from hazelkit._core._handle import check_name, place_of
from hazelkit._core._subscription import background_subscription
from hazelkit._core._undecodable import park
from hazelkit._streams._publishing import publisher_of
from hazelkit._streams._reliable_reader import Reader, ReliableSubscription
from hazelkit._streams._topic import check_buffer

if TYPE_CHECKING:
    from hazelkit._core._cluster import Cluster

__all__ = ["FullPolicy", "ReliableTopic"]

logger = logging.getLogger("hazelkit")
T = TypeVar("T")
Start = int | Literal["oldest", "latest"]


class FullPolicy(enum.Enum):
    """What :meth:`ReliableTopic.publish` does when the ringbuffer is full.

    A ringbuffer is *full* only when it has a TTL and holds ``capacity`` messages
    younger than it (Hazelcast's rule: without a TTL the oldest message may always be
    overwritten, since nothing says it is still needed).
    """

    #: Overwrite the oldest message; subscribers that had not read it get a loss report.
    OVERWRITE = "overwrite"
    #: Raise CapacityError (nothing is stored).
    FAIL = "fail"
    #: Wait until the oldest message expires, up to the publish timeout.
    WAIT = "wait"


class ReliableTopic(Generic[T]):
    """A topic on a ringbuffer (``cluster.reliable_topic(name)``): messages are stored
    with sequence numbers, and subscribers read them in order at their own pace.

    Guarantees:

    - :meth:`publish` returns the message's sequence once it is stored (with a backup on
      another member, with the default member configuration), so a stored message
      survives the failure of one member.
    - Subscribers receive messages in sequence order, from any start (``"oldest"``,
      ``"latest"`` or a sequence), each at most once. If messages were overwritten
      before a subscriber read them (it fell behind, or the ringbuffer was reset), it
      gets a MessageLossError — or, with ``tolerate_loss=True``, a :class:`MessageLoss`
      marker — never a silent gap.
    - When the member holding the ringbuffer dies, its backup takes over. Messages whose
      publish had not returned yet may be missing there; their publishers store them
      again, possibly at sequences a subscriber already passed. Subscribers notice (each
      read re-checks the last message read) and re-read from the newest message still in
      place, so nothing is skipped; sequences delivered after such a failover may then
      be lower than earlier ones. With the default member configuration (one backup),
      one member failure loses no confirmed message.
    - *Exactly once through failures*: a publish that fails with a network error
      (ClusterUnavailableError: not sent; IndeterminateOperationError: sent, reply lost;
      OperationTimeoutError) is retried with the same envelope until
      ``publish_timeout``; if the failed attempt had been stored after all, the
      message is stored twice, and subscribers drop the repeat, because each publisher
      (all handles of this name on one Cluster) numbers its messages and stores them
      one batch at a time per lane, in order. If ``publish`` finally raises
      IndeterminateOperationError, the message may or may not have been stored; an
      OperationTimeoutError or ClusterUnavailableError means it was not (it timed out
      waiting for an earlier publish, or was never sent).
    - *Order*: a publish through one Cluster that begins after another returned is
      stored after it, and the values of one ``publish_all`` keep their order.
      Publishes made at the same time by several tasks go together in batches, up to
      four batches on their way at once, and may be stored in either order.

    The ringbuffer is named after the topic (configure it on the members under that
    name); ``capacity`` and ``ttl``, if given, are set on first use. ``on_full`` chooses
    what a publish does when it is full: see :class:`FullPolicy`; FAIL and WAIT need a
    ``ttl``, since without one the ringbuffer is never full.

    A reliable topic is also a sink: ``await topic.send(x)`` publishes ``x``.
    """

    def __init__(
        self,
        cluster: Cluster,
        name: str,
        *,
        capacity: int | None = None,
        ttl: int | None = None,
        on_full: FullPolicy | str = FullPolicy.OVERWRITE,
        publish_timeout: float = 30.0,
    ) -> None:
        check_name(name, "topic")
        self._cluster = cluster
        self.name = name
        self.capacity = _check_count("capacity", capacity, minimum=2)
        self.ttl = _check_count("ttl", ttl, minimum=1)
        self.on_full = _check_policy(on_full, self.ttl)
        self.publish_timeout = _check_timeout(publish_timeout)
        self._publishing = publisher_of(cluster, name)
        self._ring_cache: RingbufferStore | None = None

    @property
    def publisher(self) -> str:
        """The publisher id of this topic on this Cluster (:attr:`ReliableMessage.publisher`
        of its messages): every handle of the name on the Cluster shares it, so
        subscribers remember a few publishers per node (one per lane, at most four),
        not one per handle."""
        return self._publishing.id

    @property
    def _ring(self) -> RingbufferStore:
        lowlevel.check_open(self._cluster)
        if self._ring_cache is None:
            backend = lowlevel.backend(self._cluster)
            self._ring_cache = backend.ringbuffer(self.name, self.capacity, self.ttl)
        return self._ring_cache

    async def publish(self, value: T, *, timeout: float | None = None) -> int:
        """Store ``value`` and return its sequence (see the class for the guarantees).

        ``timeout`` (default ``publish_timeout``) bounds the wait for this node's
        earlier publishes to the topic, the retries after network errors and, with
        ``on_full="wait"``, the wait for room: then OperationTimeoutError.
        With ``on_full="fail"``, a full ringbuffer raises CapacityError.
        """
        return await self.publish_all([value], timeout=timeout)

    async def publish_all(self, values: Iterable[T], *, timeout: float | None = None) -> int:
        """Store several values, in order, and return the sequence of the last one
        (-1 for none). Up to 999 values are stored atomically; more go in several
        batches, each with the guarantees of :meth:`publish`.

        Publishes made through one Cluster while a batch is being stored are grouped
        into the next batch, in the order they were made (one round trip for all).
        """
        codec, place = self._cluster.codec, place_of(self._cluster, "reliable topic", self.name)
        payloads = [codec.encode(value, place) for value in values]
        limit = self.publish_timeout if timeout is None else _check_timeout(timeout)
        if not payloads:
            return -1
        return await self._publishing.publish(
            self._cluster,
            payloads,
            self._store,
            policy=self.on_full,
            timeout=limit,
            what=f"reliable topic {self.name!r}",
        )

    async def send(self, value: T) -> int:
        """The sink interface: the same as :meth:`publish`."""
        return await self.publish(value)

    async def _store(self, items: list[bytes], timeout: float) -> int:
        deadline = time.monotonic() + timeout
        policy = OverflowPolicy.OVERWRITE
        if self.on_full is not FullPolicy.OVERWRITE:
            policy = OverflowPolicy.FAIL
        delay = 0.05
        while True:
            try:
                # A write that hangs (an unresponsive member) is cut off at the deadline,
                # with the grace a write under way gets: it may or may not be stored.
                remaining = max(deadline - time.monotonic(), 0.0) + ATTEMPT_GRACE
                async with asyncio.timeout(remaining) as scope:
                    sequence = await self._ring.add_all(items, policy)
            except (ClusterUnavailableError, IndeterminateOperationError, OperationTimeoutError):
                # Maybe stored after all (a lost reply): the same envelope again is
                # dropped as a repeat by subscribers, so retrying is safe here.
                if time.monotonic() + delay > deadline:
                    raise
                logger.info("reliable topic %r: retrying a publish", self.name, exc_info=True)
            except TimeoutError:  # not a hazelkit error: this attempt's own cut-off
                if not scope.expired():
                    raise
                raise IndeterminateOperationError(
                    f"reliable topic {self.name!r}: the write was not confirmed within"
                    f" {timeout:g} s; the message may or may not have been stored",
                    operation=f"publish to {self.name!r}",
                ) from None
            else:
                if sequence >= 0:
                    return sequence
                if self.on_full is FullPolicy.FAIL:
                    raise CapacityError(f"reliable topic {self.name!r} is full")
                if time.monotonic() + delay > deadline:
                    raise OperationTimeoutError(
                        f"reliable topic {self.name!r} stayed full for {timeout:g} s"
                    )
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)

    def subscribe(
        self,
        start: Start = "latest",
        *,
        tolerate_loss: bool = False,
        buffer: int = 1024,
        overflow: Overflow | str = Overflow.BLOCK,
        on_undecodable: Literal["raise", "skip"] = "raise",
    ) -> ReliableSubscription[T]:
        """A subscription yielding :class:`ReliableMessage` objects in sequence order.

        ``start``: ``"latest"`` (messages published from now on), ``"oldest"`` (every
        message still stored) or a sequence (e.g. a previous subscription's
        ``next_sequence``, the point after the last message it handed out: resuming
        there skips nothing and, within the last 512 messages, repeats nothing).
        Iterate it at once, or ``await`` / ``async with`` it to wait until its start is
        fixed. A reader task fetches batches into a local buffer of
        ``buffer`` messages: with ``BLOCK`` (the default) it waits for the subscriber,
        so the only loss is by overwriting in the ringbuffer (reported); ``DROP`` and
        ``SLIDE`` discard locally instead, counted in ``statistics().dropped``.

        Falling behind the head raises MessageLossError from the iteration (which then
        ends) unless ``tolerate_loss``, which yields a :class:`MessageLoss` marker
        instead and goes on. A message this node cannot decode (another client's item,
        a type not registered here, a missing key) never ends the subscription: with
        ``on_undecodable="raise"`` the iteration raises an UndecodableError (with its
        bytes and ``sequence``) in its place and the next call goes on after it; with
        ``"skip"`` its bytes go to the List ``hazelkit.undecodable/TOPIC``, it is
        counted in ``undecodable`` and logged. While the grid cannot be reached the reader
        retries; after 60 s of failures in a row the subscription ends with the last
        error (ClusterUnavailableError, say), and a new one can resume at its
        ``next_sequence``.
        """
        _check_start(start)
        policy = check_buffer(buffer, overflow, block=True)
        if on_undecodable not in ("raise", "skip"):
            raise ConfigurationError(
                f"on_undecodable must be 'raise' or 'skip', not {on_undecodable!r}"
            )
        ring, codec, cluster, name = self._ring, self._cluster.codec, self._cluster, self.name

        async def skip(sequence: int, data: bytes, error: SerializationError) -> None:
            what = f"message {sequence} of reliable topic {name!r} could not be decoded"
            await park(cluster, name, data, error, what=what)  # logs where the bytes went

        async def feed(subscription: ReliableSubscription[T]) -> None:
            reader = Reader(
                ring,
                codec,
                subscription,
                topic=name,
                tolerate_loss=tolerate_loss,
                skip_undecodable=skip if on_undecodable == "skip" else None,
                place=place_of(cluster, "reliable topic", name),
            )
            await reader.run(start)

        subscription: ReliableSubscription[T] = ReliableSubscription(
            capacity=buffer, overflow=policy
        )
        return background_subscription(
            self._cluster, feed, subscription, name=f"reliable topic {self.name!r}"
        )

    async def head(self) -> int:
        """The oldest stored sequence."""
        return await self._ring.head()

    async def tail(self) -> int:
        """The newest stored sequence (``head() - 1`` when empty)."""
        return await self._ring.tail()

    async def destroy(self) -> None:
        """Remove the ringbuffer and its messages; subscribers find it reset."""
        await self._ring.destroy()

    def __repr__(self) -> str:
        return f"<ReliableTopic {self.name!r} of {self._cluster.url}>"


def _check_count(what: str, value: int | None, *, minimum: int) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigurationError(f"{what} must be None or an int >= {minimum}, not {value!r}")
    return value


def _check_policy(on_full: FullPolicy | str, ttl: int | None) -> FullPolicy:
    try:
        policy = FullPolicy(on_full)
    except ValueError:
        raise ConfigurationError(
            f"unknown on_full policy {on_full!r}: use 'overwrite', 'fail' or 'wait'"
        ) from None
    if policy is not FullPolicy.OVERWRITE and ttl is None:
        raise ConfigurationError(
            f"on_full={policy.value!r} needs a ttl: without one the ringbuffer always"
            " overwrites its oldest message and is never full"
        )
    return policy


def _check_timeout(timeout: float) -> float:
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout >= 0:
        raise ConfigurationError(f"timeout must be a number of seconds >= 0, not {timeout!r}")
    return float(timeout)


def _check_start(start: object) -> None:
    if start in ("oldest", "latest"):
        return
    if isinstance(start, bool) or not isinstance(start, int) or start < 0:
        raise ConfigurationError(
            f"start must be 'oldest', 'latest' or a sequence >= 0, not {start!r}"
        )
