"""Benchmark 8: workflows, against the least work one message needs on the same grid.

hazelkit's runtime: workflows hosted on 3 nodes (Clusters of this process) take messages
from 32 sending tasks; throughput runs from the first send to the last handler run. The
baseline does the minimum one message needs on the same grid: store it in a ringbuffer,
read it in batches, one compare-and-set of its entity's record (the runtime also checks
room, reads its record once per activation, writes outbox and cursor, and hands the
message between tasks). A burst to a few workflows (each with a backlog, so their commits
are grouped) against the same baseline. Throughput rounds interleave hazelkit and the
baseline (each goes first in turn); figures are medians over rounds, and the ratio is the
median of each round's ratio. Also: send → handler latency one message at a
time on 1 and 3 nodes, failover time after a crash and after a graceful leave, and this
process's memory per idle (passivated) workflow.
"""

from __future__ import annotations

import time
from functools import partial
from typing import Any

from hazelkit.bench import _format as fmt
from hazelkit.bench._context import Benchmark, Context
from hazelkit.bench._model import Goal, Result, Table
from hazelkit.bench._stats import Summary, percentile
from hazelkit.bench._suites._workflow_load import (
    against_baseline,
    baseline_throughput,
    failover_seconds,
    idle_bytes,
    runtime_latencies,
    runtime_throughput,
)

__all__ = ["BENCHMARK"]

#: The burst: a few workflows, each with a backlog (commits grouped).
BURST_WORKFLOWS = 4


async def run(context: Context) -> Result:
    """Measure on the embedded grid and, when available, on Hazelcast."""
    workflows, messages, latency_count, idle, lease = context.mode.pick(
        smoke=(10, 2, 5, 20, 3.0),
        quick=(200, 10, 100, 2_000, 3.0),
        full=(1_000, 20, 300, 20_000, 5.0),
    )
    burst = context.mode.pick(smoke=20, quick=500, full=2_000)
    rounds = context.mode.pick(smoke=1, quick=2, full=3)
    started = time.perf_counter()
    backends = await context.backends("workflow")
    data: dict[str, Any] = {}
    for backend, url in backends.items():
        context.echo(f"workflow: {backend}")
        data[backend] = await _measure(
            url, workflows, messages, latency_count, idle, lease, context
        )
        data[backend]["throughput"] = await against_baseline(
            partial(runtime_throughput, url, workflows, messages, 3),
            partial(baseline_throughput, url, workflows, messages),
            rounds=rounds,
        )
        data[backend]["burst"] = await against_baseline(
            partial(runtime_throughput, url, BURST_WORKFLOWS, burst, 1),
            partial(baseline_throughput, url, BURST_WORKFLOWS, burst),
            rounds=rounds,
        )
    result = _result(
        data, workflows=workflows, messages=messages, lease=lease, burst=burst, rounds=rounds
    )
    if "hazelcast" not in backends:
        result.notes.append(f"Hazelcast not measured: {context.hazelcast['unavailable']}")
    result.seconds = time.perf_counter() - started
    return result


async def _measure(
    url: str, workflows: int, messages: int, count: int, idle: int, lease: float, context: Context
) -> dict[str, Any]:
    figures: dict[str, Any] = {
        "latency": {n: await runtime_latencies(url, n, count) for n in (1, 3)},
        "idle_bytes": await idle_bytes(url, idle),
    }
    if not context.smoke:
        figures["failover_crash"] = await failover_seconds(url, lease, graceful=False)
        figures["failover_leave"] = await failover_seconds(url, lease, graceful=True)
    return figures


def _cells(figures: dict[str, Summary]) -> tuple[str, str, str]:
    ratio = figures["ratio"]
    spread = f" ({ratio.min:.2f}-{ratio.max:.2f})" if ratio.n > 1 else ""
    return (
        f"{figures['hazelkit'].median:,.0f}",
        f"{figures['baseline'].median:,.0f}",
        f"{ratio.median:.2f}x{spread}",
    )


