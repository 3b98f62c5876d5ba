"""Conformance of the queue, set and list primitives, on both backends."""

from __future__ import annotations

import time

import anyio
import pytest

import hazelkit
from hazelkit import lowlevel
from hazelkit._backends.protocol import ItemEventType, RawItemEvent


async def wait_for(predicate, timeout: float = 10.0) -> None:
    with anyio.fail_after(timeout):
        while not predicate():
            await anyio.sleep(0.05)


async def test_queue_is_fifo(cluster: hazelkit.Cluster, name: str) -> None:
    queue = lowlevel.backend(cluster).queue(name)
    for item in (b"1", b"2", b"3"):
        assert await queue.offer(item)
    assert await queue.size() == 3
    assert await queue.peek() == b"1"
    assert await queue.items() == [b"1", b"2", b"3"]
    assert await queue.contains(b"2")
    assert await queue.poll() == b"1"
    assert await queue.remove(b"3")
    assert not await queue.remove(b"3")
    assert await queue.poll() == b"2"
    assert await queue.poll() is None
    assert await queue.peek() is None


async def test_queue_poll_waits_with_timeout(cluster: hazelkit.Cluster, name: str) -> None:
    queue = lowlevel.backend(cluster).queue(name)
    started = time.monotonic()
    assert await queue.poll(timeout=0.5) is None
    assert 0.4 <= time.monotonic() - started < 5

    async def offer_later() -> None:
        await anyio.sleep(0.3)
        await queue.offer(b"late")

    async with anyio.create_task_group() as tg:
        tg.start_soon(offer_later)
        assert await queue.poll(timeout=10) == b"late"


async def test_bounded_queue_offer_waits_for_room(cluster: hazelkit.Cluster, name: str) -> None:
    queue = lowlevel.backend(cluster).queue(name, capacity=2)
    assert await queue.remaining_capacity() == 2
    assert await queue.offer(b"a")
    assert await queue.offer(b"b")
    assert await queue.remaining_capacity() == 0
    assert not await queue.offer(b"c")
    started = time.monotonic()
    assert not await queue.offer(b"c", timeout=0.5)
    assert time.monotonic() - started >= 0.4

    async def poll_later() -> None:
        await anyio.sleep(0.3)
        assert await queue.poll() == b"a"

    async with anyio.create_task_group() as tg:
        tg.start_soon(poll_later)
        assert await queue.offer(b"c", timeout=10)
    assert await queue.items() == [b"b", b"c"]


async def test_queue_capacity_conflict_is_a_configuration_error(
    cluster: hazelkit.Cluster, name: str
) -> None:
    await lowlevel.backend(cluster).queue(name, capacity=3).offer(b"x")
    with pytest.raises(hazelkit.ConfigurationError, match=name):
        await lowlevel.backend(cluster).queue(name, capacity=5).offer(b"y")


async def test_unbounded_queue_capacity(cluster: hazelkit.Cluster, name: str) -> None:
    assert await lowlevel.backend(cluster).queue(name).remaining_capacity() == 2**31 - 1


async def test_queue_drain_and_clear(cluster: hazelkit.Cluster, name: str) -> None:
    queue = lowlevel.backend(cluster).queue(name)
    for i in range(5):
        await queue.offer(bytes([i]))
    assert await queue.drain(2) == [b"\x00", b"\x01"]
    assert await queue.drain() == [b"\x02", b"\x03", b"\x04"]
    assert await queue.drain() == []
    await queue.offer(b"x")
    await queue.clear()
    assert await queue.size() == 0


async def test_queue_item_events(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str
) -> None:
    events: list[RawItemEvent] = []
    registration = await lowlevel.backend(cluster).queue(name).listen(events.append)
    other = lowlevel.backend(cluster2).queue(name)
    await other.offer(b"a")
    await other.poll()
    await wait_for(lambda: len(events) >= 2)
    assert [(e.type, e.item) for e in events] == [
        (ItemEventType.ADDED, b"a"),
        (ItemEventType.REMOVED, b"a"),
    ]
    await registration.close()


