"""Benchmark 9: agents, against the least work one action needs on the same grid.

hazelkit's agents, hosted on 3 nodes (Clusters of this process), take actions from 32
sending tasks: to one agent (its actions apply one at a time, so this is one agent's
ceiling) and spread over 100 agents. Throughput runs from the first send to the last
action's run. The baseline is the workflow benchmark's: store each message in a
ringbuffer, read it in batches, one compare-and-set of its entity's record (for one
agent, every compare-and-set in a row). Also: send → applied latency, one action at a
time. Rounds interleave hazelkit and the baseline; figures are medians over rounds.
"""

from __future__ import annotations

import time
from functools import partial
from typing import Any

from hazelkit.bench import _format as fmt
from hazelkit.bench._context import Benchmark, Context
from hazelkit.bench._model import Goal, Result, Table
from hazelkit.bench._stats import percentile
from hazelkit.bench._suites._agent_load import agent_latencies, agent_throughput
from hazelkit.bench._suites._workflow_load import against_baseline, baseline_throughput

__all__ = ["BENCHMARK"]

#: The two loads: (label, agents).
SHAPES = (("1 agent", 1), ("100 agents", 100))


async def run(context: Context) -> Result:
    """Measure on the embedded grid and, when available, on Hazelcast."""
    actions, rounds, latency_count = context.mode.pick(
        smoke=(200, 1, 5), quick=(2_000, 2, 100), full=(10_000, 3, 300)
    )
    started = time.perf_counter()
    backends = await context.backends("agent")
    data: dict[str, Any] = {}
    for backend, url in backends.items():
        context.echo(f"agent: {backend}")
        data[backend] = await _measure(url, actions, rounds, latency_count)
    result = _result(data, actions=actions)
    if "hazelcast" not in backends:
        result.notes.append(f"Hazelcast not measured: {context.hazelcast['unavailable']}")
    result.seconds = time.perf_counter() - started
    return result


async def _measure(url: str, actions: int, rounds: int, latency_count: int) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for label, agents in SHAPES:
        figures[label] = await against_baseline(
            partial(agent_throughput, url, agents, actions),
            partial(baseline_throughput, url, agents, actions // agents),
            rounds=rounds,
        )
    figures["latency"] = await agent_latencies(url, latency_count)
    return figures


def _result(data: dict[str, Any], *, actions: int) -> Result:
    throughput = Table(
        f"Actions per second ({actions} actions, 32 senders, 3 nodes)",
        ["backend", "agents", "hazelkit", "baseline", "ratio"],
    )
    latency = Table("send → applied latency, one action at a time", ["backend", "p50", "p99"])
    for backend, figures in data.items():
        for label, _ in SHAPES:
            shape = figures[label]
            throughput.add(
                backend,
                label,
                f"{shape['hazelkit'].median:,.0f}",
                f"{shape['baseline'].median:,.0f}",
                f"{shape['ratio'].median:.2f}x",
            )
        samples = figures["latency"]
        latency.add(
            backend, fmt.duration(percentile(samples, 50)), fmt.duration(percentile(samples, 99))
        )
    result = Result(
        name="agent",
        title="Agents: actions against the least work a message needs",
        description=__doc__.split("\n\n", 1)[1].replace("\n", " ").strip(),
        tables=[throughput, latency],
        goals=[_goal(data.get("hazelcast"), label) for label, _ in SHAPES],
    )
    result.notes = [
        "All nodes and the client are Clusters of one process (sharing its CPU with the "
        "member on this machine); a real deployment spreads them over machines.",
        "One agent applies its actions one at a time; the actions waiting behind one are "
        "committed together, up to 32 by one compare-and-set (group commit), where the "
        "baseline writes each in a row.",
        "Latency is measured to the action's run; its commit adds one compare-and-set.",
    ]
    result.data = {backend: _data(figures) for backend, figures in data.items()}
    return result


#: What holds the figures back (from profiles of the runtime on both backends).
BOTTLENECK = (
    "the owner's CPU per action in Python (the record encoded and compared by every "
    "compare-and-set, the codec, a task and a handler context per action), shared here "
    "with the senders and the member; spread over 100 agents, actions rarely wait behind "
    "each other, so their commits are not grouped"
)


def _goal(hz: dict[str, Any] | None, label: str) -> Goal:
    ratio = None if hz is None else hz[label]["ratio"].median
    met = None if ratio is None else ratio >= 0.5
    return Goal(
        f"agent actions/s vs the baseline on Hazelcast, {label}",
        "≥ 0.5x",
        "-" if ratio is None else f"{ratio:.2f}x",
        met,
        BOTTLENECK if met is False else "",
    )


def _data(figures: dict[str, Any]) -> dict[str, Any]:
    samples = figures["latency"]
    return {
        "actions_per_second": {label: figures[label]["hazelkit"].to_json() for label, _ in SHAPES},
        "baseline_per_second": {label: figures[label]["baseline"].to_json() for label, _ in SHAPES},
        "ratio": {label: figures[label]["ratio"].to_json() for label, _ in SHAPES},
        "latency_p50": percentile(samples, 50),
        "latency_p99": percentile(samples, 99),
    }


BENCHMARK = Benchmark(
    name="agent",
    title="Agents: actions against the least work a message needs",
    order=90,
    run=run,
    summary="agent actions/s (1 and 100 agents) vs a raw ringbuffer+CAS baseline, latency",
)
