"""Properties of the embedded grid that Hazelcast members have by nature."""

from __future__ import annotations

import anyio

import hazelkit
from hazelkit._backends.protocol import EntryEventType, RawEntryEvent


async def test_expiry_is_swept_after_the_sweeping_member_leaves(name: str) -> None:
    url = f"memory://{name}"
    first = await hazelkit.connect(url)
    async with hazelkit.connect(url) as second:
        events: list[RawEntryEvent] = []
        await second.backend.map("m").listen(events.append)
        await second.backend.map("m").put(b"k", b"v", ttl=1)
        await first.close()  # the oldest member, which sweeps, leaves
        with anyio.fail_after(10):
            while not any(e.type is EntryEventType.EXPIRED for e in events):
                await anyio.sleep(0.05)


async def test_many_entries_without_expiry_cost_the_sweeper_nothing(name: str) -> None:
    async with hazelkit.connect(f"memory://{name}") as cluster:
        store = cluster.backend.map("big")
        await store.put_all({i.to_bytes(4, "big"): b"v" for i in range(50_000)})
        state = cluster.backend.grid.structure("map", "big", lambda: None)
        assert state is not None
        assert state._due == []  # nothing to sweep: a sweep does no work per entry
        await store.put(b"short", b"v", ttl=1)
        assert len(state._due) == 1


async def test_set_add_all_is_atomic_and_ignores_repeats(name: str) -> None:
    async with hazelkit.connect(f"memory://{name}") as cluster:
        store = cluster.backend.set("s")
        assert await store.add_all([b"a", b"a", b"b"])
        assert sorted(await store.items()) == [b"a", b"b"]
