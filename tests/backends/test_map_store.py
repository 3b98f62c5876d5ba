"""Conformance of the map and multimap primitives, on both backends."""

from __future__ import annotations

import anyio
import pytest

import hazelkit
from hazelkit import lowlevel
from hazelkit._backends.protocol import EntryEventType, RawEntryEvent
from timing import GridTime


async def wait_for(predicate, timeout: float = 10.0, interval: float = 0.05) -> None:
    with anyio.fail_after(timeout):
        while not predicate():
            await anyio.sleep(interval)


async def test_get_put_set_and_previous_values(cluster: hazelkit.Cluster, name: str) -> None:
    store = lowlevel.backend(cluster).map(name)
    assert await store.get(b"k") is None
    assert await store.put(b"k", b"v1") is None
    assert await store.put(b"k", b"v2") == b"v1"
    await store.set(b"k", b"v3")
    assert await store.get(b"k") == b"v3"
    assert await store.contains(b"k")
    assert not await store.contains(b"missing")
    assert await store.size() == 1


async def test_conditional_operations_compare_stored_bytes(
    cluster: hazelkit.Cluster, name: str
) -> None:
    store = lowlevel.backend(cluster).map(name)
    assert await store.put_if_absent(b"k", b"a") is None
    assert await store.put_if_absent(b"k", b"b") == b"a"
    assert await store.replace(b"missing", b"x") is None
    assert not await store.contains(b"missing")
    assert await store.replace(b"k", b"c") == b"a"
    assert not await store.replace_if_same(b"k", b"a", b"d")
    assert await store.replace_if_same(b"k", b"c", b"d")
    assert not await store.remove_if_same(b"k", b"c")
    assert await store.remove_if_same(b"k", b"d")
    assert await store.get(b"k") is None
    assert not await store.replace_if_same(b"k", b"d", b"e")


async def test_remove_delete_and_bulk(cluster: hazelkit.Cluster, name: str) -> None:
    store = lowlevel.backend(cluster).map(name)
    await store.put_all({b"a": b"1", b"b": b"2", b"c": b"3"})
    assert sorted(await store.keys()) == [b"a", b"b", b"c"]
    assert sorted(await store.values()) == [b"1", b"2", b"3"]
    assert sorted(await store.items()) == [(b"a", b"1"), (b"b", b"2"), (b"c", b"3")]
    assert await store.get_all([b"a", b"c", b"zz"]) == {b"a": b"1", b"c": b"3"}
    assert await store.get_all([]) == {}
    await store.put_all({})
    assert await store.remove(b"a") == b"1"
    assert await store.remove(b"a") is None
    await store.delete(b"b")
    assert await store.size() == 1
    await store.clear()
    assert await store.size() == 0


async def test_binary_keys_are_exact(cluster: hazelkit.Cluster, name: str) -> None:
    store = lowlevel.backend(cluster).map(name)
    keys = [b"", b"\x00", b"\x00\x00", b"\xff" * 300, bytes(range(256))]
    for i, key in enumerate(keys):
        await store.set(key, bytes([i]))
    for i, key in enumerate(keys):
        assert await store.get(key) == bytes([i])
    assert await store.size() == len(keys)


async def test_ttl_expires_entries(
    cluster: hazelkit.Cluster, grid_time: GridTime, name: str
) -> None:
    store = lowlevel.backend(cluster).map(name)
    await store.put(b"short", b"v", ttl=1)
    await store.put(b"forever", b"v")
    await store.put(b"reset", b"v", ttl=1)
    await store.put(b"reset", b"v2")  # a write without ttl resets to never
    await store.put(b"replaced", b"v", ttl=1)
    await store.replace(b"replaced", b"v2")  # so does replace
    await store.put(b"later", b"v")
    await store.set_ttl(b"later", 1)

    async def expired() -> bool:
        return await store.get(b"short") is None and await store.get(b"later") is None

    await grid_time.expire(2.5, until=expired)
    assert await store.get(b"forever") == b"v"
    assert await store.get(b"reset") == b"v2"
    assert await store.get(b"replaced") == b"v2"


async def test_max_idle_is_refreshed_by_reads(
    cluster: hazelkit.Cluster, grid_time: GridTime, name: str
) -> None:
    # Hazelcast counts in whole seconds (an entry may go up to 1 s early): read every
    # second, an entry idle for 4 s stays, through stalls of up to 2 s on a loaded machine.
    store = lowlevel.backend(cluster).map(name)
    for key in (b"read", b"contains", b"get_all", b"idle"):
        await store.put(key, b"v", max_idle=4)
    for _ in range(5):
        await grid_time.expire(1)  # (no condition to poll: a read would refresh it)
        await store.get(b"read")
        await store.contains(b"contains")
        await store.get_all([b"get_all"])
    assert await store.get(b"read") == b"v"
    assert await store.contains(b"contains")
    assert await store.get_all([b"get_all"]) == {b"get_all": b"v"}
    assert await store.get(b"idle") is None


