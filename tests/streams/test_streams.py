"""Local buffering and the shared stream shape: overflow policies, statistics, start-up,
and cluster lifecycle and membership events as the same kind of stream."""

from __future__ import annotations

import anyio
import pytest

import hazelkit
from hazelkit import ClusterState, Overflow
from hazelkit._core._buffer import MessageBuffer
from hazelkit._core._sink import pipe
from hazelkit._core._subscription import Subscription, background_subscription


async def test_block_makes_the_producer_wait_and_loses_nothing() -> None:
    buffer: MessageBuffer[int] = MessageBuffer(2, Overflow.BLOCK)
    produced: list[int] = []

    async def produce() -> None:
        for i in range(6):
            await buffer.put(i)
            produced.append(i)

    async with anyio.create_task_group() as tg:
        tg.start_soon(produce)
        await anyio.sleep(0.1)
        assert produced == [0, 1]  # waiting for room
        got = [await buffer.get(timeout=5) for _ in range(6)]
    assert got == list(range(6))
    stats = buffer.statistics()
    assert (stats.dropped, stats.delivered, stats.buffered) == (0, 6, 0)
    buffer.put_nowait(1)
    buffer.put_nowait(2)
    with pytest.raises(OverflowError):
        buffer.put_nowait(3)  # a full BLOCK buffer cannot take an item without waiting


@pytest.mark.parametrize(
    ("overflow", "kept"), [(Overflow.DROP, [0, 1, 2]), (Overflow.SLIDE, [7, 8, 9])]
)
async def test_drop_and_slide_count_what_they_discard(overflow: Overflow, kept: list[int]) -> None:
    subscription: Subscription[int] = Subscription(capacity=3, overflow=overflow)
    results = [subscription.push(i) for i in range(10)]
    assert results[:3] == [True] * 3
    assert results[3:] == [False] * 7
    subscription.end()
    assert [item async for item in subscription] == kept
    stats = subscription.statistics()
    assert stats.dropped == 7
    assert stats.delivered == 3
    assert stats.overflow is overflow


async def test_a_subscription_waits_for_its_source_to_start() -> None:
    subscription: Subscription[int] = Subscription(started=False)
    with pytest.raises(hazelkit.OperationTimeoutError):
        await subscription.wait_started(timeout=0.05)
    subscription.mark_started()
    assert await subscription is subscription
    failed: Subscription[int] = Subscription(started=False)
    failed.end(hazelkit.ConfigurationError("bad start"))
    with pytest.raises(hazelkit.ConfigurationError, match="bad start"):
        async with failed:
            pass


async def test_lifecycle_events_tell_a_clusters_life_and_end_with_it(url: str) -> None:
    node = hazelkit.connect(url)
    events = node.lifecycle_events()
    await node.start()
    await node.close()
    with anyio.fail_after(10):
        got = [(event.previous, event.state) async for event in events]
    assert got == [
        (ClusterState.STARTING, ClusterState.RUNNING),
        (ClusterState.RUNNING, ClusterState.CLOSING),
        (ClusterState.CLOSING, ClusterState.CLOSED),
    ]
    assert events.closed


async def test_lifecycle_and_membership_events_are_streams_too(
    url: str, cluster: hazelkit.Cluster, name: str
) -> None:
    async with cluster.lifecycle_events() as lifecycle, cluster.membership_events() as members:
        assert isinstance(lifecycle, Subscription)
        assert isinstance(members, Subscription)
        target = cluster.topic(name)
        async with target.subscribe() as copies:
            node = await hazelkit.connect(url)
            await node.close()
            if url.startswith("memory://"):  # Hazelcast clients are not members
                with anyio.fail_after(10):
                    event = await members.get()
                assert event.joined
            members.end()
            # a stream can be piped into a topic like any other source
            forwarded = await pipe(members, target, transform=lambda e: e.member.address)
            assert forwarded == (1 if url.startswith("memory://") else 0)
            for _ in range(forwarded):
                with anyio.fail_after(10):
                    assert (await copies.get()).value.startswith("memory://")
    assert lifecycle.statistics().dropped == 0
    assert cluster.state is ClusterState.RUNNING


async def test_a_source_that_crashes_ends_its_subscription_with_an_error(
    cluster: hazelkit.Cluster, caplog: pytest.LogCaptureFixture
) -> None:
    async def feed(subscription: Subscription[int]) -> None:
        subscription.mark_started()
        subscription.push(1)
        raise RuntimeError("a bug in the source")

    subscription = background_subscription(
        cluster, feed, Subscription(started=False), name="crashing source"
    )
    with anyio.fail_after(10):
        assert await subscription.get() == 1
        with pytest.raises(hazelkit.HazelkitError, match="crashing source") as caught:
            await subscription.get()
    assert isinstance(caught.value.__cause__, RuntimeError)
