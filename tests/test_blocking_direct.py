"""Direct blocking calls: on the embedded grid a Map's data calls run in the calling thread.

They must give what the hop to the loop thread gives: exact results from many threads at
once, the same errors, and nothing of the Cluster's loop touched. On Hazelcast every call
still goes through the loop (the client belongs to it).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator

import pytest

import hazelkit
from hazelkit._blocking._direct import DIRECT_ENV, run_here
from hazelkit.blocking import BlockingCluster, BlockingMap

THREADS = 8
JOIN_TIMEOUT = 120.0


@pytest.fixture(params=["direct", "hop"])
def blocking(
    url: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[BlockingCluster]:
    """A BlockingCluster with direct calls on (the default) or off (env ``DIRECT_ENV=0``)."""
    if request.param == "hop":
        monkeypatch.setenv(DIRECT_ENV, "0")
    with hazelkit.connect_blocking(url) as cluster:
        yield cluster


def _in_threads(work: Callable[[int], None], count: int = THREADS) -> None:
    """Run ``work(index)`` in ``count`` threads at once; re-raise the first error."""
    errors: list[BaseException] = []
    start = threading.Barrier(count)

    def run(index: int) -> None:
        try:
            start.wait(timeout=JOIN_TIMEOUT)
            work(index)
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=JOIN_TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a worker thread hung"
    if errors:
        raise errors[0]


def _increment(counts: BlockingMap[str, int], key: str) -> None:
    """Add one to ``counts[key]`` by compare-and-set, retrying lost races."""
    while True:
        old = counts.put_if_absent(key, 1)
        if old is None or counts.replace_if_same(key, old, old + 1):
            return


def test_eight_threads_incrementing_one_map_lose_no_update(
    blocking: BlockingCluster, name: str, backend: str
) -> None:
    rounds = 150 if backend == "memory" else 25
    counts = blocking.map(name)

    def work(index: int) -> None:
        for _ in range(rounds):
            _increment(counts, "shared")
            counts.compute("computed", lambda value: (value or 0) + 1)
            counts[f"own-{index}"] = counts.get(f"own-{index}", 0) + 1

    _in_threads(work)
    assert counts["shared"] == THREADS * rounds
    assert counts["computed"] == THREADS * rounds
    assert all(counts[f"own-{i}"] == rounds for i in range(THREADS))
    assert len(counts) == THREADS + 2


class _StalledLoop:
    """Blocks a BlockingCluster's loop thread until :meth:`release` (or a long timeout)."""

    def __init__(self, cluster: BlockingCluster) -> None:
        self._busy, self._release = threading.Event(), threading.Event()

        async def stall() -> None:
            self._busy.set()
            self._release.wait(JOIN_TIMEOUT)  # blocks the loop thread on purpose

        self._stalled = cluster.portal.start_task_soon(stall)
        assert self._busy.wait(JOIN_TIMEOUT)

    def release(self) -> None:
        self._release.set()
        self._stalled.result(JOIN_TIMEOUT)


def test_direct_calls_do_not_need_the_loop_thread(name: str) -> None:
    with hazelkit.connect_blocking(f"memory://{name}") as cluster:
        values = cluster.map("m")
        values["k"] = 1
        stalled = _StalledLoop(cluster)
        try:
            values["k"] = values["k"] + 1  # answered without the loop
            assert values.get("k") == 2
            assert "k" in values
            assert len(values) == 1
        finally:
            stalled.release()
        assert values.compute("k", lambda v: (v or 0) + 1) == 3  # compute hops, as before


def test_with_direct_calls_off_every_call_hops_to_the_loop(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DIRECT_ENV, "0")
    with hazelkit.connect_blocking(f"memory://{name}") as cluster:
        values = cluster.map("m")
        values["k"] = 1
        got: list[int | None] = []
        stalled = _StalledLoop(cluster)
        try:
            reader = threading.Thread(target=lambda: got.append(values.get("k")))
            reader.start()
            reader.join(0.3)
            assert reader.is_alive()  # waiting for the stalled loop
            assert not got
        finally:
            stalled.release()
        reader.join(JOIN_TIMEOUT)
        assert got == [1]


def test_direct_calls_keep_the_closed_cluster_error(blocking: BlockingCluster, name: str) -> None:
    values = blocking.map(name)
    values["k"] = 1
    blocking.close()
    with pytest.raises(hazelkit.ClusterClosedError, match="closed"):
        values.get("k")
    with pytest.raises(hazelkit.ClusterClosedError, match="closed"):
        values["k"] = 2


def test_a_call_from_a_thread_running_its_own_loop_still_works(
    blocking: BlockingCluster, name: str
) -> None:
    values = blocking.map(name)

    async def from_another_loop() -> int:
        values["k"] = 41  # a blocking call inside an unrelated running loop
        return values["k"] + 1

    result: list[int] = []
    worker = threading.Thread(target=lambda: result.append(asyncio.run(from_another_loop())))
    worker.start()
    worker.join(JOIN_TIMEOUT)
    assert result == [42]


def test_a_direct_coroutine_that_waits_is_finished_in_the_calling_thread() -> None:
    async def waits() -> tuple[int, int]:
        await asyncio.sleep(0)
        await asyncio.sleep(0.01)
        return threading.get_ident(), 7

    assert run_here(waits()) == (threading.get_ident(), 7)
    assert asyncio.events._get_running_loop() is None


def test_a_direct_coroutines_error_propagates_and_leaves_no_running_loop() -> None:
    async def fails() -> None:
        await asyncio.sleep(0.001)
        raise KeyError("missing")

    with pytest.raises(KeyError, match="missing"):
        run_here(fails())
    assert asyncio.events._get_running_loop() is None
