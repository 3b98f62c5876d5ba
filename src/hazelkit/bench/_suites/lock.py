"""Benchmark 3d: Lock acquire/release pairs per second, uncontended and contended.

1 task (uncontended), then 4 and 16 tasks of one process on one lock, on Hazelcast
(hazelkit, and the raw client's IMap key lock) and on the embedded grid; then 2 OS
processes on one lock on Hazelcast. A pair's latency runs from the acquire call to
the end of the release, waiting included. Mutual exclusion is checked on the way:
inside the lock each task yields once and counts whether another task is inside
too, and the processes' fencing tokens must all differ.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from functools import partial

from hazelkit.bench import _format as fmt
from hazelkit.bench._context import Benchmark, Context
from hazelkit.bench._model import Chart, Goal, Result, Table
from hazelkit.bench._runner import Load, drive, summarize_load
from hazelkit.bench._suites._lock_contenders import (
    EMBEDDED,
    HAZELKIT,
    RAW,
    LockContender,
    open_contenders,
)
from hazelkit.bench._suites._points import (
    PointResult,
    latency_panel,
    load_cells,
    measure,
    point_json,
    throughput_panel,
    versus_cell,
)
from hazelkit.bench._suites._processes import run_processes

__all__ = ["BENCHMARK"]

TASKS = (1, 4, 16)
PROCESSES = 2
IN_PROCESSES = f"hazelkit, {PROCESSES} processes"


async def _round(contender: LockContender, tasks: int, duration: float) -> Load:
    return await drive(contender.pair, concurrency=tasks, duration=duration)


async def _across_processes(url: str, name: str, count: int, runs: int) -> tuple[PointResult, int]:
    """The 2-process point, and how many fencing tokens were granted twice (must be 0)."""
    loads: list[Load] = []
    repeated = 0
    for index in range(runs):
        run = await run_processes(
            "lock", url, f"{name}-{index}", count, processes=PROCESSES, timeout=60 + count * 0.1
        )
        tokens = [token for report in run.reports for token in report["tokens"]]
        repeated += len(tokens) - len(set(tokens))
        loads.append(Load(run.ops, run.seconds, run.latencies))
    point = PointResult(
        label=f"{PROCESSES} processes",
        x=PROCESSES,
        summaries={IN_PROCESSES: summarize_load(loads)},
        throughputs={IN_PROCESSES: [load.throughput for load in loads]},
    )
    return point, repeated


async def run(context: Context) -> Result:
    """Measure every point on every contender available; see the module docstring."""
    duration, rounds, warmup, count, runs = context.mode.pick(
        smoke=(0.01, 1, 0, 3, 1), quick=(0.15, 3, 1, 100, 1), full=(0.5, 8, 1, 500, 3)
    )
    started = time.perf_counter()
    url = await context.hazelcast_url()
    names = {label: context.name(f"lock-{i}") for i, label in enumerate((HAZELKIT, RAW, EMBEDDED))}
    measured: list[PointResult] = []
    async with open_contenders(url, names) as contenders:
        for tasks in TASKS:
            label = f"{tasks} task" + ("s" if tasks > 1 else "")
            context.echo(f"lock: {label}")
            rounds_of = {c.name: partial(_round, c, tasks, duration) for c in contenders}
            measured.append(await measure(label, tasks, rounds_of, rounds=rounds, warmup=warmup))
        violations = sum(c.violations for c in contenders)
    processes, repeated = None, 0
    if url is not None:
        context.echo(f"lock: {PROCESSES} processes")
        processes, repeated = await _across_processes(url, context.name("lock-p"), count, runs)
    result = _result(measured, processes, rounds=rounds, duration=duration, count=count)
    result.goals = [_exclusion(violations, repeated, processes is not None)]
    if url is None:
        result.notes.append(
            f"Hazelcast contenders not measured: {context.hazelcast['unavailable']}"
        )
    result.seconds = time.perf_counter() - started
    return result


def _exclusion(violations: int, repeated: int, processes: bool) -> Goal:
    checked = "overlaps inside the lock" + (", fencing tokens granted twice" if processes else "")
    return Goal(
        "lock, mutual exclusion",
        "no task inside while another is; every fencing token granted once",
        f"{violations + repeated} ({checked})",
        violations == 0 and repeated == 0,
    )


def _result(
    measured: list[PointResult],
    processes: PointResult | None,
    *,
    rounds: int,
    duration: float,
    count: int,
) -> Result:
    everything: Sequence[PointResult] = measured + ([processes] if processes else [])
    table = Table(
        "Acquire/release pairs per second",
        ["tasks", "contender", "pairs/s", "spread", "p50", "p99", "ratio"],
    )
    for point in everything:
        for name, summary in point.summaries.items():
            table.add(point.label, name, *load_cells(summary), _ratio(point, name))
    panels = [throughput_panel("pairs per second", measured, "tasks on one lock", "pairs/s")]
    panels += [latency_panel(point, f"{point.label}: pair latency") for point in measured[1:]]
    result = Result(
        name="lock",
        title="Lock: acquire/release pairs",
        description=(
            f"Acquire/release pairs per second on one lock (median of {rounds} interleaved "
            f"rounds of {fmt.duration(duration)} per contender and point), and from "
            f"{PROCESSES} processes doing {count} pairs each on Hazelcast. Latency runs "
            "from the acquire call to the end of the release, waiting included."
        ),
        tables=[table],
        charts=[
            Chart("lock.png", "Lock acquire/release pairs", "lines", panels[:1]),
            Chart(
                "lock-latency.png", "Lock pair latency under contention (CDF)", "cdf", panels[1:]
            ),
        ],
    )
    result.notes = [
        "ratio: hazelkit ÷ the raw client's IMap.lock, and the embedded grid ÷ hazelkit "
        "on Hazelcast; medians of per-round ratios.",
        "hazelkit's Lock is a lease with a fencing token, taken by compare-and-set "
        "(put_if_absent the lease with a TTL, advance the fencing counter from the bytes "
        "this node last saw, read first when another node moved it) and renewed in the "
        "background: three grid calls per uncontended pair; waiters wake on entry "
        "events and re-check at least every second. IMap.lock is granted by the member "
        "in one round trip, without fencing tokens, and is not released when its holder "
        "dies unless given a lease time. There is no CP FencedLock on Community members.",
    ]
    result.data = {
        "rounds": rounds,
        "round_seconds": duration,
        "pairs_per_process": count,
        "points": [point_json(point) for point in everything],
    }
    return result


def _ratio(point: PointResult, name: str) -> str:
    return versus_cell(point, name, hazelkit=HAZELKIT, raw=RAW, embedded=EMBEDDED)


BENCHMARK = Benchmark(
    name="lock",
    title="Lock: acquire/release pairs",
    order=60,
    run=run,
    summary="Lock acquire/release pairs/s and p50/p99 at 1/4/16 tasks and 2 processes",
)