async def test_waiting_poll_from_another_node(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str
) -> None:
    async def offer_later() -> None:
        await anyio.sleep(0.3)
        await lowlevel.backend(cluster2).queue(name).offer(b"hello")

    async with anyio.create_task_group() as tg:
        tg.start_soon(offer_later)
        assert await lowlevel.backend(cluster).queue(name).poll(timeout=10) == b"hello"


async def test_set(cluster: hazelkit.Cluster, name: str) -> None:
    store = lowlevel.backend(cluster).set(name)
    assert await store.add(b"a")
    assert not await store.add(b"a")
    assert await store.add_all([b"b", b"c"])
    assert not await store.add_all([b"a", b"b"])
    assert not await store.add_all([])
    assert sorted(await store.items()) == [b"a", b"b", b"c"]
    assert await store.size() == 3
    assert await store.contains(b"b")
    assert await store.remove(b"b")
    assert not await store.remove(b"b")
    await store.clear()
    assert await store.size() == 0


async def test_set_events(cluster: hazelkit.Cluster, name: str) -> None:
    store = lowlevel.backend(cluster).set(name)
    events: list[RawItemEvent] = []
    await store.listen(events.append, include_values=False)
    await store.add(b"a")
    await store.remove(b"a")
    await wait_for(lambda: len(events) >= 2)
    assert [(e.type, e.item) for e in events] == [
        (ItemEventType.ADDED, None),
        (ItemEventType.REMOVED, None),
    ]


async def test_list(cluster: hazelkit.Cluster, name: str) -> None:
    store = lowlevel.backend(cluster).list(name)
    await store.append(b"a")
    await store.extend([b"b", b"c"])
    await store.extend([])
    await store.insert(0, b"z")
    await store.insert(4, b"end")
    assert await store.items() == [b"z", b"a", b"b", b"c", b"end"]
    assert await store.get(1) == b"a"
    assert await store.set(1, b"A") == b"a"
    assert await store.pop(0) == b"z"
    assert await store.index(b"c") == 2
    assert await store.index(b"nope") == -1
    assert await store.contains(b"b")
    assert await store.slice(1, 3) == [b"b", b"c"]
    assert await store.remove(b"b")
    assert not await store.remove(b"b")
    assert await store.size() == 3
    await store.clear()
    assert await store.items() == []


@pytest.mark.parametrize("index", [3, 10, -1])
async def test_list_index_out_of_range(cluster: hazelkit.Cluster, name: str, index: int) -> None:
    store = lowlevel.backend(cluster).list(name)
    await store.extend([b"a", b"b", b"c"])
    with pytest.raises(IndexError):
        await store.get(index)
    with pytest.raises(IndexError):
        await store.pop(index)
    assert await store.items() == [b"a", b"b", b"c"]


async def test_capacity_for_a_queue_already_used_unbounded_is_refused(
    cluster: hazelkit.Cluster, name: str
) -> None:
    await lowlevel.backend(cluster).queue(name).offer(b"x")
    with pytest.raises(hazelkit.ConfigurationError, match=name):
        await lowlevel.backend(cluster).queue(name, capacity=5).offer(b"y")
    assert await lowlevel.backend(cluster).queue(name).items() == [b"x"]


async def test_list_pop_event_has_no_item(cluster: hazelkit.Cluster, name: str) -> None:
    store = lowlevel.backend(cluster).list(name)
    events: list[RawItemEvent] = []
    await store.listen(events.append)
    await store.append(b"a")
    await store.pop(0)
    await wait_for(lambda: len(events) >= 2)
    assert [(e.type, e.item) for e in events] == [
        (ItemEventType.ADDED, b"a"),
        (ItemEventType.REMOVED, None),
    ]