async def test_entry_events_in_order(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str
) -> None:
    events: list[RawEntryEvent] = []
    registration = await lowlevel.backend(cluster).map(name).listen(events.append)
    other = lowlevel.backend(cluster2).map(name)  # events from another node's writes
    await other.put(b"k", b"1")
    await other.put(b"k", b"2")
    await other.remove(b"k")
    await wait_for(lambda: len(events) >= 3)
    assert [(e.type, e.key, e.value, e.old_value) for e in events] == [
        (EntryEventType.ADDED, b"k", b"1", None),
        (EntryEventType.UPDATED, b"k", b"2", b"1"),
        (EntryEventType.REMOVED, b"k", None, b"2"),
    ]
    await registration.close()
    await other.put(b"k", b"3")
    await anyio.sleep(0.5)
    assert len(events) == 3
    await registration.close()  # idempotent


async def test_entry_events_with_key_filter_and_without_values(
    cluster: hazelkit.Cluster, name: str
) -> None:
    store = lowlevel.backend(cluster).map(name)
    events: list[RawEntryEvent] = []
    await store.listen(events.append, key=b"watched", include_values=False)
    await store.put(b"other", b"1")
    await store.put(b"watched", b"1")
    await wait_for(lambda: len(events) >= 1)
    await anyio.sleep(0.3)
    assert [(e.type, e.key, e.value) for e in events] == [(EntryEventType.ADDED, b"watched", None)]


async def test_expiry_fires_expired_event(
    cluster: hazelkit.Cluster, grid_time: GridTime, name: str
) -> None:
    store = lowlevel.backend(cluster).map(name)
    events: list[RawEntryEvent] = []
    await store.listen(events.append)
    await store.put(b"k", b"v", ttl=1)
    # Embedded grid: at once, from within the clock's jump. Hazelcast's expiry task
    # announces it some seconds later.
    await grid_time.expire(
        1, until=lambda: any(e.type is EntryEventType.EXPIRED for e in events), slack=19
    )
    assert events[-1].key == b"k"


async def test_destroy_empties_the_map(cluster: hazelkit.Cluster, name: str) -> None:
    store = lowlevel.backend(cluster).map(name)
    await store.put(b"k", b"v")
    await store.destroy()
    assert await lowlevel.backend(cluster).map(name).get(b"k") is None


async def test_two_nodes_share_one_map(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str
) -> None:
    await lowlevel.backend(cluster).map(name).put(b"k", b"from one")
    assert await lowlevel.backend(cluster2).map(name).get(b"k") == b"from one"


async def test_multimap(cluster: hazelkit.Cluster, name: str) -> None:
    store = lowlevel.backend(cluster).multimap(name)
    assert await store.put(b"k", b"a")
    assert await store.put(b"k", b"b")
    assert not await store.put(b"k", b"a")  # a set of values per key
    assert await store.put(b"j", b"a")
    assert sorted(await store.get(b"k")) == [b"a", b"b"]
    assert await store.get(b"none") == []
    assert await store.value_count(b"k") == 2
    assert await store.size() == 3
    assert sorted(await store.keys()) == [b"j", b"k"]
    assert sorted(await store.values()) == [b"a", b"a", b"b"]
    assert sorted(await store.items()) == [(b"j", b"a"), (b"k", b"a"), (b"k", b"b")]
    assert await store.contains_key(b"k")
    assert await store.contains_value(b"b")
    assert await store.contains_entry(b"k", b"b")
    assert not await store.contains_entry(b"j", b"b")
    assert await store.remove(b"k", b"a")
    assert not await store.remove(b"k", b"a")
    assert await store.remove_all(b"k") == [b"b"]
    assert await store.remove_all(b"k") == []
    await store.clear()
    assert await store.size() == 0


async def test_multimap_events(cluster: hazelkit.Cluster, name: str) -> None:
    store = lowlevel.backend(cluster).multimap(name)
    events: list[RawEntryEvent] = []
    await store.listen(events.append)
    await store.put(b"k", b"a")
    await store.remove(b"k", b"a")
    await wait_for(lambda: len(events) >= 2)
    assert [(e.type, e.key) for e in events] == [
        (EntryEventType.ADDED, b"k"),
        (EntryEventType.REMOVED, b"k"),
    ]
    assert events[0].value == b"a"


@pytest.mark.parametrize("size", [1, 64 * 1024, 1024 * 1024])
async def test_large_values(cluster: hazelkit.Cluster, name: str, size: int) -> None:
    store = lowlevel.backend(cluster).map(name)
    value = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    await store.set(b"big", value)
    assert await store.get(b"big") == value


async def test_removed_events_carry_the_old_value_except_for_delete(
    cluster: hazelkit.Cluster, name: str
) -> None:
    store = lowlevel.backend(cluster).map(name)
    events: list[RawEntryEvent] = []
    await store.listen(events.append)
    for key in (b"removed", b"deleted", b"if-same"):
        await store.put(key, b"old")
    await store.remove(b"removed")
    await store.delete(b"deleted")
    await store.remove_if_same(b"if-same", b"old")
    await wait_for(lambda: sum(e.type is EntryEventType.REMOVED for e in events) >= 3)
    removed = {e.key: e.old_value for e in events if e.type is EntryEventType.REMOVED}
    assert removed == {b"removed": b"old", b"deleted": None, b"if-same": b"old"}
