"""Cache on both backends: TTL, size bound, near cache and single-flight memoize."""

from __future__ import annotations

import asyncio
import functools
import time
from typing import Any

import anyio
import pytest
from structure_helpers import wait_for

import hazelkit
from hazelkit._caching._near_cache import MISS, NearCache
from hazelkit._core._events import _owned
from hazelkit.testing import inject_faults
from timing import GridTime, eventually


async def test_get_set_delete_and_ttl(
    cluster: hazelkit.Cluster, grid_time: GridTime, name: str
) -> None:
    # Hazelcast counts TTLs in whole seconds: an entry may expire up to 1 s early.
    cache = cluster.cache(name, ttl=2)
    await cache.set("short", {"v": 1})
    await cache.set("long", 2, ttl=None)
    await cache.set("zero", 3, ttl=0)
    assert await cache.get("short") == {"v": 1}
    assert await cache.contains("long")
    assert await cache.size() == 3

    async def expired() -> bool:
        return await cache.get("short") is None

    await grid_time.expire(3, until=expired)
    assert await cache.get("short", "gone") == "gone"
    assert await cache.get("long") == 2
    assert await cache.get("zero") == 3
    await cache.delete("long")
    assert not await cache.contains("long")
    await cache.clear()
    assert await cache.size() == 0


async def test_size_bound_evicts_random_entries(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str
) -> None:
    caches = [cluster.cache(name, max_size=20), cluster2.cache(name, max_size=20)]
    for i in range(60):
        await caches[i % 2].set(i, "x")
        assert await caches[0].size() <= 20
        assert await caches[0].get(i) == "x"  # the entry just written is never the victim
    evicted = sum(c.statistics().evictions for c in caches)
    assert evicted == 60 - await caches[0].size()
    assert await caches[0].size() >= 18 - 2  # down to 90 %, not emptied


async def test_eviction_skips_keys_being_computed(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str
) -> None:
    computing = cluster.cache(name, max_size=5)
    await computing.set("k", "result")  # stored by a computation that still holds its claim
    claim = computing._key("k"), cluster.codec.encode("token")
    await computing._flights.put_if_absent(*claim, ttl=60)
    other = cluster2.cache(name, max_size=5)
    for i in range(30):
        await other.set(i, "x")
    assert await computing.get("k") == "result"
    assert other.statistics().evictions >= 25
    await computing._flights.remove(claim[0])  # released: now it may go like any other
    for i in range(30, 60):
        await other.set(i, "x")
    assert await other.size() <= 5


async def test_near_cache_serves_locally_and_is_invalidated(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str
) -> None:
    # A near copy lives 60 s: only an invalidation can make the change show in 2 s.
    near = cluster.cache(name, near_cache=True, near_cache_ttl=60)
    other = cluster2.cache(name)
    await other.set("k", 1)
    assert await near.get("k") == 1
    assert await near.get("k") == 1
    assert await near.get("missing") is None
    assert await near.get("missing") is None  # absence is cached too
    stats = near.statistics()
    assert (stats.near_cache_hits, stats.near_cache_misses, stats.near_cache_size) == (2, 2, 2)

    await other.set("k", 2)
    await other.set("missing", "now here")

    async def fresh() -> bool:
        return await near.get("k") == 2 and await near.get("missing") == "now here"

    # Well within the near copies' 60 s (events may be late on a loaded machine).
    with anyio.fail_after(10):
        while not await fresh():
            await anyio.sleep(0.02)
    await other.delete("k")
    with anyio.fail_after(10):
        while await near.get("k") is not None:
            await anyio.sleep(0.02)


