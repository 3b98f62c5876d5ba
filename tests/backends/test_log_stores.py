"""Conformance of the ringbuffer, topic and id generator primitives, on both backends."""

from __future__ import annotations

import time

import anyio
import pytest

import hazelkit
from hazelkit import lowlevel
from hazelkit._backends.protocol import OverflowPolicy, RawMessage
from timing import GridTime


async def wait_for(predicate, timeout: float = 10.0) -> None:
    with anyio.fail_after(timeout):
        while not predicate():
            await anyio.sleep(0.05)


async def test_ringbuffer_sequences(cluster: hazelkit.Cluster, name: str) -> None:
    ring = lowlevel.backend(cluster).ringbuffer(name, capacity=5)
    assert await ring.capacity() == 5
    assert await ring.head() == 0
    assert await ring.tail() == -1
    assert await ring.size() == 0
    assert await ring.add(b"a") == 0
    assert await ring.add_all([b"b", b"c"]) == 2
    batch = await ring.read_many(0, 0, 10, timeout=0)
    assert batch.items == [b"a", b"b", b"c"]
    assert batch.sequences == [0, 1, 2]
    assert batch.next_sequence == 3
    partial = await ring.read_many(1, 1, 1, timeout=1)
    assert (partial.items, partial.sequences, partial.next_sequence) == ([b"b"], [1], 2)


async def test_ringbuffer_overwrites_and_reader_sees_the_gap(
    cluster: hazelkit.Cluster, name: str
) -> None:
    ring = lowlevel.backend(cluster).ringbuffer(name, capacity=3)
    for i in range(7):
        await ring.add(bytes([i]))
    assert await ring.head() == 4
    assert await ring.tail() == 6
    assert await ring.size() == 3
    batch = await ring.read_many(1, 0, 10, timeout=0)
    assert batch.sequences == [4, 5, 6]  # sequences 1..3 were overwritten
    assert batch.items == [b"\x04", b"\x05", b"\x06"]


async def test_ringbuffer_fail_policy_without_ttl_overwrites(
    cluster: hazelkit.Cluster, name: str
) -> None:
    ring = lowlevel.backend(cluster).ringbuffer(name, capacity=2)
    for i in range(3):
        assert await ring.add(bytes([i]), OverflowPolicy.FAIL) == i


async def test_ringbuffer_fail_policy_with_ttl(
    cluster: hazelkit.Cluster, grid_time: GridTime, name: str
) -> None:
    ring = lowlevel.backend(cluster).ringbuffer(name, capacity=2, ttl=2)
    assert await ring.add(b"a", OverflowPolicy.FAIL) == 0
    assert await ring.add(b"b", OverflowPolicy.FAIL) == 1
    assert await ring.add(b"c", OverflowPolicy.FAIL) == -1
    assert await ring.add_all([b"c", b"d"], OverflowPolicy.FAIL) == -1
    assert await ring.tail() == 1

    async def stored_once_aged() -> bool:  # a refused add changes nothing: try until room
        return await ring.add(b"c", OverflowPolicy.FAIL) != -1

    await grid_time.expire(3.5, until=stored_once_aged)
    assert await ring.tail() == 2
    assert (await ring.read_many(2, 1, 10, timeout=0)).items == [b"c"]


async def test_ringbuffer_blocking_read(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str
) -> None:
    ring = lowlevel.backend(cluster).ringbuffer(name)

    async def add_later() -> None:
        await anyio.sleep(0.3)
        await lowlevel.backend(cluster2).ringbuffer(name).add(b"late")

    async with anyio.create_task_group() as tg:
        tg.start_soon(add_later)
        batch = await ring.read_many(0, 1, 10, timeout=10)
    assert batch.items == [b"late"]
    assert batch.next_sequence == 1


async def test_ringbuffer_read_times_out_empty(cluster: hazelkit.Cluster, name: str) -> None:
    ring = lowlevel.backend(cluster).ringbuffer(name)
    await ring.add(b"a")
    started = time.monotonic()
    batch = await ring.read_many(1, 1, 10, timeout=0.5)
    assert 0.4 <= time.monotonic() - started < 5
    assert (batch.items, batch.sequences, batch.next_sequence) == ([], [], 1)


