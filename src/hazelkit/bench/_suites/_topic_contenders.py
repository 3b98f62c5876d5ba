"""The contenders of the ReliableTopic benchmark and the publish-to-receive round.

Each contender has one subscriber, started before the first round and kept to the
end, and numbers its messages so that the subscriber can match each receipt with the
moment its publish call began. hazelkit publishes ``(number, text)`` through one
:class:`~hazelkit.ReliableTopic` handle per publisher task (the handles of one Cluster
share one publisher with up to four lanes, each storing one batch at a time to keep its
messages in order and grouping the publishes made meanwhile into its next) and receives
through ``subscribe()``. The
raw client's ReliableTopic (same ringbuffer machinery, configured to read batches as
large as hazelkit's) publishes the number and text as pre-encoded bytes from every
task through one proxy, and receives them in a listener callback without decoding.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import AsyncIterator, Callable
from typing import Any, Protocol

import hazelkit
from hazelkit._backends.protocol import MAX_READ_BATCH
from hazelkit._core import _lowlevel as lowlevel
from hazelkit._core._exceptions import HazelkitError
from hazelkit.bench._runner import Load
from hazelkit.bench._suites._points import enter_contenders
from hazelkit.bench._suites._raw_client import blob, raw_client

__all__ = ["EMBEDDED", "HAZELKIT", "RAW", "TopicContender", "deliver", "open_contenders"]

HAZELKIT = "hazelkit"
RAW = "raw client"
EMBEDDED = "hazelkit embedded"
#: The text every message carries (the whole message is about 80 bytes).
TEXT = "a reliable topic message of a typical size for an event notice.."
#: How long a round waits for the last messages to arrive before it fails.
DELIVERY_TIMEOUT = 30.0
#: Messages published but not yet received at most: a publisher waits above this, so
#: no subscriber falls behind far enough to lose messages to the ringbuffer's overwrite
#: (an embedded publish yields to the event loop only now and then).
WINDOW = 1000
MAX_PUBLISHERS = 4


def _ignore(number: int) -> None:
    pass


class TopicContender(Protocol):
    """One way of publishing numbered messages to a subscriber in the same process."""

    name: str
    #: Called with a message's number when the subscriber receives it.
    on_receive: Callable[[int], None]
    #: The numbers not used yet (unique across rounds).
    numbers: itertools.count[int]

    async def publish(self, publisher: int, number: int) -> None: ...


class HazelkitTopic:
    def __init__(self, name: str, cluster: hazelkit.Cluster, topic: str) -> None:
        self.name = name
        self.on_receive: Callable[[int], None] = _ignore
        self.numbers: itertools.count[int] = itertools.count()
        self.handles = [cluster.reliable_topic(topic) for _ in range(MAX_PUBLISHERS)]
        self._cluster = cluster

    async def publish(self, publisher: int, number: int) -> None:
        await self.handles[publisher].publish((number, TEXT))

    async def start(self) -> None:
        self.subscription = subscription = await self.handles[0].subscribe()

        async def receive() -> None:
            async for message in subscription:
                self.on_receive(message.value[0])  # type: ignore[union-attr]

        lowlevel.spawn(self._cluster, receive(), name="benchmark subscriber")

    async def stop(self) -> None:
        """Unsubscribe, then remove the topic (in this order: a reader left on a
        destroyed embedded ringbuffer holds up closing the Cluster for 5 s)."""
        await self.subscription.aclose()
        await self.handles[0].destroy()


class RawTopic:
    def __init__(self, proxy: Any) -> None:
        self.name = RAW
        self.proxy = proxy
        self.on_receive: Callable[[int], None] = _ignore
        self.numbers: itertools.count[int] = itertools.count()
        self._text = TEXT.encode()

    async def publish(self, publisher: int, number: int) -> None:
        await self.proxy.publish(blob(number.to_bytes(8, "big") + self._text))

    def _received(self, message: Any) -> None:
        self.on_receive(int.from_bytes(message.message.data[:8], "big"))

    async def start(self) -> None:
        await self.proxy.add_listener(self._received)


async def deliver(contender: TopicContender, *, publishers: int, duration: float) -> Load:
    """Publishers publish for ``duration`` seconds, each one message at a time and
    yielding to the event loop after each (pausing while :data:`WINDOW` messages are on
    their way); the round ends when the subscriber
    has received every message, and lasts until then. Its latencies run from each
    publish call to the receipt of that message."""
    clock = time.perf_counter
    sent: dict[int, float] = {}
    latencies: list[float] = []
    expected: list[int] = []
    complete, room = asyncio.Event(), asyncio.Event()
    began = clock()
    deadline, last = began + duration, began

    def received(number: int) -> None:
        nonlocal last
        start = sent.pop(number, None)
        if start is None:  # not published by this round
            return
        last = clock()
        latencies.append(last - start)
        if len(sent) <= WINDOW // 2:
            room.set()
        if expected and len(latencies) >= expected[0]:
            complete.set()

    async def publish(publisher: int) -> int:
        count = 0
        while count == 0 or clock() < deadline:  # at least one, however late it starts
            start = clock()
            while len(sent) >= WINDOW:
                room.clear()
                await asyncio.wait_for(room.wait(), DELIVERY_TIMEOUT)
            number = next(contender.numbers)
            sent[number] = start
            await contender.publish(publisher, number)
            count += 1
            await asyncio.sleep(0)  # an embedded publish seldom yields: let the subscriber in
        return count

    contender.on_receive = received
    try:
        expected.append(sum(await asyncio.gather(*(publish(p) for p in range(publishers)))))
        if len(latencies) < expected[0]:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(complete.wait(), DELIVERY_TIMEOUT)
    finally:
        contender.on_receive = _ignore
    if len(latencies) < expected[0]:
        raise HazelkitError(
            f"{contender.name}: {len(latencies)} of {expected[0]} messages arrived within "
            f"{DELIVERY_TIMEOUT:g} s"
        )
    return Load(len(latencies), last - began, latencies)


@contextlib.asynccontextmanager
async def _hazelkit(label: str, url: str, name: str) -> AsyncIterator[HazelkitTopic]:
    async with hazelkit.connect(url) as cluster:
        contender = HazelkitTopic(label, cluster, name)
        await contender.start()
        try:
            yield contender
        finally:
            await contender.stop()


@contextlib.asynccontextmanager
async def _raw(url: str, name: str) -> AsyncIterator[RawTopic]:
    batch = {name: {"read_batch_size": MAX_READ_BATCH}}
    async with raw_client(url, reliable_topics=batch) as client:
        contender = RawTopic(await client.get_reliable_topic(name))
        try:
            await contender.start()
            yield contender
        finally:
            await contender.proxy.destroy()


@contextlib.asynccontextmanager
async def open_contenders(
    hazelcast_url: str | None, names: dict[str, str]
) -> AsyncIterator[list[TopicContender]]:
    """Every contender available, subscribed, each on its own topic named in ``names``;
    unsubscribed and destroyed on exit."""
    async with contextlib.AsyncExitStack() as stack:
        contenders: list[TopicContender] = await enter_contenders(
            stack,
            names,
            hazelcast_url=hazelcast_url,
            labels=(HAZELKIT, RAW, EMBEDDED),
            open_hazelkit=_hazelkit,
            open_raw=_raw,
        )
        yield contenders
