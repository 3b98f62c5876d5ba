"""Properties of the embedded grid that Hazelcast members have by nature."""

from __future__ import annotations

import anyio
import anyio.lowlevel

import hazelkit
from hazelkit import lowlevel
from hazelkit._backends.protocol import EntryEventType, RawEntryEvent


async def test_expiry_is_swept_after_the_sweeping_member_leaves(name: str) -> None:
    url = f"memory://{name}"
    first = await hazelkit.connect(url)
    async with hazelkit.connect(url) as second:
        events: list[RawEntryEvent] = []
        await lowlevel.backend(second).map("m").listen(events.append)
        await lowlevel.backend(second).map("m").put(b"k", b"v", ttl=1)
        await first.close()  # the oldest member, which sweeps, leaves
        with anyio.fail_after(10):
            while not any(e.type is EntryEventType.EXPIRED for e in events):
                await anyio.sleep(0.05)


async def test_many_entries_without_expiry_cost_the_sweeper_nothing(name: str) -> None:
    async with hazelkit.connect(f"memory://{name}") as cluster:
        store = lowlevel.backend(cluster).map("big")
        await store.put_all({i.to_bytes(4, "big"): b"v" for i in range(50_000)})
        state = lowlevel.backend(cluster).grid.structure("map", "big", lambda: None)
        assert state is not None
        assert state._due == []  # nothing to sweep: a sweep does no work per entry
        await store.put(b"short", b"v", ttl=1)
        assert len(state._due) == 1


async def test_set_add_all_is_atomic_and_ignores_repeats(name: str) -> None:
    async with hazelkit.connect(f"memory://{name}") as cluster:
        store = lowlevel.backend(cluster).set("s")
        assert await store.add_all([b"a", b"a", b"b"])
        assert sorted(await store.items()) == [b"a", b"b"]


async def test_a_loop_of_operations_lets_other_tasks_run(name: str) -> None:
    async with hazelkit.connect(f"memory://{name}") as cluster:
        store = lowlevel.backend(cluster).map("m")
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await anyio.lowlevel.checkpoint()

        async with anyio.create_task_group() as tg:
            tg.start_soon(ticker)
            await anyio.lowlevel.checkpoint()
            before = ticks
            for i in range(1000):  # never waits: only the cooperative yields let ticker run
                await store.put(b"k", i.to_bytes(2, "big"))
            assert ticks - before >= 1000 // 32
            tg.cancel_scope.cancel()


async def test_destroying_a_ringbuffer_wakes_its_readers(name: str) -> None:
    async with hazelkit.connect(f"memory://{name}") as cluster:
        ring = lowlevel.backend(cluster).ringbuffer("r")
        await ring.add(b"a")

        async def destroy_soon() -> None:
            await anyio.sleep(0.2)
            await lowlevel.backend(cluster).ringbuffer("r").destroy()
            await lowlevel.backend(cluster).ringbuffer("r").add_all([b"new 0", b"new 1"])

        async with anyio.create_task_group() as tg:
            tg.start_soon(destroy_soon)
            with anyio.fail_after(3):
                batch = await ring.read_many(1, 1, 10, timeout=10)
        # The reader waiting at sequence 1 reads the new ringbuffer's sequence 1 (finding
        # out that it was reset is the reader's job: see ReliableTopic).
        assert batch.items == [b"new 1"]
