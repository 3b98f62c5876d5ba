"""ReliableTopic: sequences, starts, ordering, loss, repeats, full policies, on both backends."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import anyio
import pytest

import hazelkit
from hazelkit import CapacityError, ConfigurationError, MessageLossError, Overflow, lowlevel
from hazelkit._core._sink import pipe
from hazelkit._streams import _reliable_reader
from hazelkit._streams._envelope import pack
from hazelkit._streams._publishing import MAX_LANES
from hazelkit._streams._reliable_reader import (
    MessageLoss,
    Reader,
    ReliableMessage,
    ReliableSubscription,
)
from hazelkit.testing import inject_faults
from timing import GridTime, eventually


async def take(subscription: ReliableSubscription[Any], count: int) -> list[Any]:
    with anyio.fail_after(20):
        return [await subscription.get() for _ in range(count)]


async def test_publish_returns_sequences_and_subscribers_read_in_order(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str
) -> None:
    topic = cluster.reliable_topic(name, capacity=100)
    async with cluster2.reliable_topic(name, capacity=100).subscribe() as subscription:
        assert await topic.publish("a") == 0
        assert await topic.publish({"b": 1}) == 1
        assert await topic.publish_all(["c", "d"]) == 3
        got = await take(subscription, 4)
    assert [m.sequence for m in got] == [0, 1, 2, 3]
    assert [m.value for m in got] == ["a", {"b": 1}, "c", "d"]
    assert all(isinstance(m, ReliableMessage) for m in got)
    assert {m.publisher for m in got} == {topic.publisher}
    assert all(abs(m.publish_time - time.time()) < 60 for m in got)
    assert subscription.next_sequence == 4
    assert await topic.head() == 0
    assert await topic.tail() == 3


async def test_start_oldest_latest_and_sequence(cluster: hazelkit.Cluster, name: str) -> None:
    topic = cluster.reliable_topic(name)
    await topic.publish_all(range(5))
    async with topic.subscribe("oldest") as oldest:
        assert [m.value for m in await take(oldest, 5)] == [0, 1, 2, 3, 4]
    async with topic.subscribe(3) as from_three:
        assert [m.sequence for m in await take(from_three, 2)] == [3, 4]
        resume = from_three.next_sequence
    async with topic.subscribe() as latest, topic.subscribe(resume) as resumed:
        assert latest.next_sequence == 5
        await topic.publish(5)
        assert [m.value for m in await take(latest, 1)] == [5]
        assert [m.value for m in await take(resumed, 1)] == [5]


async def test_several_publishers_interleave_but_each_keeps_its_order(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str
) -> None:
    a, b = cluster.reliable_topic(name), cluster2.reliable_topic(name)
    async with a.subscribe() as subscription:
        async with anyio.create_task_group() as tg:
            for topic, tag in ((a, "a"), (b, "b")):

                async def publish(topic: Any = topic, tag: str = tag) -> None:
                    for i in range(50):
                        await topic.publish((tag, i))

                tg.start_soon(publish)
        got = await take(subscription, 100)
    sequences = [m.sequence for m in got]
    assert sequences == sorted(sequences) == list(range(sequences[0], sequences[0] + 100))
    for tag in "ab":
        assert [m.value[1] for m in got if m.value[0] == tag] == list(range(50))


async def test_handles_of_one_name_on_one_cluster_are_one_publisher(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str
) -> None:
    # A handle per publish must not make every subscriber remember a publisher per
    # handle; and numbering stays in order across handles.
    async with cluster.reliable_topic(name).subscribe() as subscription:
        for i in range(20):
            await cluster.reliable_topic(name).publish(i)
        await cluster2.reliable_topic(name).publish("other node")
        got = await take(subscription, 21)
    assert {m.publisher for m in got[:20]} == {cluster.reliable_topic(name).publisher}
    assert got[20].publisher == cluster2.reliable_topic(name).publisher != got[0].publisher
    assert [m.value for m in got[:20]] == list(range(20))
    assert subscription.duplicates == 0


async def test_falling_behind_raises_message_loss(cluster: hazelkit.Cluster, name: str) -> None:
    topic = cluster.reliable_topic(name, capacity=10)
    await topic.publish_all(range(25))  # sequences 0..24; 0..14 are overwritten
    subscription = topic.subscribe(start=5)
    with anyio.fail_after(20), pytest.raises(MessageLossError) as caught:
        await subscription.get()
    assert caught.value.lost == 10
    assert caught.value.next_sequence == 15
    assert subscription.lost == 10
    with anyio.fail_after(5), pytest.raises(MessageLossError):
        await subscription.get()  # the subscription ended with that error
    async with topic.subscribe(start=caught.value.next_sequence) as resumed:
        assert [m.value for m in await take(resumed, 10)] == list(range(15, 25))


async def test_tolerating_loss_yields_a_marker(cluster: hazelkit.Cluster, name: str) -> None:
    topic = cluster.reliable_topic(name, capacity=10)
    await topic.publish_all(range(25))
    async with topic.subscribe(start=0, tolerate_loss=True) as subscription:
        got = await take(subscription, 11)
    assert got[0] == MessageLoss(lost=15, next_sequence=15)
    assert [m.value for m in got[1:]] == list(range(15, 25))
    assert subscription.lost == 15


async def test_resuming_at_next_sequence_skips_nothing_still_buffered(
    cluster: hazelkit.Cluster, name: str
) -> None:
    topic = cluster.reliable_topic(name)
    await topic.publish_all(range(10))
    async with topic.subscribe("oldest") as first:
        assert [m.value for m in await take(first, 3)] == [0, 1, 2]
        with anyio.fail_after(10):  # the reader has read ahead into the local buffer
            while first.statistics().buffered < 7:
                await anyio.sleep(0.02)
        assert first.next_sequence == 3  # what was handed out, not what was read
    async with topic.subscribe(first.next_sequence) as resumed:
        assert [m.value for m in await take(resumed, 7)] == list(range(3, 10))


async def test_a_slow_blocking_subscriber_is_overtaken_and_told(
    cluster: hazelkit.Cluster, name: str
) -> None:
    topic = cluster.reliable_topic(name, capacity=20)
    async with topic.subscribe(buffer=2, tolerate_loss=True) as subscription:
        await topic.publish_all(range(5))
        with anyio.fail_after(10):
            while subscription.statistics().buffered < 2:
                await anyio.sleep(0.02)
        await topic.publish_all(range(5, 100))  # the reader waits on the full buffer
        got = await take(subscription, 2)
        assert [m.value for m in got] == [0, 1]
        rest: list[Any] = []
        with anyio.fail_after(20):
            while not rest or not isinstance(rest[-1], ReliableMessage) or rest[-1].value != 99:
                rest.append(await subscription.get())
    losses = [item for item in rest if isinstance(item, MessageLoss)]
    values = [item.value for item in rest if isinstance(item, ReliableMessage)]
    assert len(losses) >= 1
    assert sum(loss.lost for loss in losses) + len(values) + 2 == 100
    assert values == sorted(values)
    assert subscription.statistics().dropped == 0


@pytest.mark.parametrize("overflow", [Overflow.DROP, Overflow.SLIDE])
async def test_dropping_subscribers_count_what_they_drop(
    cluster: hazelkit.Cluster, name: str, overflow: Overflow
) -> None:
    topic = cluster.reliable_topic(name)
    await topic.publish_all(range(10))
    async with topic.subscribe("oldest", buffer=4, overflow=overflow) as subscription:
        with anyio.fail_after(10):
            while (stats := subscription.statistics()).buffered + stats.dropped < 10:
                await anyio.sleep(0.02)
        got = [m.value for m in await take(subscription, 4)]
    assert got == ([0, 1, 2, 3] if overflow is Overflow.DROP else [6, 7, 8, 9])
    assert subscription.statistics().dropped == 6


async def test_repeats_of_retried_publishes_are_dropped(
    cluster: hazelkit.Cluster, name: str
) -> None:
    topic = cluster.reliable_topic(name)
    ring = lowlevel.backend(cluster).ringbuffer(name)
    codec = cluster.codec

    def envelope(number: int, value: str) -> bytes:
        return pack("retrying-publisher", number, time.time(), codec.encode(value))

    async with topic.subscribe() as subscription:
        # what a publish retried after a lost reply leaves behind: the same envelope twice
        await ring.add_all([envelope(0, "x"), envelope(0, "x"), envelope(1, "y")])
        await ring.add(envelope(1, "y"))
        await topic.publish("z")
        got = await take(subscription, 3)
    assert [m.value for m in got] == ["x", "y", "z"]
    assert [m.sequence for m in got] == [0, 2, 4]
    assert subscription.duplicates == 2


class StoredButUnconfirmed:
    """A ringbuffer whose first write is stored, then reported as failed (a lost reply,
    or a backup the member could not confirm)."""

    def __init__(self, ring: Any) -> None:
        self._ring = ring
        self.failed = False

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self._ring, attribute)

    async def add_all(self, items: Any, policy: Any) -> int:
        sequence: int = await self._ring.add_all(items, policy)
        if not self.failed:
            self.failed = True
            raise hazelkit.ClusterUnavailableError("backup not confirmed (indeterminate)")
        return sequence


async def test_a_publish_stored_but_reported_failed_is_delivered_once(
    cluster: hazelkit.Cluster, name: str
) -> None:
    topic = cluster.reliable_topic(name)
    async with topic.subscribe() as subscription:
        ring = StoredButUnconfirmed(topic._ring)
        topic._ring_cache = ring  # type: ignore[assignment]
        assert await topic.publish("once") == 1  # retried: stored again at 1
        assert ring.failed
        await topic.publish("next")
        got = await take(subscription, 2)
    assert [m.value for m in got] == ["once", "next"]
    assert subscription.duplicates == 1


async def test_a_write_that_hangs_is_cut_off_at_the_timeout(
    cluster: hazelkit.Cluster, name: str
) -> None:
    faults = inject_faults(cluster)
    faults.hang("ringbuffer.add_all", name=name)  # an unresponsive member: no answer
    topic = cluster.reliable_topic(name)
    started = time.monotonic()
    with pytest.raises(hazelkit.IndeterminateOperationError, match="may or may not"):
        await topic.publish("lost in the network", timeout=0.3)
    # Cut off at its timeout plus the grace of a write under way (slack for a loaded
    # machine: without the cut-off it would never return).
    assert time.monotonic() - started < 0.3 + 0.5 + 3.0
    assert await cluster.reliable_topic(name).publish("next", timeout=5) == 0


async def test_a_publish_waiting_behind_a_retried_one_keeps_its_timeout(
    cluster: hazelkit.Cluster, name: str
) -> None:
    faults = inject_faults(cluster)
    faults.fail("ringbuffer.add_all", name=name, times=10_000)  # no member answers
    stuck = cluster.reliable_topic(name)
    # Every lane busy retrying: the next publish queues behind them.
    retrying = [
        asyncio.ensure_future(stuck.publish("retried", timeout=60)) for _ in range(MAX_LANES)
    ]
    await eventually(lambda: faults.calls("ringbuffer.add_all", name=name) >= MAX_LANES)
    started = time.monotonic()
    with pytest.raises(hazelkit.OperationTimeoutError, match="earlier publish"):
        await cluster.reliable_topic(name).publish("next", timeout=0.3)
    assert time.monotonic() - started < 3
    for task in retrying:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    faults.clear()
    assert await cluster.reliable_topic(name).publish("after", timeout=5) == 0


async def test_a_reset_ringbuffer_is_reported(cluster: hazelkit.Cluster, name: str) -> None:
    topic = cluster.reliable_topic(name, capacity=50)
    await topic.publish_all(range(10))
    async with topic.subscribe("oldest", tolerate_loss=True) as subscription:
        assert len(await take(subscription, 10)) == 10
        await topic.destroy()  # as if every member holding it was lost
        other = cluster.reliable_topic(name, capacity=50)
        await other.publish_all(["after-1", "after-2"])
        got = await take(subscription, 3)
    assert got[0] == MessageLoss(lost=-1, next_sequence=0)
    assert [m.value for m in got[1:]] == ["after-1", "after-2"]


async def test_a_diverged_ringbuffer_is_resumed_without_gaps(
    cluster: hazelkit.Cluster, name: str
) -> None:
    # After a failover the surviving copy may miss the newest messages: model it by
    # rebuilding the ringbuffer with the first messages and then different ones.
    topic = cluster.reliable_topic(name, capacity=50)
    await topic.publish_all(range(5))  # numbers 0..4 of this publisher
    ring = lowlevel.backend(cluster).ringbuffer(name, 50)
    kept = (await ring.read_many(0, 0, 3, 0)).items  # 0, 1, 2 were backed up
    async with topic.subscribe("oldest") as subscription:
        assert [m.value for m in await take(subscription, 5)] == [0, 1, 2, 3, 4]
        await ring.destroy()
        await ring.add_all(kept)
        newcomer = cluster.reliable_topic(name, capacity=50)
        await newcomer.publish("new")  # takes sequence 3, where "3" was
        await topic.publish_all(["p", "q"])  # the old publisher goes on (numbers 5, 6)
        got = await take(subscription, 3)
    assert [m.value for m in got] == ["new", "p", "q"]
    assert [m.sequence for m in got] == [3, 4, 5]


async def test_a_subscriber_that_began_on_an_empty_topic_survives_losing_all_it_read(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str
) -> None:
    # A failover whose surviving copy lacks every message this subscriber read (they
    # were not backed up yet) is no reset: nothing confirmed was lost.
    topic = cluster.reliable_topic(name, capacity=50)
    ring = lowlevel.backend(cluster).ringbuffer(name, 50)
    async with topic.subscribe() as subscription:  # "latest", on an empty ringbuffer
        await topic.publish("x")
        assert [m.value for m in await take(subscription, 1)] == ["x"]
        x = (await ring.read_many(0, 0, 1, 0)).items[0]
        await ring.destroy()  # the promoted backup never got "x"
        await cluster2.reliable_topic(name, capacity=50).publish("y")  # takes sequence 0
        await ring.add(x)  # the publisher of "x" stores it again
        await topic.publish("z")
        got = await take(subscription, 2)
    assert [m.value for m in got] == ["y", "z"]
    assert [m.sequence for m in got] == [0, 2]
    assert subscription.duplicates == 1
    assert subscription.lost == 0


class MovingHead:
    """A ringbuffer whose head moves on right after it is first read (a busy publisher)."""

    def __init__(self, ring: Any, publish: Any) -> None:
        self._ring = ring
        self._publish = publish

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self._ring, attribute)

    async def head(self) -> int:
        head = await self._ring.head()
        if self._publish is not None:
            publish, self._publish = self._publish, None
            await publish()
        return head


async def test_oldest_on_a_busy_full_ringbuffer_starts_at_the_new_head(
    cluster: hazelkit.Cluster, name: str
) -> None:
    topic = cluster.reliable_topic(name, capacity=10)
    await topic.publish_all(range(20))  # full: head 10
    ring = MovingHead(topic._ring, lambda: topic.publish_all(range(20, 25)))
    subscription: ReliableSubscription[Any] = ReliableSubscription(
        capacity=100, overflow=Overflow.BLOCK
    )
    reader = Reader(ring, cluster.codec, subscription, topic=name, tolerate_loss=False)
    task = lowlevel.spawn(cluster, reader.run("oldest"), name="test reader")
    try:
        got = await take(subscription, 10)
    finally:
        task.cancel()
    assert [m.value for m in got] == list(range(15, 25))  # from the head when first read
    assert subscription.lost == 0


async def test_resuming_drops_repeats_of_messages_before_the_start(
    cluster: hazelkit.Cluster, name: str
) -> None:
    topic = cluster.reliable_topic(name)
    ring = lowlevel.backend(cluster).ringbuffer(name)
    async with topic.subscribe("oldest") as first:
        await topic.publish("pay-invoice-42")
        assert [m.value for m in await take(first, 1)] == ["pay-invoice-42"]
        cursor = first.next_sequence  # what a consumer commits with its state
    stored = (await ring.read_many(0, 0, 1, 0)).items[0]
    await ring.add(stored)  # the publisher's retry after a lost reply, stored again
    await topic.publish("next")
    async with topic.subscribe(cursor) as resumed:
        got = await take(resumed, 1)
    assert [m.value for m in got] == ["next"]
    assert [m.sequence for m in got] == [2]
    assert resumed.duplicates == 1


async def test_full_policies(cluster: hazelkit.Cluster, grid_time: GridTime, name: str) -> None:
    faults = inject_faults(cluster)
    failing = cluster.reliable_topic(name + "-f", capacity=2, ttl=2, on_full="fail")
    await failing.publish_all(["a", "b"])
    with pytest.raises(CapacityError, match="full"):
        await failing.publish("c")
    assert await failing.tail() == 1
    waiting = cluster.reliable_topic(name + "-w", capacity=2, ttl=2, on_full="wait")
    await waiting.publish_all(["a", "b"])
    with pytest.raises(hazelkit.OperationTimeoutError, match="full"):
        await waiting.publish("c", timeout=0.3)
    started = time.monotonic()
    tries = faults.calls("ringbuffer.add_all", name=name + "-w")
    publishing = asyncio.ensure_future(waiting.publish("c", timeout=10))
    if grid_time.clock is not None:  # the embedded grid ages items on its clock
        await eventually(lambda: faults.calls("ringbuffer.add_all", name=name + "-w") > tries)
        grid_time.clock.advance(2)  # "a" and "b" are past their TTL: room for "c"
    assert await publishing == 2
    assert time.monotonic() - started < 6
    overwriting = cluster.reliable_topic(name + "-o", capacity=2)
    assert await overwriting.publish_all(["a", "b", "c"]) == 2
    assert await overwriting.head() == 1


async def test_reliable_topic_as_a_sink(cluster: hazelkit.Cluster, name: str) -> None:
    source, target = cluster.reliable_topic(name + "-in"), cluster.reliable_topic(name + "-out")
    await source.publish_all(range(3))
    async with source.subscribe("oldest") as inbound, target.subscribe() as outbound:
        assert await pipe(inbound, target, transform=lambda m: m.value + 1, limit=3) == 3
        assert [m.value for m in await take(outbound, 3)] == [1, 2, 3]
    assert await target.send(9) == 3


async def test_bad_arguments(cluster: hazelkit.Cluster, name: str) -> None:
    with pytest.raises(ConfigurationError, match="needs a ttl"):
        cluster.reliable_topic(name, on_full="fail")
    with pytest.raises(ConfigurationError, match="on_full"):
        cluster.reliable_topic(name, on_full="later")
    with pytest.raises(ConfigurationError, match="capacity"):
        cluster.reliable_topic(name, capacity=1)
    with pytest.raises(ConfigurationError, match="ttl"):
        cluster.reliable_topic(name, ttl=0)
    topic = cluster.reliable_topic(name)
    for start in (-1, "newest", 1.5, True):
        with pytest.raises(ConfigurationError, match="start"):
            topic.subscribe(start)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="buffer"):
        topic.subscribe(buffer=0)
    with pytest.raises(ConfigurationError, match="timeout"):
        await topic.publish(1, timeout=-1)
    assert await topic.tail() == -1


async def test_start_beyond_the_tail_is_a_loss(cluster: hazelkit.Cluster, name: str) -> None:
    topic = cluster.reliable_topic(name)
    await topic.publish("only")
    with pytest.raises(MessageLossError, match="beyond the tail"):
        await topic.subscribe(start=40)


async def test_closing_the_cluster_ends_subscriptions(url: str, name: str) -> None:
    async with hazelkit.connect(url) as node:
        subscription = await node.reliable_topic(name).subscribe()
    with anyio.fail_after(10):
        assert [m async for m in subscription] == []


class Unreachable:
    """A ringbuffer on a grid that cannot be reached."""

    def __getattr__(self, attribute: str) -> Any:
        async def fail(*args: Any) -> Any:
            raise hazelkit.ClusterUnavailableError("no member answers")

        return fail


async def test_a_reader_that_keeps_failing_ends_its_subscription(
    cluster: hazelkit.Cluster, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_reliable_reader, "GIVE_UP_AFTER", 0.5)
    subscription: ReliableSubscription[Any] = ReliableSubscription(
        capacity=10, overflow=Overflow.BLOCK
    )
    reader = Reader(Unreachable(), cluster.codec, subscription, topic=name, tolerate_loss=False)  # type: ignore[arg-type]
    lowlevel.spawn(cluster, reader.run("latest"), name="test reader")
    with anyio.fail_after(10), pytest.raises(hazelkit.ClusterUnavailableError):
        await subscription  # waiting for the start does not hang for ever
    with pytest.raises(hazelkit.ClusterUnavailableError):
        await subscription.get(timeout=1)