async def test_ringbuffer_read_beyond_tail_waits_at_tail(
    cluster: hazelkit.Cluster, name: str
) -> None:
    ring = lowlevel.backend(cluster).ringbuffer(name)
    await ring.add_all([b"a", b"b"])
    empty = await ring.read_many(9, 0, 10, timeout=0)
    assert empty.items == []

    async def add_later() -> None:
        await anyio.sleep(0.3)
        await ring.add(b"c")

    async with anyio.create_task_group() as tg:
        tg.start_soon(add_later)
        batch = await ring.read_many(9, 1, 10, timeout=10)
    # The reader asked for 9 but got 2: the first sequence tells it that it was ahead.
    assert batch.sequences == [2]


async def test_ringbuffer_capacity_conflict(cluster: hazelkit.Cluster, name: str) -> None:
    await lowlevel.backend(cluster).ringbuffer(name, capacity=4).add(b"a")
    with pytest.raises(hazelkit.ConfigurationError, match=name):
        await lowlevel.backend(cluster).ringbuffer(name, capacity=8).add(b"b")


async def test_ringbuffer_rejects_bad_reads(cluster: hazelkit.Cluster, name: str) -> None:
    ring = lowlevel.backend(cluster).ringbuffer(name)
    with pytest.raises(ValueError, match="start must be >= 0"):
        await ring.read_many(-1, 0, 10, timeout=0)
    with pytest.raises(ValueError, match="min_count <= max_count"):
        await ring.read_many(0, 5, 2, timeout=0)
    with pytest.raises(ValueError, match="above the limit"):
        await ring.read_many(0, 0, 5000, timeout=0)
    with pytest.raises(ValueError, match="above the ringbuffer capacity"):
        await (
            lowlevel.backend(cluster)
            .ringbuffer(f"{name}-small", capacity=3)
            .read_many(0, 4, 10, timeout=0)
        )


async def test_ringbuffer_read_with_zero_timeout_takes_what_is_there(
    cluster: hazelkit.Cluster, name: str
) -> None:
    ring = lowlevel.backend(cluster).ringbuffer(name)
    await ring.add_all([b"a", b"b"])
    assert (await ring.read_many(0, 2, 10, timeout=0)).items == [b"a", b"b"]
    assert (await ring.read_many(0, 3, 10, timeout=0)).items == []


async def test_topic_delivers_to_every_subscriber(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str
) -> None:
    first: list[RawMessage] = []
    second: list[RawMessage] = []
    registration = await lowlevel.backend(cluster).topic(name).listen(first.append)
    await lowlevel.backend(cluster2).topic(name).listen(second.append)
    before = time.time()
    await lowlevel.backend(cluster2).topic(name).publish(b"one")
    await lowlevel.backend(cluster).topic(name).publish_all([b"two", b"three"])
    await wait_for(lambda: len(first) >= 3 and len(second) >= 3)
    assert [m.payload for m in first] == [b"one", b"two", b"three"]
    assert [m.payload for m in second] == [b"one", b"two", b"three"]
    assert before - 5 <= first[0].publish_time <= time.time() + 5
    await registration.close()
    await lowlevel.backend(cluster).topic(name).publish(b"four")
    await wait_for(lambda: len(second) >= 4)
    assert len(first) == 3


async def test_ids_are_unique_and_increasing(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str
) -> None:
    ids = [await lowlevel.backend(cluster).id_generator(name).new_id() for _ in range(200)]
    ids += [await lowlevel.backend(cluster2).id_generator(name).new_id() for _ in range(200)]
    assert len(set(ids)) == 400
    assert all(0 < i < 2**63 for i in ids)
    assert ids[:200] == sorted(ids[:200])


async def test_timed_out_reads_do_not_pile_up_on_the_member(
    cluster: hazelkit.Cluster, backend: str, name: str
) -> None:
    ring = lowlevel.backend(cluster).ringbuffer(name)
    for _ in range(5):
        batch = await ring.read_many(0, 1, 10, timeout=0.2)
        assert batch.items == []
    if backend == "hazelcast":
        pending = lowlevel.backend(cluster).client._invocation_service._pending  # type: ignore[attr-defined]
        assert len(pending) <= 2  # the one parked read (and at most one unrelated call)
    await lowlevel.backend(cluster).ringbuffer(name).add(b"late")
    batch = await ring.read_many(0, 1, 10, timeout=10)
    assert batch.items == [b"late"]