async def test_cheap_handles_share_one_listener_per_map(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str
) -> None:
    async def compute() -> str:
        return "computed"

    def listeners() -> int:
        owned = _owned.get(cluster)
        return 0 if owned is None else len(owned.closers)

    before = listeners()
    for i in range(100):  # a fresh handle per call, as handles are cheap
        assert await cluster.cache(name).get_or_compute(i, compute) == "computed"
        assert await cluster.cache(name, near_cache=True).get(i) == "computed"
    assert listeners() == before + 2  # one on the values map, one on the claims map

    # The handles share one near cache: fresh handles find earlier reads. (A read that
    # raced with an invalidation, e.g. the event of a write above, is not kept: so
    # read until a whole pass is served locally.)
    def hits() -> int:
        return cluster.cache(name, near_cache=True).statistics().near_cache_hits

    with anyio.fail_after(10):
        while True:
            hits_before = hits()
            for i in range(100):
                await cluster.cache(name, near_cache=True).get(i)
            if hits() - hits_before == 100:
                break
            await anyio.sleep(0.05)
    await cluster2.cache(name).set(0, "changed")
    with anyio.fail_after(3):  # by an invalidation: well before the near copies' 5 s TTL
        while await cluster.cache(name, near_cache=True).get(0) != "changed":
            await anyio.sleep(0.02)
    # Destroying the cache drops the listeners; the next use registers them again.
    await cluster.cache(name).destroy()
    assert listeners() == before
    assert await cluster.cache(name, near_cache=True).get(0) is None
    assert listeners() == before + 1


async def test_values_are_fresh_copies(cluster: hazelkit.Cluster, name: str) -> None:
    near = cluster.cache(name, near_cache=True)
    await near.set("k", [1])
    first = await near.get("k")
    first.append(2)  # mutating a returned value does not change the cache
    assert await near.get("k") == [1]


async def test_lost_invalidations_are_bounded_by_the_near_cache_ttl(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str
) -> None:
    near = cluster.cache(name, near_cache=True, near_cache_ttl=1.0)
    other = cluster2.cache(name)
    await other.set("k", "old")
    assert await near.get("k") == "old"
    await other.clear()  # sends no per-entry events: the near copy is not invalidated
    assert await near.get("k") == "old"  # served from the near copy
    with anyio.fail_after(1.0 + 1.0):
        while await near.get("k") is not None:
            await anyio.sleep(0.05)


async def test_a_near_copy_does_not_outlive_the_entry_ttl(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str
) -> None:
    near = cluster.cache(name, ttl=1, near_cache=True, near_cache_ttl=60)
    await cluster2.cache(name, ttl=1).set("k", "v")
    assert await near.get("k") == "v"
    runs = 0

    async def compute() -> str:
        nonlocal runs
        runs += 1
        return "memo"

    assert await near.get_or_compute("m", compute, ttl=1) == "memo"
    assert await near.get("m") == "memo"
    await anyio.sleep(2.5)  # the entries expired (expiry events may come much later)
    assert await near.get("k") is None
    assert await near.get_or_compute("m", compute, ttl=1) == "memo"
    assert runs == 2


async def test_near_cache_is_bounded(cluster: hazelkit.Cluster, name: str) -> None:
    near = cluster.cache(name, near_cache=True, near_cache_size=3)
    for i in range(10):
        await near.get(i)
    assert near.statistics().near_cache_size == 3


def test_a_read_racing_with_an_invalidation_is_not_kept() -> None:
    near = NearCache(10, 5.0)
    generation = near.generation
    near.invalidate(b"k")  # arrives while the read is in flight
    near.store(b"k", b"stale", generation, time.monotonic())
    assert near.lookup(b"k") is MISS
    near.store(b"k", b"fresh", near.generation, time.monotonic())
    assert near.lookup(b"k") == b"fresh"
    near.store(b"old", b"v", near.generation, time.monotonic() - 10)
    assert near.lookup(b"old") is MISS  # read longer ago than the TTL


def test_near_copies_are_bounded_by_the_entry_ttl_known_to_writer_or_reader() -> None:
    near = NearCache(10, 60.0)
    now = time.monotonic()
    near.store(b"short", b"v", near.generation, now - 2, max_age=1.0)
    assert near.lookup(b"short") is MISS  # stored with a 1 s TTL, read 2 s ago
    near.store(b"long", b"v", near.generation, now - 2)
    assert near.lookup(b"long") == b"v"  # within the near cache's own 60 s
    assert near.lookup(b"long", max_age=1.0) is MISS  # a reader knowing a 1 s TTL
    assert near.lookup(b"long") is MISS  # (dropped by that lookup)


