"""The loads of the agent benchmark: agents applying actions, timed on one clock.

Every node of a measurement is a Cluster in this process (on one grid, or connected to
one Hazelcast member), so every timestamp is taken on one clock (``perf_counter``). The
action under load, ``hazelkit.bench.agent.tick``, records when it ran in a table of this
module, keyed by the run; an action that runs twice for one send counts once.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import hazelkit
from hazelkit.bench._suites._workflow_load import Run

__all__ = ["agent_latencies", "agent_throughput"]

SENDERS = 32
NODES = 3
TICK = "hazelkit.bench.agent.tick"

_RUNS: dict[str, Run] = {}


@hazelkit.action(TICK)
def _tick(value: int, run_id: str, agent: str, number: int) -> int:
    """The action under load: count, and note when action ``number`` of ``agent`` ran."""
    run = _RUNS.get(run_id)
    if run is not None:
        run.note((agent, number))
    return value + 1


@contextlib.asynccontextmanager
async def _runtime(url: str) -> AsyncIterator[tuple[hazelkit.Cluster, str]]:
    """``NODES`` nodes hosting agents and one client, all Clusters of this process."""
    run_id = uuid.uuid4().hex[:10]
    async with contextlib.AsyncExitStack() as stack:
        for _ in range(NODES):
            node = await stack.enter_async_context(hazelkit.connect(url))
            await stack.enter_async_context(node.agents.host())
        client = await stack.enter_async_context(hazelkit.connect(url))
        try:
            yield client, run_id
        finally:
            _RUNS.pop(run_id, None)


async def _warm(agents: list[hazelkit.Agent[Any]], run_id: str) -> None:
    """Create every agent and let each apply one action (not measured)."""
    _RUNS[run_id] = Run(len(agents))
    await asyncio.gather(*(a.send(TICK, run_id, a.name, -1) for a in agents))
    await asyncio.wait_for(_RUNS[run_id].done.wait(), 120)


async def agent_throughput(url: str, agents: int, actions: int) -> float:
    """Actions applied per second: ``actions`` in all, spread evenly over ``agents``
    agents hosted on 3 nodes and sent by 32 tasks, from the first send to the last
    action's run."""
    async with _runtime(url) as (client, run_id):
        handles = [client.agent(f"bench-agent-{run_id}-{n}", initial=0) for n in range(agents)]
        await _warm(handles, run_id)
        load = [(handles[n % agents], n) for n in range(actions)]
        run = _RUNS[run_id] = Run(len(load))

        async def send(chunk: list[tuple[hazelkit.Agent[Any], int]]) -> None:
            for agent, number in chunk:
                await agent.send(TICK, run_id, agent.name, number)

        started = time.perf_counter()
        await asyncio.gather(*(send(load[i::SENDERS]) for i in range(SENDERS)))
        await asyncio.wait_for(run.done.wait(), 300)
        return len(load) / (max(run.applied.values()) - started)


async def agent_latencies(url: str, count: int) -> list[float]:
    """Seconds from the start of ``send`` to the action running, one action at a time
    (``count`` actions, round robin over 20 agents on 3 nodes), sorted."""
    async with _runtime(url) as (client, run_id):
        handles = [client.agent(f"bench-agent-{run_id}-{n}", initial=0) for n in range(20)]
        await _warm(handles, run_id)
        run = _RUNS[run_id] = Run(count)
        latencies = []
        for number in range(count):
            agent = handles[number % len(handles)]
            sent = time.perf_counter()
            await agent.send(TICK, run_id, agent.name, number)
            while (agent.name, number) not in run.applied:
                await asyncio.sleep(0)
                if time.perf_counter() - sent > 30:
                    raise hazelkit.OperationTimeoutError("an action was not applied in 30 s")
            latencies.append(run.applied[(agent.name, number)] - sent)
        return sorted(latencies)
