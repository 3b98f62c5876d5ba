"""The loads of the workflow benchmark: hazelkit's runtime and the raw baseline.

Every node of a measurement is a Cluster in this process (on one grid, or connected to
one Hazelcast member), so every timestamp is taken on one clock (``perf_counter``).
The workflow under load records when its handler ran in a table of this module, keyed by
the run; a handler that runs twice for one message (a retry) counts once.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
import tracemalloc
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import hazelkit
from hazelkit import lowlevel
from hazelkit._runtime._hashing import partition_of
from hazelkit._runtime._space import DEFAULT_PARTITIONS
from hazelkit.bench._runner import interleave_async
from hazelkit.bench._stats import Summary, paired_ratios, summarize
from hazelkit.testing import crash
from hazelkit.workflows import Context, Hosting, Workflow

__all__ = [
    "Run",
    "against_baseline",
    "baseline_throughput",
    "failover_seconds",
    "idle_bytes",
    "runtime_latencies",
    "runtime_throughput",
]

SENDERS = 32


@dataclass
class Run:
    """What the handlers of one measurement saw."""

    expected: int
    applied: dict[tuple[str, int], float] = field(default_factory=dict)
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def note(self, key: tuple[str, int]) -> None:
        if key not in self.applied:
            self.applied[key] = time.perf_counter()
            if len(self.applied) >= self.expected:
                self.done.set()


_RUNS: dict[str, Run] = {}


def _definition(run_id: str) -> type[Workflow]:
    class Tally(Workflow):
        name = f"hazelkit.bench.tally.{run_id}"
        max_retries = 0

        def initial(self, args: Any) -> Any:
            return {"n": 0}

        async def handle(self, ctx: Context, state: Any, message: Any) -> Any:
            _RUNS[run_id].note((ctx.workflow_id, message))
            return {"n": state["n"] + 1}

    return Tally


_Setup = tuple[list[hazelkit.Cluster], list[Hosting], hazelkit.Cluster, type[Workflow], str]


@contextlib.asynccontextmanager
async def _runtime(
    url: str, nodes: int, lease: float = 5.0
) -> AsyncIterator[
    tuple[list[hazelkit.Cluster], list[Hosting], hazelkit.Cluster, type[Workflow], str]
]:
    run_id = uuid.uuid4().hex[:10]
    definition = _definition(run_id)
    clusters = [await hazelkit.connect(url) for _ in range(nodes)]
    client = await hazelkit.connect(url)
    try:
        hostings = [await c.workflows.host(definition, lease=lease).start() for c in clusters]
        yield clusters, hostings, client, definition, run_id
    finally:
        for hosting in hostings:
            with contextlib.suppress(hazelkit.HazelkitError):
                await hosting.stop()
        for cluster in (*clusters, client):
            await cluster.close()
        _RUNS.pop(run_id, None)


async def _start_all(client: hazelkit.Cluster, definition: type[Workflow], ids: list[str]) -> None:
    async def start(chunk: list[str]) -> None:
        for workflow_id in chunk:
            await client.workflows.start(definition, workflow_id)

    await asyncio.gather(*(start(ids[i::SENDERS]) for i in range(SENDERS)))
    await client.workflows.wait(ids[-1], lambda s: s.state is not None, timeout=120)


async def _send_all(
    client: hazelkit.Cluster, messages: list[tuple[str, int]], timeout: float
) -> None:
    async def send(chunk: list[tuple[str, int]]) -> None:
        for workflow_id, number in chunk:
            await client.workflows.send(workflow_id, number, timeout=timeout)

    await asyncio.gather(*(send(messages[i::SENDERS]) for i in range(SENDERS)))


async def runtime_throughput(url: str, workflows: int, messages: int, nodes: int) -> float:
    """Messages applied per second: ``workflows`` x ``messages`` sent by 32 tasks to
    workflows hosted on ``nodes`` nodes, from the first send to the last handler run."""
    async with _runtime(url, nodes) as (_, _, client, definition, run_id):
        ids = [f"{run_id}-{n}" for n in range(workflows)]
        await _start_all(client, definition, ids)
        load = [(w, m) for m in range(messages) for w in ids]
        run = _RUNS[run_id] = Run(len(load))
        started = time.perf_counter()
        await _send_all(client, load, timeout=120)
        await asyncio.wait_for(run.done.wait(), 300)
        return len(load) / (max(run.applied.values()) - started)


async def runtime_latencies(url: str, nodes: int, count: int) -> list[float]:
    """Seconds from the start of ``send`` to the handler running, one message at a
    time (``count`` messages, round robin over 20 workflows)."""
    async with _runtime(url, nodes) as (_, _, client, definition, run_id):
        ids = [f"{run_id}-{n}" for n in range(20)]
        await _start_all(client, definition, ids)
        run = _RUNS[run_id] = Run(count)
        latencies = []
        for number in range(count):
            workflow_id = ids[number % len(ids)]
            sent = time.perf_counter()
            await client.workflows.send(workflow_id, number)
            while (workflow_id, number) not in run.applied:
                await asyncio.sleep(0)
                if time.perf_counter() - sent > 30:
                    raise hazelkit.OperationTimeoutError("a message was not applied in 30 s")
            latencies.append(run.applied[(workflow_id, number)] - sent)
        return sorted(latencies)


async def failover_seconds(url: str, lease: float, graceful: bool) -> float:
    """Seconds from a node crashing (or leaving) to a message of a workflow it owned
    being applied on a survivor (3 nodes)."""
    async with _runtime(url, 3, lease) as (clusters, hostings, client, definition, run_id):
        ids = [f"{run_id}-{n}" for n in range(64)]
        await _start_all(client, definition, ids)
        # A workflow of a partition the first node applies now (records name the node
        # that committed last, which may have handed the partition on since).
        partitions = set(hostings[0].partitions()[definition.name])
        victim = next(w for w in ids if partition_of(w, DEFAULT_PARTITIONS) in partitions)
        run = _RUNS[run_id] = Run(1)
        stopped = time.perf_counter()
        if graceful:
            await hostings[0].stop()
        else:
            await crash(clusters[0])
        await client.workflows.send(victim, 0)
        await asyncio.wait_for(run.done.wait(), lease * 4 + 30)
        return run.applied[(victim, 0)] - stopped


async def idle_bytes(url: str, workflows: int) -> float:
    """Bytes of this process's memory (tracemalloc) per idle workflow on a node that
    applied one message to each and then let them be (they are passivated)."""
    async with _runtime(url, 1) as (_, _, client, definition, run_id):
        ids = [f"{run_id}-{n}" for n in range(workflows)]
        gc.collect()
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            await _start_all(client, definition, ids)
            run = _RUNS[run_id] = Run(len(ids))
            await _send_all(client, [(w, 0) for w in ids], timeout=120)
            await asyncio.wait_for(run.done.wait(), 300)
            await asyncio.sleep(1.0)  # the last commits and cursor writes
            client.workflows._client._types.clear()  # the client's own id cache
            gc.collect()
            after = tracemalloc.get_traced_memory()[0]
        finally:
            tracemalloc.stop()
        return max(0.0, (after - before) / workflows)


async def baseline_throughput(url: str, workflows: int, messages: int) -> float:
    """The minimum one message needs on the same grid, per second: store it in a
    ringbuffer (32 sending tasks), read it in batches, and one compare-and-set of its
    entity's record (entities in parallel, each one's messages in order)."""
    cluster = await hazelkit.connect(url)
    try:
        backend = lowlevel.backend(cluster)
        name = f"bench-baseline-{uuid.uuid4().hex[:10]}"
        ring, records = backend.ringbuffer(name, capacity=100_000), backend.map(name)
        total = workflows * messages
        keys = [cluster.codec.encode_key(n) for n in range(workflows)]
        payloads = [cluster.codec.encode({"entity": n, "m": 0}) for n in range(workflows)]
        started = time.perf_counter()
        consumer = asyncio.ensure_future(_consume(ring, records, keys, total))

        async def send(offset: int) -> None:
            for index in range(offset, total, SENDERS):
                await ring.add(payloads[index % workflows])

        await asyncio.gather(*(send(i) for i in range(SENDERS)))
        await asyncio.wait_for(consumer, 300)
        elapsed = time.perf_counter() - started
        await ring.destroy()
        await records.destroy()
        return total / elapsed
    finally:
        await cluster.close()


async def against_baseline(
    ours: Callable[[], Awaitable[float]],
    baseline: Callable[[], Awaitable[float]],
    *,
    rounds: int,
) -> dict[str, Summary]:
    """Throughputs (per second) of ``ours`` and of ``baseline`` over ``rounds``
    interleaved rounds (each goes first in turn): ``hazelkit`` and ``baseline`` summarized,
    and ``ratio``, the summary of each round's ratio."""
    measured = await interleave_async(
        {"hazelkit": ours, "baseline": baseline}, rounds=rounds, warmup=0
    )
    return {
        "hazelkit": summarize(measured["hazelkit"]),
        "baseline": summarize(measured["baseline"]),
        "ratio": paired_ratios(measured["hazelkit"], measured["baseline"]),
    }


async def _consume(ring: Any, records: Any, keys: list[bytes], total: int) -> None:
    current: dict[bytes, bytes | None] = dict.fromkeys(keys)
    count = [0] * len(keys)
    done, sequence = 0, 0
    while done < total:
        batch = await ring.read_many(sequence, 1, 999, 1.0)
        sequence = batch.next_sequence
        by_entity: dict[int, int] = {}
        for index, _item in enumerate(batch.items):
            entity = (batch.sequences[index]) % len(keys)
            by_entity[entity] = by_entity.get(entity, 0) + 1
        await asyncio.gather(
            *(_apply(records, keys[e], n, current, count, e) for e, n in by_entity.items())
        )
        done += len(batch.items)


async def _apply(
    records: Any,
    key: bytes,
    times: int,
    current: dict[bytes, bytes | None],
    count: list[int],
    entity: int,
) -> None:
    for _ in range(times):
        count[entity] += 1
        new = count[entity].to_bytes(8, "big")
        old = current[key]
        if old is None:
            await records.put_if_absent(key, new)
        else:
            await records.replace_if_same(key, old, new)
        current[key] = new
