"""Group commit: a backlog of one workflow's (or agent's) messages is written by fewer
compare-and-sets, and every message is still applied exactly once, in order, through
failed and lost writes and a poison message in the middle; agent watches still see every
change (both backends)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from definitions import counter

import hazelkit
from hazelkit.testing import inject_faults
from hazelkit.workflows import WorkflowStatus

LEASE = 3.0
RECORDS = "hazelkit.workflows"
AGENTS = "hazelkit.agents"
pytestmark = pytest.mark.timeout(90)


async def backlog(sender: hazelkit.Cluster, workflow_id: str, values: list[object]) -> None:
    """Hold the workflow in a slow message while ``values`` are sent behind it."""
    await sender.workflows.send(workflow_id, {"sleep": 1.0})
    for value in values:
        await sender.workflows.send(workflow_id, value)


async def exactly(cluster: hazelkit.Cluster, workflow_id: str, values: list[int]) -> None:
    expected = {"total": sum(values), "seen": values}
    snapshot = await cluster.workflows.wait(workflow_id, lambda s: s.state == expected, timeout=30)
    assert snapshot.state == expected  # every value once, in the order sent


async def test_a_backlog_is_written_in_groups_and_applied_once_in_order(
    node: hazelkit.Cluster, cluster: hazelkit.Cluster, name: str
) -> None:
    Counter = counter(name)
    faults = inject_faults(node)  # counts the node's writes
    async with node.workflows.host(Counter, lease=LEASE):
        handle = await cluster.workflows.start(Counter, f"{name}-1")
        await handle.wait(lambda s: s.status is WorkflowStatus.RUNNING, timeout=20)
        before = faults.calls("map.replace_if_same", name=RECORDS)
        values = list(range(1, 41))
        await backlog(cluster, handle.id, values)
        await exactly(cluster, handle.id, values)
        writes = faults.calls("map.replace_if_same", name=RECORDS) - before
        snapshot = await handle.get()
    # 41 messages: the slow one alone, then the 40 behind it in groups of at most 32.
    assert 2 <= writes <= 10, writes
    assert snapshot.messages_applied == 41  # the slow one and the 40 (not the start)
    history = await cluster.workflows.history(handle.id)
    assert [t.what for t in history[-20:]] == ["message"] * 20  # one entry per message


async def test_a_failed_group_write_applies_its_messages_again_once(
    node: hazelkit.Cluster, cluster: hazelkit.Cluster, name: str
) -> None:
    Counter = counter(name)
    faults = inject_faults(node)
    async with node.workflows.host(Counter, lease=LEASE):
        handle = await cluster.workflows.start(Counter, f"{name}-1")
        await handle.wait(lambda s: s.status is WorkflowStatus.RUNNING, timeout=20)
        faults.hang("map.replace_if_same", name=RECORDS)  # the write of message 1
        values = list(range(1, 42))
        for value in values:  # 2..41 wait in the mailbox behind message 1
            await cluster.workflows.send(handle.id, value)
        await asyncio.sleep(0.5)  # the owner reads them into the mailbox meanwhile
        before = faults.calls("map.replace_if_same", name=RECORDS)
        # The first group's write is refused (nothing applied), then its second try is
        # applied with the reply lost (the owner must read back before going on).
        faults.fail("map.replace_if_same", name=RECORDS)
        faults.drop("map.replace_if_same", name=RECORDS)
        faults.release()
        await exactly(cluster, handle.id, values)
        writes = faults.calls("map.replace_if_same", name=RECORDS) - before
    assert 2 <= writes <= 12, writes  # grouped: far fewer than one per message


async def test_a_poison_message_in_a_backlog_keeps_what_came_before_it(
    node: hazelkit.Cluster, cluster: hazelkit.Cluster, name: str
) -> None:
    Counter = counter(name, max_retries=1)
    async with node.workflows.host(Counter, lease=LEASE):
        handle = await cluster.workflows.start(Counter, f"{name}-1")
        await handle.wait(lambda s: s.status is WorkflowStatus.RUNNING, timeout=20)
        await backlog(cluster, handle.id, [1, 2, 3, "boom", 4, 5])
        paused = await handle.wait(WorkflowStatus.PAUSED, timeout=20)
        assert paused.state == {"total": 6, "seen": [1, 2, 3]}  # those before it are kept
        await cluster.workflows.skip(handle.id, "poison")
        await exactly(cluster, handle.id, [1, 2, 3, 4, 5])


@hazelkit.action("test-group-commit.slow")
async def slow(value: list[Any]) -> list[Any]:
    await asyncio.sleep(1.0)
    return value


@hazelkit.action("test-group-commit.append")
def append(value: list[Any], item: Any) -> list[Any]:
    return [*value, item]


async def test_agent_actions_are_grouped_and_watches_still_see_every_change(
    url: str, cluster: hazelkit.Cluster, name: str
) -> None:
    async with hazelkit.connect(url) as node:
        faults = inject_faults(node)
        async with node.agents.host(lease=LEASE):
            agent = cluster.agent(name, initial=[])
            changes: list[tuple[Any, Any]] = []
            await agent.add_watch("log", lambda old, new: changes.append((old, new)))
            await agent.send(slow)
            before = faults.calls("map.replace_if_same", name=AGENTS)
            for item in range(20):
                await agent.send(append, item)
            await agent.await_(timeout=30)
            assert await agent.deref() == list(range(20))
            writes = faults.calls("map.replace_if_same", name=AGENTS) - before
            # The actions queued behind the slow one were written in groups...
            assert writes < 20, writes
            # ...and the watch saw the value after every one of them, in order.
            expected = [(list(range(n)), list(range(n + 1))) for n in range(20)]
            async with asyncio.timeout(20):
                while len(changes) < len(expected):
                    await asyncio.sleep(0.05)
            assert changes == expected
            await agent.remove_watch("log")