async def test_memoize_computes_once_across_nodes(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str
) -> None:
    runs: list[tuple[int, str]] = []

    def memoized(node: hazelkit.Cluster) -> Any:
        @node.cache(name).memoize(name="square")
        async def square(x: int, *, tag: str = "") -> dict[str, int]:
            runs.append((x, tag))
            await anyio.sleep(0.3)
            return {"square": x * x}

        return square

    functions = [memoized(cluster), memoized(cluster2)]
    results: list[Any] = []

    async def call(i: int) -> None:
        results.append(await functions[i % 2](i % 3))

    async with anyio.create_task_group() as tg:
        for i in range(24):
            tg.start_soon(call, i)
    assert sorted(runs) == [(0, ""), (1, ""), (2, "")]
    assert sorted(r["square"] for r in results) == [0] * 8 + [1] * 8 + [4] * 8
    assert await functions[0](2, tag="t") == {"square": 4}  # keywords make another key
    assert len(runs) == 4
    await functions[1].invalidate(2)
    assert await functions[0](2) == {"square": 4}
    assert len(runs) == 5


async def test_memoized_none_and_ttl(
    cluster: hazelkit.Cluster, grid_time: GridTime, name: str
) -> None:
    runs = 0

    @cluster.cache(name, ttl=60).memoize(ttl=2)
    async def nothing() -> None:
        nonlocal runs
        runs += 1

    assert await nothing() is None
    assert await nothing() is None  # None is a cached result, not a miss
    assert runs == 1
    await grid_time.expire(3)  # (Hazelcast: size() may count an expired entry a while)
    await nothing()
    assert runs == 2


async def test_a_failed_computation_is_not_cached_and_a_waiter_takes_over(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str
) -> None:
    attempts = 0

    async def flaky() -> str:
        nonlocal attempts
        attempts += 1
        await anyio.sleep(0.3)
        if attempts == 1:
            raise RuntimeError("first attempt fails")
        return "ok"

    outcomes: list[str] = []

    async def call(node: hazelkit.Cluster, delay: float) -> None:
        await anyio.sleep(delay)
        try:
            outcomes.append(await node.cache(name).get_or_compute("k", flaky))
        except RuntimeError as error:
            outcomes.append(str(error))

    async with anyio.create_task_group() as tg:
        tg.start_soon(call, cluster, 0)
        tg.start_soon(call, cluster2, 0.1)
    assert sorted(outcomes) == ["first attempt fails", "ok"]
    assert attempts == 2


async def test_unencodable_results_and_arguments(cluster: hazelkit.Cluster, name: str) -> None:
    cache = cluster.cache(name)
    calls = 0

    @cache.memoize()
    async def make(x: Any) -> Any:
        nonlocal calls
        calls += 1
        return object() if x == 1 else x

    with pytest.raises(hazelkit.EncodeError):
        await make(object())
    assert calls == 0
    with pytest.raises(hazelkit.EncodeError):
        await make(1)
    with pytest.raises(hazelkit.EncodeError):
        await make(1)  # nothing was cached and the claim was released: computed again
    assert calls == 2
    assert await cache.size() == 0
    with pytest.raises(hazelkit.EncodeError):
        await cache.set("k", object())
    with pytest.raises(hazelkit.ArgumentError, match="async functions"):
        cache.memoize()(lambda: 1)  # type: ignore[arg-type,return-value]


async def test_waiters_take_over_from_a_dead_computing_node(
    url: str, grid_time: GridTime, name: str
) -> None:
    started = anyio.Event()

    async def forever() -> str:
        started.set()
        await anyio.sleep(3600)
        return "never"

    async def late() -> str:
        return "from the survivor"

    async with hazelkit.connect(url, **grid_time.options) as survivor:
        faults = inject_faults(survivor)
        dying = await hazelkit.connect(url, **grid_time.options)
        async with anyio.create_task_group() as tg:
            tg.start_soon(
                functools.partial(dying.cache(name).get_or_compute, lease=2.0), "k", forever
            )
            await started.wait()
            await dying.close()  # the node is gone: its claim is never released
            tg.cancel_scope.cancel()
        began = time.monotonic()
        taking_over = asyncio.ensure_future(
            survivor.cache(name).get_or_compute("k", late, timeout=20)
        )
        if grid_time.clock is not None:  # the embedded grid lapses the claim on its clock
            flights = f"hazelkit.cache-flights/{name}"
            await eventually(lambda: faults.calls("map.put_if_absent", name=flights) >= 1)
            grid_time.clock.advance(2.0)  # the survivor found it claimed: now it lapses
        value = await taking_over
        assert value == "from the survivor"
        assert time.monotonic() - began < 2.0 + 0.5 + 3  # lease + recheck + slack


