"""ReliableTopic publishing from one Cluster: grouped into batches per lane, in order,
and a publish that gives up while queued is never stored; on both backends."""

from __future__ import annotations

import asyncio
from typing import Any

import anyio
import pytest

import hazelkit
from hazelkit import CapacityError, OperationTimeoutError
from hazelkit._streams._publishing import MAX_LANES
from hazelkit._streams._reliable_reader import ReliableSubscription
from hazelkit._streams._reliable_topic import ReliableTopic
from hazelkit.testing import Faults, inject_faults
from timing import eventually


async def take(subscription: ReliableSubscription[Any], count: int) -> list[Any]:
    with anyio.fail_after(20):
        return [await subscription.get() for _ in range(count)]


def writes(faults: Faults, topic: ReliableTopic[Any]) -> int:
    """How many ringbuffer writes (batches) the topic made through ``faults``' Cluster."""
    return faults.calls("ringbuffer.add_all", name=topic.name)


async def fill_lanes(topic: ReliableTopic[Any], faults: Faults) -> list[asyncio.Task[int]]:
    """Start one publish per lane, each held in its ringbuffer write until
    ``faults.release()``: later publishes queue."""
    before = writes(faults, topic)
    faults.hang("ringbuffer.add_all", name=topic.name, times=MAX_LANES)
    held = [asyncio.ensure_future(topic.publish(("held", lane))) for lane in range(MAX_LANES)]
    await eventually(lambda: writes(faults, topic) == before + MAX_LANES)  # one per lane
    return held


class BatchSizes:
    """A ringbuffer whose writes are recorded with their sizes, and held until
    ``release`` is set. (Faults count calls but do not see their arguments.)"""

    def __init__(self, ring: Any) -> None:
        self._ring = ring
        self.batches: list[int] = []
        self.release = asyncio.Event()

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self._ring, attribute)

    async def add_all(self, items: Any, policy: Any) -> int:
        self.batches.append(len(items))
        await self.release.wait()
        return int(await self._ring.add_all(items, policy))


async def test_concurrent_publishes_are_grouped_per_lane(
    cluster: hazelkit.Cluster, name: str
) -> None:
    faults = inject_faults(cluster)
    topic = cluster.reliable_topic(name)
    async with topic.subscribe() as subscription:
        held = await fill_lanes(topic, faults)
        queued = [asyncio.ensure_future(topic.publish(i)) for i in range(48)]
        await asyncio.sleep(0.05)  # (loop turns: every publish is queued by then)
        faults.release()
        sequences = await asyncio.gather(*held, *queued)
        got = await take(subscription, 52)
    # One round trip per lane for the 48 that waited, not one per publish.
    assert writes(faults, topic) == 2 * MAX_LANES
    assert sorted(m.value for m in got if isinstance(m.value, int)) == list(range(48))
    assert sorted(sequences) == [m.sequence for m in got]  # each returned its own
    by_value = {m.value if isinstance(m.value, int) else tuple(m.value): m for m in got}
    assert [by_value[i].sequence for i in range(48)] == sequences[MAX_LANES:]
    assert {m.publisher for m in got} == {topic.publisher}  # lanes are one node's


async def test_publishes_one_after_another_keep_their_order(
    cluster: hazelkit.Cluster, name: str
) -> None:
    topic = cluster.reliable_topic(name)

    async def publisher(number: int) -> list[int]:
        return [await topic.publish((number, i)) for i in range(30)]

    results = await asyncio.gather(*(publisher(n) for n in range(6)))  # 6 tasks, 4 lanes
    for sequences in results:
        assert sequences == sorted(sequences)  # each task's messages in its order
    async with topic.subscribe("oldest") as subscription:
        got = [m.value for m in await take(subscription, 180)]
    for number in range(6):
        assert [i for n, i in got if n == number] == list(range(30))


async def test_a_large_publish_all_keeps_its_order_among_concurrent_publishes(
    cluster: hazelkit.Cluster, name: str
) -> None:
    topic = cluster.reliable_topic(name, capacity=5000)
    ring = BatchSizes(topic._ring)
    topic._ring_cache = ring  # type: ignore[assignment]
    async with topic.subscribe() as subscription:
        held = [asyncio.ensure_future(topic.publish(("held", lane))) for lane in range(MAX_LANES)]
        await eventually(lambda: ring.batches == [1] * MAX_LANES)
        singles = [asyncio.ensure_future(topic.publish(("single", i))) for i in range(5)]
        bulk = asyncio.ensure_future(topic.publish_all(("bulk", i) for i in range(1500)))
        later = [asyncio.ensure_future(topic.publish(("later", i))) for i in range(5)]
        await asyncio.sleep(0.05)
        ring.release.set()
        await asyncio.gather(*held, *singles, bulk, *later)
        got = [tuple(m.value) for m in await take(subscription, 1514)]
    assert [value for value in got if value[0] == "bulk"] == [("bulk", i) for i in range(1500)]
    singles_got = sorted(value for value in got if value[0] == "single")
    assert singles_got == [("single", i) for i in range(5)]
    assert max(ring.batches) <= 999


