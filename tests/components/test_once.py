"""once(): a step runs on one node of many, and every node gets its outcome (both
backends)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

import hazelkit
from hazelkit.components import forget_once, once
from hazelkit.testing import crash

pytestmark = pytest.mark.timeout(90)
LEASE = 3.0  # the shortest lock lease: a crashed holder's lock is free again within it


async def test_ten_nodes_at_the_same_moment_run_the_step_once_and_all_get_its_result(
    nodes: list[hazelkit.Cluster], name: str
) -> None:
    runs: list[int] = []

    def step_of(node: int) -> Callable[[], Awaitable[dict[str, object]]]:
        async def step() -> dict[str, object]:
            runs.append(node)
            await asyncio.sleep(0.3)  # long enough for every other node to be waiting
            return {"schema": 3, "by": node}

        return step

    results = await asyncio.gather(*(once(c, name, step_of(n)) for n, c in enumerate(nodes)))
    assert len(runs) == 1
    assert results == [{"schema": 3, "by": runs[0]}] * len(nodes)
    assert await once(nodes[0], name, step_of(99)) == {"schema": 3, "by": runs[0]}  # later too
    assert len(runs) == 1


async def test_a_failure_is_recorded_and_every_node_gets_it(
    nodes: list[hazelkit.Cluster], name: str
) -> None:
    runs = 0

    async def step() -> None:
        nonlocal runs
        runs += 1
        await asyncio.sleep(0.2)
        raise ValueError("column exists")

    outcomes = await asyncio.gather(*(once(c, name, step) for c in nodes), return_exceptions=True)
    assert runs == 1
    assert all(isinstance(o, hazelkit.ComponentError) for o in outcomes)
    errors = [o for o in outcomes if isinstance(o, hazelkit.ComponentError)]
    assert {e.error for e in errors} == {"ValueError: column exists"}
    assert {e.component for e in errors} == {name}
    assert sum(isinstance(e.__cause__, ValueError) for e in errors) == 1  # where it ran
    assert all("failed on" in str(e) and "column exists" in str(e) for e in errors)

    async def fixed() -> str:
        return "done"

    with pytest.raises(hazelkit.ComponentError, match="column exists"):
        await once(nodes[1], name, fixed)  # recorded: not run again
    await forget_once(nodes[1], name)
    assert await once(nodes[2], name, fixed) == "done"


async def test_when_the_holder_crashes_mid_step_another_node_runs_it(
    nodes: list[hazelkit.Cluster], name: str
) -> None:
    holder, other = nodes[0], nodes[1]
    began = asyncio.Event()
    runs: list[str] = []

    async def hangs() -> str:
        runs.append("holder")
        began.set()
        await asyncio.Event().wait()
        return "never"

    async def finishes() -> str:
        runs.append("other")
        return "migrated"

    running = asyncio.create_task(once(holder, name, hangs, lease=LEASE))
    await began.wait()
    waiting = asyncio.create_task(once(other, name, finishes, lease=LEASE))
    await asyncio.sleep(0.5)
    assert not waiting.done()  # it waits for the holder
    await crash(holder)  # as SIGKILL would: the lock is not released, its lease lapses
    assert await asyncio.wait_for(waiting, LEASE + 10) == "migrated"
    assert runs == ["holder", "other"]
    running.cancel()  # the crashed node's task (a dead process would have none)
    with pytest.raises(asyncio.CancelledError):
        await running
    assert await once(nodes[2], name, finishes) == "migrated"


async def test_a_result_that_cannot_be_stored_is_recorded_as_a_failure(
    cluster: hazelkit.Cluster, name: str
) -> None:
    async def step() -> object:
        return object()

    with pytest.raises(hazelkit.ComponentError, match="its result cannot be stored"):
        await once(cluster, name, step)
    with pytest.raises(hazelkit.ComponentError, match="its result cannot be stored"):
        await once(cluster, name, step)  # recorded: it ran
