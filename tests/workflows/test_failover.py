"""Workflows through crashes, handoffs, stale owners and full inboxes (both backends).

Several Clusters on one grid are several nodes; ``hazelkit.testing.crash`` ends one as
SIGKILL would (no lease released, nothing handed off).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from definitions import counter

import hazelkit
from hazelkit._runtime._hashing import preferred_node
from hazelkit._runtime._host import host_of
from hazelkit.testing import crash, inject_faults

LEASE = 3.0
pytestmark = pytest.mark.timeout(120)


@pytest.fixture
async def nodes(url: str) -> AsyncIterator[list[hazelkit.Cluster]]:
    """Three Clusters on one grid: two to host, one to send (closed at the end unless a
    test crashed them)."""
    clusters = [await hazelkit.connect(url) for _ in range(3)]
    try:
        yield clusters
    finally:
        for cluster in clusters:
            await cluster.close()


async def exact(sender: hazelkit.Cluster, ids: list[str], values: list[int]) -> None:
    """Every workflow applied exactly ``values``, in order, once each."""
    expected = {"total": sum(values), "seen": values}
    for workflow_id in ids:
        snapshot = await sender.workflows.wait(
            workflow_id, lambda s: isinstance(s.state, dict) and s.state == expected, timeout=60
        )
        assert snapshot.messages_applied == len(values)


async def test_a_crashed_nodes_workflows_move_and_apply_each_message_once(
    nodes: list[hazelkit.Cluster], name: str
) -> None:
    a, b, sender = nodes
    Counter = counter(name)
    await a.workflows.host(Counter, lease=LEASE).start()
    hosting_b = await b.workflows.host(Counter, lease=LEASE).start()
    ids = [f"{name}-{n}" for n in range(12)]
    for workflow_id in ids:
        await sender.workflows.start(Counter, workflow_id)
    values = list(range(1, 9))
    for value in values:
        for workflow_id in ids:
            await sender.workflows.send(workflow_id, value)
        if value == 4:
            await crash(a)
            crashed = time.monotonic()
    await exact(sender, ids, values)
    took = time.monotonic() - crashed
    assert took < LEASE + 2 + 3  # lease + 2 s, and slack for a loaded machine
    assert len(hosting_b.partitions()[Counter.name]) == 16
    owners = {(await sender.workflows.get(i)).owner for i in ids}
    assert owners == {hosting_b.node}


async def test_a_graceful_leave_hands_off_at_once(nodes: list[hazelkit.Cluster], name: str) -> None:
    a, b, sender = nodes
    Counter = counter(name)
    hosting_a = await a.workflows.host(Counter, lease=10.0).start()
    hosting_b = await b.workflows.host(Counter, lease=10.0).start()
    ids = [f"{name}-{n}" for n in range(8)]
    for workflow_id in ids:
        await sender.workflows.start(Counter, workflow_id)
    for workflow_id in ids:
        await sender.workflows.send(workflow_id, 1)
    left = time.monotonic()
    await hosting_a.stop()  # releases its partitions: no 10 s lease to wait out
    for workflow_id in ids:
        await sender.workflows.send(workflow_id, 2)
    await exact(sender, ids, [1, 2])
    assert time.monotonic() - left < 10.0
    assert len(hosting_b.partitions()[Counter.name]) == 16


async def test_a_joining_node_takes_its_share_and_nothing_is_applied_twice(
    nodes: list[hazelkit.Cluster], name: str
) -> None:
    a, b, sender = nodes
    Counter = counter(name)
    hosting_a = await a.workflows.host(Counter, lease=LEASE).start()
    ids = [f"{name}-{n}" for n in range(10)]
    for workflow_id in ids:
        await sender.workflows.start(Counter, workflow_id)
    values = list(range(1, 7))
    for value in values:
        for workflow_id in ids:
            await sender.workflows.send(workflow_id, value)
        if value == 3:
            hosting_b = await b.workflows.host(Counter, lease=LEASE).start()
    await exact(sender, ids, values)

    def shares() -> list[int]:
        return [len(h.partitions()[Counter.name]) for h in (hosting_a, hosting_b)]

    # Each node ends with the partitions it wins by rendezvous hashing (node ids are
    # random, so the split is too): wait for the handoffs to finish, then compare.
    space = f"workflow:{Counter.name}"
    node_ids = [host_of.get(node).node for node in (a, b)]
    winners = [preferred_node(space, p, node_ids) for p in range(16)]
    wanted = [winners.count(node_id) for node_id in node_ids]
    async with asyncio.timeout(30):
        while shares() != wanted:
            await asyncio.sleep(0.1)
    assert sum(shares()) == 16


async def test_a_stale_owner_stops_by_its_own_clock_and_never_commits_again(
    nodes: list[hazelkit.Cluster], name: str
) -> None:
    a, b, sender = nodes
    Counter = counter(name)
    faults = inject_faults(a)  # before A touches the grid
    hosting_a = await a.workflows.host(Counter, lease=LEASE).start()
    ids = [f"{name}-{n}" for n in range(6)]
    for workflow_id in ids:
        await sender.workflows.start(Counter, workflow_id)
        await sender.workflows.send(workflow_id, 1)
    await exact(sender, ids, [1])
    # A can no longer renew (a stalled process, a partition from the members): its lease
    # lapses while it still runs.
    faults.hang("map.replace_if_same", name="hazelkit.rt.partitions", times=10_000)
    node_a = hosting_a.node
    await asyncio.sleep(LEASE + 0.5)
    assert hosting_a.partitions()[Counter.name] == []  # it stopped by its own clock
    hosting_b = await b.workflows.host(Counter, lease=LEASE).start()
    for workflow_id in ids:
        await sender.workflows.send(workflow_id, 2)
    await exact(sender, ids, [1, 2])
    assert {(await sender.workflows.get(i)).owner for i in ids} != {node_a}
    faults.release()  # A comes back: its old lease is gone, it may only take a new one
    for workflow_id in ids:
        await sender.workflows.send(workflow_id, 3)
    await exact(sender, ids, [1, 2, 3])
    for workflow_id in ids:
        snapshot = await sender.workflows.get(workflow_id)
        assert snapshot.epoch >= 2  # every commit since came from a newer lease
    assert hosting_b.partitions()[Counter.name]


async def test_a_timer_due_while_no_node_owned_it_fires_once_late(
    nodes: list[hazelkit.Cluster], name: str
) -> None:
    a, b, sender = nodes
    Counter = counter(name)
    await a.workflows.host(Counter, lease=LEASE).start()
    await sender.workflows.start(Counter, f"{name}-t")
    await sender.workflows.send(f"{name}-t", {"timer": "wake", "after": 1.0})
    await sender.workflows.wait(f"{name}-t", lambda s: "wake" in s.timers)
    await crash(a)
    await b.workflows.host(Counter, lease=LEASE).start()
    fired = await sender.workflows.wait(
        f"{name}-t", lambda s: bool((s.state or {}).get("fired")), timeout=30
    )
    await asyncio.sleep(1.0)
    again = await sender.workflows.get(f"{name}-t")
    assert fired.state["fired"] == ["wake"]
    assert again.state["fired"] == ["wake"]
    assert again.timers == {}


async def test_a_full_inbox_makes_send_wait_then_fail_and_never_overwrites(
    nodes: list[hazelkit.Cluster], name: str
) -> None:
    a, _, sender = nodes
    Counter = counter(name)
    hosting = await a.workflows.host(Counter, lease=LEASE, partitions=1, inbox_capacity=8).start()
    await sender.workflows.start(Counter, f"{name}-f")
    await sender.workflows.wait(f"{name}-f", lambda s: s.state is not None)
    await hosting.stop()  # nobody applies: the inbox fills
    sent: list[int] = []
    with pytest.raises(hazelkit.CapacityError, match="stayed full"):  # noqa: PT012
        for value in range(100):
            await sender.workflows.send(f"{name}-f", value, timeout=0.3)
            sent.append(value)
    assert len(sent) == 8 - 8 // 4  # a quarter of the inbox is kept free for racing senders
    async with a.workflows.host(Counter, lease=LEASE, partitions=1, inbox_capacity=8):
        await exact(sender, [f"{name}-f"], sent)  # nothing was overwritten


async def test_nodes_must_agree_on_the_shape_of_a_space(
    nodes: list[hazelkit.Cluster], name: str
) -> None:
    a, b, _ = nodes
    Counter = counter(name)
    async with a.workflows.host(Counter, lease=LEASE, partitions=4):
        with pytest.raises(hazelkit.ConfigurationError, match="4 partitions"):
            await b.workflows.host(Counter, lease=LEASE, partitions=8).start()
