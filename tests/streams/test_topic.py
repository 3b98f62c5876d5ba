"""Topic: publish/subscribe, buffers and overflow, sinks and piping, on both backends."""

from __future__ import annotations

import anyio
import pytest

import hazelkit
from hazelkit import ConfigurationError, Overflow, lowlevel
from hazelkit._core._sink import Sink, pipe
from hazelkit._streams._topic import Message


async def test_every_subscriber_gets_every_message_in_order(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str
) -> None:
    async with cluster.topic(name).subscribe() as here, cluster2.topic(name).subscribe() as there:
        topic = cluster.topic(name)
        for i in range(20):
            await topic.publish({"n": i})
        await topic.publish_all([{"n": 20}, {"n": 21}])
        for subscription in (here, there):
            with anyio.fail_after(10):
                got = [await subscription.get() for _ in range(22)]
            assert [m.value for m in got] == [{"n": i} for i in range(22)]
            assert all(isinstance(m, Message) and m.publish_time > 0 for m in got)
            assert subscription.statistics().dropped == 0


async def test_no_history(cluster: hazelkit.Cluster, name: str) -> None:
    topic = cluster.topic(name)
    await topic.publish("before")
    subscription = await topic.subscribe()
    try:
        await topic.publish("after")
        with anyio.fail_after(10):
            assert (await subscription.get()).value == "after"
    finally:
        await subscription.aclose()


async def test_async_for_ends_when_the_subscription_closes(
    cluster: hazelkit.Cluster, name: str
) -> None:
    topic = cluster.topic(name)
    subscription = await topic.subscribe()
    received: list[int] = []

    async def read() -> None:
        async for message in subscription:
            received.append(message.value)
            if len(received) == 3:
                await subscription.aclose()

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            tg.start_soon(read)
            for i in range(3):
                await topic.publish(i)
    assert received == [0, 1, 2]
    assert subscription.closed


@pytest.mark.parametrize("overflow", [Overflow.SLIDE, Overflow.DROP])
async def test_full_buffer_drops_by_policy(
    cluster: hazelkit.Cluster, name: str, overflow: Overflow
) -> None:
    topic = cluster.topic(name)
    async with topic.subscribe(buffer=3, overflow=overflow) as subscription:
        for i in range(6):
            await topic.publish(i)
        with anyio.fail_after(10):
            while subscription.statistics().buffered + subscription.statistics().dropped < 6:
                await anyio.sleep(0.02)
        got = [(await subscription.get()).value for _ in range(3)]
        stats = subscription.statistics()
    assert got == ([3, 4, 5] if overflow is Overflow.SLIDE else [0, 1, 2])
    assert stats.dropped == 3
    assert stats.delivered == 3
    assert stats.capacity == 3


async def test_block_is_refused_with_a_clear_error(cluster: hazelkit.Cluster, name: str) -> None:
    with pytest.raises(ConfigurationError, match=r"cannot use Overflow\.BLOCK"):
        cluster.topic(name).subscribe(overflow=Overflow.BLOCK)
    with pytest.raises(ConfigurationError, match="overflow"):
        cluster.topic(name).subscribe(overflow="bogus")
    with pytest.raises(ConfigurationError, match="buffer"):
        cluster.topic(name).subscribe(buffer=0)


async def test_closing_the_cluster_ends_subscriptions(url: str, name: str) -> None:
    async with hazelkit.connect(url) as node:
        subscription = await node.topic(name).subscribe()
    with anyio.fail_after(5):
        async for _ in subscription:
            pytest.fail("no message was published")
    assert subscription.closed


async def test_a_subscription_closed_before_it_started_ends(
    cluster: hazelkit.Cluster, name: str
) -> None:
    subscription = cluster.topic(name).subscribe()
    await subscription.aclose()
    with anyio.fail_after(5):
        await subscription.wait_started()
        assert [m async for m in subscription] == []


async def test_topic_is_a_sink_and_pipe_forwards_a_stream(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str
) -> None:
    source, target = cluster.topic(name + "-in"), cluster2.topic(name + "-out")
    assert isinstance(target, Sink)
    async with source.subscribe() as inbound, target.subscribe() as outbound:
        async with anyio.create_task_group() as tg:

            async def forward() -> None:
                assert await pipe(inbound, target, transform=lambda m: m.value * 10, limit=3) == 3

            tg.start_soon(forward)
            for i in range(1, 4):
                await source.send(i)
        with anyio.fail_after(10):
            assert [(await outbound.get()).value for _ in range(3)] == [10, 20, 30]


async def test_pipe_from_an_async_generator(cluster: hazelkit.Cluster, name: str) -> None:
    async def numbers():  # type: ignore[no-untyped-def]
        for i in range(5):
            yield i

    topic = cluster.topic(name)
    async with topic.subscribe() as subscription:
        assert await pipe(numbers(), topic) == 5
        with anyio.fail_after(10):
            assert [(await subscription.get()).value for _ in range(5)] == list(range(5))
    with pytest.raises(ConfigurationError, match="limit"):
        await pipe(numbers(), topic, limit=-1)


async def test_undecodable_message_ends_the_subscription(
    cluster: hazelkit.Cluster, name: str
) -> None:
    async with cluster.topic(name).subscribe() as subscription:
        await lowlevel.backend(cluster).topic(name).publish(b"\xff\xfe not a hazelkit value")
        with anyio.fail_after(10), pytest.raises(hazelkit.SerializationError):
            await subscription.get()