def _result(
    data: dict[str, Any],
    *,
    workflows: int,
    messages: int,
    lease: float,
    burst: int,
    rounds: int,
) -> Result:
    throughput = Table(
        f"Messages per second ({workflows} workflows x {messages} messages, 3 nodes;"
        f" medians of {rounds} rounds, ratio range in brackets)",
        ["backend", "hazelkit", "baseline", "ratio"],
    )
    bursts = Table(
        f"Messages per second, a burst ({BURST_WORKFLOWS} workflows x {burst} messages, 1 node:"
        " commits grouped)",
        ["backend", "hazelkit", "baseline", "ratio"],
    )
    latency = Table(
        "send → handler latency, one message at a time", ["backend", "nodes", "p50", "p99"]
    )
    other = Table(
        "Failover and memory",
        ["backend", "crash → applied on a survivor", "leave → applied", "bytes per idle workflow"],
    )
    for backend, figures in data.items():
        throughput.add(backend, *_cells(figures["throughput"]))
        bursts.add(backend, *_cells(figures["burst"]))
        for nodes, samples in figures["latency"].items():
            latency.add(
                backend,
                nodes,
                fmt.duration(percentile(samples, 50)),
                fmt.duration(percentile(samples, 99)),
            )
        crash = figures.get("failover_crash")
        leave = figures.get("failover_leave")
        other.add(
            backend,
            "-" if crash is None else f"{crash:.2f} s (lease {lease:g} s)",
            "-" if leave is None else f"{leave:.2f} s",
            f"{figures['idle_bytes']:,.0f}",
        )
    hz = data.get("hazelcast")
    ratio = None if hz is None else hz["throughput"]["ratio"].median
    goals = [
        Goal(
            "workflow messages/s vs the baseline on Hazelcast",
            "≥ 0.5x",
            "-" if ratio is None else f"{ratio:.2f}x",
            None if ratio is None else ratio >= 0.5,
        ),
        Goal(
            "failover after a crash",
            f"≤ lease + 2 s ({lease + 2:g} s)",
            "-" if hz is None or "failover_crash" not in hz else f"{hz['failover_crash']:.2f} s",
            None if hz is None or "failover_crash" not in hz else hz["failover_crash"] <= lease + 2,
        ),
    ]
    result = Result(
        name="workflow",
        title="Workflows: the runtime against the least work a message needs",
        description=__doc__.split("\n\n", 1)[1].replace("\n", " ").strip(),
        tables=[throughput, bursts, latency, other],
        goals=goals,
    )
    result.notes = [
        "All nodes and the client are Clusters of one process (sharing its CPU with the "
        "member on this machine); a real deployment spreads them over machines.",
        "Latency is measured to the handler's run; its commit adds one compare-and-set.",
        "Memory per idle workflow is this whole process's growth (tracemalloc) after every "
        "workflow applied one message and went idle: the node keeps no idle workflow.",
    ]
    result.data = {
        backend: {
            "messages_per_second": figures["throughput"]["hazelkit"].median,
            "baseline_per_second": figures["throughput"]["baseline"].median,
            "throughput": {k: v.to_json() for k, v in figures["throughput"].items()},
            "latency_p50": {n: percentile(s, 50) for n, s in figures["latency"].items()},
            "latency_p99": {n: percentile(s, 99) for n, s in figures["latency"].items()},
            "idle_bytes": figures["idle_bytes"],
            "failover_crash": figures.get("failover_crash"),
            "failover_leave": figures.get("failover_leave"),
            "burst_per_second": figures["burst"]["hazelkit"].median,
            "burst_baseline_per_second": figures["burst"]["baseline"].median,
            "burst": {k: v.to_json() for k, v in figures["burst"].items()},
        }
        for backend, figures in data.items()
    }
    return result


BENCHMARK = Benchmark(
    name="workflow",
    title="Workflows: the runtime against the least work a message needs",
    order=80,
    run=run,
    summary="workflow messages/s vs a raw ringbuffer+CAS baseline, latency, failover, memory",
)
