"""ReliableTopic publishing from one Cluster: grouped into batches, in order, and a
publish that gives up while queued is never stored; on both backends."""

from __future__ import annotations

import asyncio
from typing import Any

import anyio
import pytest

import hazelkit
from hazelkit import CapacityError, OperationTimeoutError
from hazelkit._reliable_reader import ReliableSubscription
from hazelkit._reliable_topic import ReliableTopic


async def take(subscription: ReliableSubscription[Any], count: int) -> list[Any]:
    with anyio.fail_after(20):
        return [await subscription.get() for _ in range(count)]


class SlowRing:
    """A ringbuffer whose writes are counted, and held until ``release`` is set."""

    def __init__(self, ring: Any) -> None:
        self._ring = ring
        self.batches: list[int] = []
        self.release = asyncio.Event()
        self.release.set()

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self._ring, attribute)

    async def add_all(self, items: Any, policy: Any) -> int:
        self.batches.append(len(items))
        await self.release.wait()
        return int(await self._ring.add_all(items, policy))


def slowed(topic: ReliableTopic[Any]) -> SlowRing:
    ring = SlowRing(topic._ring)
    topic._ring_cache = ring  # type: ignore[assignment]
    return ring


async def test_concurrent_publishes_are_grouped_and_keep_their_order(
    cluster: hazelkit.Cluster, name: str
) -> None:
    topic = cluster.reliable_topic(name)
    ring = slowed(topic)
    async with topic.subscribe() as subscription:
        ring.release.clear()  # the first publish is on its way; the others queue
        first = asyncio.ensure_future(topic.publish(0))
        await asyncio.sleep(0.05)
        rest = [asyncio.ensure_future(topic.publish(i)) for i in range(1, 50)]
        await asyncio.sleep(0.05)
        ring.release.set()
        sequences = await asyncio.gather(first, *rest)
        got = await take(subscription, 50)
    assert ring.batches == [1, 49]  # one round trip for the 49 that waited
    assert [m.value for m in got] == list(range(50))  # in the order they were published
    assert sequences == [m.sequence for m in got]  # each publish returned its own


async def test_a_large_publish_all_stays_contiguous_among_concurrent_publishes(
    cluster: hazelkit.Cluster, name: str
) -> None:
    topic = cluster.reliable_topic(name, capacity=5000)
    ring = slowed(topic)
    async with topic.subscribe() as subscription:
        ring.release.clear()
        singles = [asyncio.ensure_future(topic.publish(("single", i))) for i in range(5)]
        await asyncio.sleep(0.05)
        bulk = asyncio.ensure_future(topic.publish_all(("bulk", i) for i in range(1500)))
        await asyncio.sleep(0.05)
        later = [asyncio.ensure_future(topic.publish(("later", i))) for i in range(5)]
        ring.release.set()
        await asyncio.gather(*singles, bulk, *later)
        got = [m.value for m in await take(subscription, 1510)]
    assert got[:5] == [("single", i) for i in range(5)]
    assert got[5:1505] == [("bulk", i) for i in range(1500)]
    assert got[1505:] == [("later", i) for i in range(5)]
    assert max(ring.batches) <= 999


async def test_a_publish_that_gives_up_while_queued_is_never_stored(
    cluster: hazelkit.Cluster, name: str
) -> None:
    topic = cluster.reliable_topic(name)
    ring = slowed(topic)
    ring.release.clear()
    first = asyncio.ensure_future(topic.publish("first"))
    await asyncio.sleep(0.05)
    cancelled = asyncio.ensure_future(topic.publish("cancelled"))
    with pytest.raises(OperationTimeoutError, match="was not stored"):
        await topic.publish("timed out", timeout=0.2)
    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    ring.release.set()
    assert await first == 0
    assert await topic.publish("next") == 1
    async with topic.subscribe("oldest") as subscription:
        assert [m.value for m in await take(subscription, 2)] == ["first", "next"]
    assert ring.batches == [1, 1]


async def test_a_failed_batch_fails_its_publishes_and_the_next_goes_on(
    cluster: hazelkit.Cluster, name: str
) -> None:
    topic = cluster.reliable_topic(name, capacity=2, ttl=60, on_full="fail")
    await topic.publish_all(["a", "b"])
    ring = slowed(topic)
    ring.release.clear()
    blocker = asyncio.ensure_future(topic.publish("full 1"))
    await asyncio.sleep(0.05)
    queued = [asyncio.ensure_future(topic.publish(f"full {i}")) for i in range(2, 5)]
    await asyncio.sleep(0.05)
    ring.release.set()
    outcomes = await asyncio.gather(blocker, *queued, return_exceptions=True)
    assert all(isinstance(outcome, CapacityError) for outcome in outcomes)
    assert ring.batches == [1, 3]
    other = cluster.reliable_topic(name)  # overwrites: a different policy, not batched
    assert await other.publish("c") == 2


async def test_closing_the_cluster_fails_queued_publishes(url: str, name: str) -> None:
    other = await hazelkit.connect(url)
    try:
        topic = other.reliable_topic(name)
        ring = slowed(topic)
        ring.release.clear()
        first = asyncio.ensure_future(topic.publish("first"))
        await asyncio.sleep(0.05)
        queued = asyncio.ensure_future(topic.publish("queued"))
        await asyncio.sleep(0.05)
    finally:
        with anyio.fail_after(10):
            await other.close()
    ring.release.set()  # the first publish's write was on its way before the close
    with anyio.fail_after(10):
        outcomes = await asyncio.gather(first, queued, return_exceptions=True)
    # The write under way completes (the embedded grid outlives a Cluster) or fails with
    # the closed client; the queued publish is never stored.
    assert outcomes[0] == 0 or isinstance(outcomes[0], hazelkit.ClusterClosedError)
    assert isinstance(outcomes[1], hazelkit.ClusterClosedError)