async def test_waiting_for_a_live_computation_times_out(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str
) -> None:
    started = anyio.Event()

    async def slow() -> str:
        started.set()
        await anyio.sleep(3.5)  # longer than the lease: it is renewed meanwhile
        return "slow"

    async def other() -> str:
        return "other"

    async with anyio.create_task_group() as tg:
        tg.start_soon(functools.partial(cluster.cache(name).get_or_compute, lease=2.0), "k", slow)
        await started.wait()
        with pytest.raises(hazelkit.OperationTimeoutError, match="did not finish"):
            await cluster2.cache(name).get_or_compute("k", other, timeout=0.5)
        assert await cluster2.cache(name).get_or_compute("k", other, timeout=20) == "slow"


async def test_a_failed_renewal_does_not_end_the_claim(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str
) -> None:
    faults = inject_faults(cluster)
    flights = f"hazelkit.cache-flights/{name}"  # the claims map
    # The first two renewals fail, as when the cluster is briefly unreachable.
    renewal_timed_out = hazelkit.OperationTimeoutError("renewal timed out (injected)")
    faults.fail("map.set_ttl", name=flights, times=2, error=renewal_timed_out)
    computing = cluster.cache(name)
    runs = 0

    async def slow() -> str:
        nonlocal runs
        runs += 1
        await anyio.sleep(5)  # well past the 3 s lease: only renewals keep the claim
        return "slow"

    async with anyio.create_task_group() as tg:
        tg.start_soon(functools.partial(computing.get_or_compute, lease=3.0), "k", slow)
        await wait_for(lambda: runs == 1)
        assert await cluster2.cache(name).get_or_compute("k", slow, timeout=30) == "slow"
    assert runs == 1
    assert faults.calls("map.set_ttl", name=flights) > 2  # both failed, then renewed


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"ttl": -1}, "ttl"),
        ({"ttl": float("inf")}, "ttl"),
        ({"ttl": float("nan")}, "ttl"),
        ({"near_cache": True, "near_cache_ttl": float("inf")}, "near_cache_ttl"),
        ({"max_size": 0}, "max_size"),
        ({"near_cache": True, "near_cache_size": 0}, "near_cache_size"),
        ({"near_cache": True, "near_cache_ttl": "1"}, "near_cache_ttl"),
    ],
)
async def test_bad_options(
    cluster: hazelkit.Cluster, name: str, options: dict[str, Any], match: str
) -> None:
    with pytest.raises(hazelkit.ConfigurationError, match=match):
        cluster.cache(name, **options)


async def test_bad_call_options_and_closed_cluster(url: str, name: str) -> None:
    async def compute() -> int:
        return 1

    async with hazelkit.connect(url) as node:
        cache = node.cache(name)
        with pytest.raises(hazelkit.ConfigurationError, match="lease"):
            await cache.get_or_compute("k", compute, lease=1.5)
        for endless in (float("inf"), float("nan")):  # a claim that never lapses
            with pytest.raises(hazelkit.ConfigurationError, match="lease"):
                await cache.get_or_compute("k", compute, lease=endless)
            with pytest.raises(hazelkit.ConfigurationError, match="ttl"):
                await cache.get_or_compute("k", compute, ttl=endless)
        with pytest.raises(hazelkit.ConfigurationError, match="timeout"):
            await cache.get_or_compute("k", compute, timeout=-1)
        with pytest.raises(hazelkit.ConfigurationError, match="ttl"):
            await cache.set("k", 1, ttl=-5)
        assert await cache.size() == 0
    with pytest.raises(hazelkit.ClusterClosedError):
        await cache.get("k")
    with pytest.raises(hazelkit.ClusterClosedError):
        await cache.get_or_compute("k", compute)