async def test_a_publish_that_gives_up_while_queued_is_never_stored(
    cluster: hazelkit.Cluster, name: str
) -> None:
    faults = inject_faults(cluster)
    topic = cluster.reliable_topic(name)
    held = await fill_lanes(topic, faults)
    cancelled = asyncio.ensure_future(topic.publish("cancelled"))
    with pytest.raises(OperationTimeoutError, match="was not stored"):
        await topic.publish("timed out", timeout=0.2)
    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    faults.release()
    assert sorted(await asyncio.gather(*held)) == list(range(MAX_LANES))
    assert await topic.publish("next") == MAX_LANES
    async with topic.subscribe("oldest") as subscription:
        got = [m.value for m in await take(subscription, MAX_LANES + 1)]
    assert got[-1] == "next"
    assert "cancelled" not in got
    assert "timed out" not in got
    assert writes(faults, topic) == MAX_LANES + 1  # one per held publish, one for "next"


async def test_a_failed_batch_fails_its_publishes_and_the_next_goes_on(
    cluster: hazelkit.Cluster, name: str
) -> None:
    faults = inject_faults(cluster)
    topic = cluster.reliable_topic(name, capacity=2, ttl=60, on_full="fail")
    await topic.publish_all(["a", "b"])
    before = writes(faults, topic)
    held = await fill_lanes(topic, faults)
    queued = [asyncio.ensure_future(topic.publish(f"full {i}")) for i in range(8)]
    await asyncio.sleep(0.05)  # (loop turns: every publish is queued by then)
    faults.release()
    outcomes = await asyncio.gather(*held, *queued, return_exceptions=True)
    assert all(isinstance(outcome, CapacityError) for outcome in outcomes)
    assert writes(faults, topic) - before == 2 * MAX_LANES  # one batch per lane after
    other = cluster.reliable_topic(name)  # overwrites: a different policy, not batched
    assert await other.publish("c") == 2


async def test_closing_the_cluster_fails_queued_publishes(url: str, name: str) -> None:
    other = await hazelkit.connect(url)
    faults = inject_faults(other)
    try:
        topic = other.reliable_topic(name)
        held = await fill_lanes(topic, faults)
        queued = asyncio.ensure_future(topic.publish("queued"))
        await asyncio.sleep(0.05)  # (loop turns: it is queued by then)
    finally:
        with anyio.fail_after(10):
            await other.close()
    faults.release()  # the held writes were on their way before the close
    with anyio.fail_after(10):
        outcomes = await asyncio.gather(*held, queued, return_exceptions=True)
    # A write under way completes (the embedded grid outlives a Cluster) or fails with
    # the closed client; the queued publish is never stored.
    for outcome in outcomes[:-1]:
        assert isinstance(outcome, int | hazelkit.ClusterClosedError)
    assert isinstance(outcomes[-1], hazelkit.ClusterClosedError)


async def test_closing_right_after_a_publish_fails_the_queued_ones_at_once(
    url: str, name: str
) -> None:
    other = await hazelkit.connect(url)
    faults = inject_faults(other)
    topic = other.reliable_topic(name)
    held = await fill_lanes(topic, faults)
    queued = asyncio.ensure_future(topic.publish("queued", timeout=20))
    await asyncio.sleep(0.05)  # (loop turns: it is queued by then)

    async def publish_then_close() -> None:
        faults.release()
        await held[0]  # its lane starts a flusher for "queued" as it returns...
        await other.close()  # ...which the close cancels before its first step

    with anyio.fail_after(10):
        await publish_then_close()
        outcomes = await asyncio.gather(*held, queued, return_exceptions=True)
    assert isinstance(outcomes[-1], hazelkit.ClusterClosedError)  # at once, not in 20 s


async def test_a_large_publish_all_stops_at_its_timeout(
    cluster: hazelkit.Cluster, name: str
) -> None:
    faults = inject_faults(cluster)
    faults.delay("ringbuffer.add_all", 0.3, name=name, times=100)  # each batch takes 0.3 s
    topic = cluster.reliable_topic(name, capacity=10_000)
    with pytest.raises(OperationTimeoutError, match="the other 4001 were not"):
        await topic.publish_all(range(5000), timeout=0.1)  # the first 999 were stored
    assert writes(faults, topic) == 1  # no batch begun after the timeout
