"""Cluster singletons: one instance at a time, fencing tokens, failover and handoff."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

import hazelkit
from hazelkit.testing import crash

LEASE = 3.0
pytestmark = pytest.mark.timeout(90)


class Probe:
    """Records which instance (node number, token) ran when, and checks they never
    overlap: two instances running at once is the one thing a singleton must not do."""

    def __init__(self) -> None:
        self.running: set[tuple[int, int]] = set()
        self.started: list[tuple[int, int, float]] = []
        self.overlaps = 0

    def fn(self, node: int):  # type: ignore[no-untyped-def]
        async def run(token: int) -> None:
            if self.running:
                self.overlaps += 1
            self.running.add((node, token))
            self.started.append((node, token, time.monotonic()))
            try:
                await asyncio.Event().wait()
            finally:
                self.running.discard((node, token))

        return run


@pytest.fixture
async def nodes(url: str) -> AsyncIterator[list[hazelkit.Cluster]]:
    clusters = [await hazelkit.connect(url) for _ in range(3)]
    try:
        yield clusters
    finally:
        for cluster in clusters:
            await cluster.close()


async def until(condition, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.05)


async def test_exactly_one_instance_runs_and_fails_over_after_a_crash(
    nodes: list[hazelkit.Cluster], name: str
) -> None:
    probe = Probe()
    singletons = [
        await n.singleton(name, probe.fn(i), lease=LEASE).start() for i, n in enumerate(nodes)
    ]
    await until(lambda: len(probe.running) == 1)
    await asyncio.sleep(1.0)
    assert len(probe.started) == 1  # the others never started it
    (first_node, first_token) = next(iter(probe.running))
    status = await nodes[2].singleton_status(name)
    assert status.running
    assert status.token == first_token
    assert status.node is not None
    crashed = time.monotonic()
    await crash(nodes[first_node])
    await until(lambda: any(n != first_node for n, _ in probe.running))
    took = time.monotonic() - crashed
    (_, second_token) = next(iter(probe.running))
    assert second_token > first_token  # a fencing token grows with every instance
    assert took < LEASE + 2 + 3  # lease + 2 s, with slack for a loaded machine
    assert probe.overlaps == 0
    for singleton in singletons:
        await singleton.stop()


async def test_a_graceful_leave_stops_it_here_before_it_starts_elsewhere(
    nodes: list[hazelkit.Cluster], name: str
) -> None:
    probe = Probe()
    singletons = [
        await n.singleton(name, probe.fn(i), lease=10.0).start() for i, n in enumerate(nodes)
    ]
    await until(lambda: len(probe.running) == 1)
    (first_node, _) = next(iter(probe.running))
    left = time.monotonic()
    await singletons[first_node].stop()
    assert not singletons[first_node].running_here
    await until(lambda: bool(probe.running))
    assert time.monotonic() - left < 10.0  # no lease to wait out
    assert probe.overlaps == 0
    assert len(probe.started) == 2
    for singleton in singletons:
        await singleton.stop()


async def test_a_failing_singleton_is_started_again(cluster: hazelkit.Cluster, name: str) -> None:
    runs: list[int] = []

    async def flaky(token: int) -> None:
        runs.append(token)
        if len(runs) < 3:
            raise RuntimeError("not yet")
        await asyncio.Event().wait()

    async with cluster.singleton(name, flaky, lease=LEASE) as singleton:
        await until(lambda: len(runs) == 3)
        assert singleton.running_here
    assert len(set(runs)) == 1  # restarted on the same node, under the same lease


async def test_status_of_a_singleton_never_run(cluster: hazelkit.Cluster, name: str) -> None:
    status = await cluster.singleton_status(name)
    assert (status.running, status.node, status.token, status.since) == (False, None, 0, None)


async def test_a_singleton_needs_a_function(cluster: hazelkit.Cluster, name: str) -> None:
    with pytest.raises(hazelkit.ArgumentError):
        cluster.singleton(name, "not callable")  # type: ignore[arg-type]


async def test_closing_the_node_that_runs_it_hands_it_over_at_once(
    nodes: list[hazelkit.Cluster], name: str
) -> None:
    probe = Probe()
    for i, n in enumerate(nodes[:2]):
        await n.singleton(name, probe.fn(i), lease=10.0).start()
    await until(lambda: len(probe.running) == 1)
    (first_node, first_token) = next(iter(probe.running))
    closed = time.monotonic()
    await nodes[first_node].close()  # a graceful leave: no lease to wait out
    await until(lambda: bool(probe.running), timeout=10.0)
    assert time.monotonic() - closed < 5.0
    assert next(iter(probe.running))[1] > first_token
    assert probe.overlaps == 0


async def test_a_node_stays_idle_after_a_release_woke_it(
    nodes: list[hazelkit.Cluster], name: str
) -> None:
    probe = Probe()
    singletons = [
        await n.singleton(name, probe.fn(i), lease=LEASE).start() for i, n in enumerate(nodes)
    ]
    await until(lambda: len(probe.running) == 1)
    (first_node, _) = next(iter(probe.running))
    await singletons[first_node].stop()  # its release wakes the others' rounds
    await until(lambda: bool(probe.running))
    await asyncio.sleep(0.5)
    used = time.process_time()
    await asyncio.sleep(1.0)  # idle: each node renews once in a while, nothing more
    assert time.process_time() - used < 0.25, time.process_time() - used
    survivor = next(iter(probe.running))[0]
    assert len(assignment_rounds(name)) == 2  # the two nodes still registered
    await crash(nodes[survivor])  # a crash ends the survivor's rounds for good
    await until(lambda: len(assignment_rounds(name)) == 1, timeout=10.0)
    await until(lambda: bool(probe.running), timeout=LEASE + 2 + 5)
    for singleton in singletons:
        await singleton.stop()


def assignment_rounds(name: str) -> list[asyncio.Task[object]]:
    """The runtime's assignment tasks of singleton ``name`` (one per node) still running."""
    wanted = f"hazelkit: assign singleton:{name}"
    return [t for t in asyncio.all_tasks() if t.get_name() == wanted and not t.done()]
