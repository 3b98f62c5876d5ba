"""Benchmark 3a: Atom swap under contention.

1, 4 and 16 tasks of one process increment one atom with ``swap`` as fast as they can,
on Hazelcast (hazelkit, and the raw client's compare-and-set loop on an IMap) and on
the embedded grid; then 4 OS processes do the same on Hazelcast. Every swap function
counts its calls, so the table shows compare-and-set attempts per swap (1.00: no
retries). After every round the atom's value must have grown by exactly the number of
swaps counted: no lost and no doubled update.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

import hazelkit
from hazelkit.bench import _format as fmt
from hazelkit.bench._context import Benchmark, Context
from hazelkit.bench._model import Chart, Goal, Panel, Result, Table
from hazelkit.bench._runner import Load, drive, summarize_load
from hazelkit.bench._suites._atom_contenders import (
    EMBEDDED,
    HAZELKIT,
    RAW,
    AtomContender,
    open_contenders,
)
from hazelkit.bench._suites._points import (
    PointResult,
    load_cells,
    measure,
    point_json,
    throughput_panel,
    versus_cell,
)
from hazelkit.bench._suites._processes import run_processes

__all__ = ["BENCHMARK", "SwapLoad"]

SWAPPERS = (1, 4, 16)
PROCESSES = 4
IN_PROCESSES = f"hazelkit, {PROCESSES} processes"


@dataclass
class SwapLoad(Load):
    """A round of swaps, with the compare-and-set attempts they took and whether the
    atom grew by exactly the number of swaps."""

    attempts: int = 0
    exact: bool = True


async def _round(contender: AtomContender, swappers: int, duration: float) -> SwapLoad:
    before, attempts = await contender.value(), contender.attempts
    load = await drive(contender.swap, concurrency=swappers, duration=duration)
    grown = await contender.value() - before
    return SwapLoad(
        load.ops,
        load.seconds,
        load.latencies,
        attempts=contender.attempts - attempts,
        exact=grown == load.ops,
    )


def _extras(loads: Sequence[Load]) -> dict[str, float]:
    swaps = [load for load in loads if isinstance(load, SwapLoad)]
    return {
        "attempts_per_swap": sum(s.attempts for s in swaps) / max(1, sum(s.ops for s in swaps)),
        "inexact_rounds": float(sum(not s.exact for s in swaps)),
    }


async def _across_processes(url: str, name: str, count: int, runs: int) -> PointResult:
    loads: list[Load] = []
    async with hazelkit.connect(url) as cluster:
        atom = cluster.atom(name, initial=0)
        try:
            for _ in range(runs):
                before = await atom.deref()
                run = await run_processes(
                    "atom", url, name, count, processes=PROCESSES, timeout=60 + count * 0.05
                )
                attempts = sum(int(report["attempts"]) for report in run.reports)
                exact = await atom.deref() - before == run.ops
                loads.append(SwapLoad(run.ops, run.seconds, run.latencies, attempts, exact))
        finally:
            await atom.destroy()
    return PointResult(
        label=f"{PROCESSES} processes",
        x=PROCESSES,
        summaries={IN_PROCESSES: summarize_load(loads)},
        throughputs={IN_PROCESSES: [load.throughput for load in loads]},
        extras={IN_PROCESSES: _extras(loads)},
    )


async def run(context: Context) -> Result:
    """Measure every point on every contender available; see the module docstring."""
    duration, rounds, warmup, count, runs = context.mode.pick(
        smoke=(0.01, 1, 0, 5, 1), quick=(0.1, 3, 1, 250, 1), full=(0.4, 10, 1, 1500, 3)
    )
    started = time.perf_counter()
    url = await context.hazelcast_url()
    names = {label: context.name(f"atom-{i}") for i, label in enumerate((HAZELKIT, RAW, EMBEDDED))}
    measured: list[PointResult] = []
    async with open_contenders(url, names) as contenders:
        for swappers in SWAPPERS:
            context.echo(f"atom: {swappers} swappers")
            rounds_of = {c.name: partial(_round, c, swappers, duration) for c in contenders}
            label = f"{swappers} swapper" + ("s" if swappers > 1 else "")
            measured.append(
                await measure(
                    label, swappers, rounds_of, rounds=rounds, warmup=warmup, extras=_extras
                )
            )
    processes = None
    if url is not None:
        context.echo(f"atom: {PROCESSES} processes")
        processes = await _across_processes(url, context.name("atom-p"), count, runs)
    result = _result(measured, processes, rounds=rounds, duration=duration, count=count)
    if url is None:
        result.notes.append(
            f"Hazelcast contenders not measured: {context.hazelcast['unavailable']}"
        )
    result.seconds = time.perf_counter() - started
    return result


def _result(
    measured: list[PointResult],
    processes: PointResult | None,
    *,
    rounds: int,
    duration: float,
    count: int,
) -> Result:
    everything = measured + ([processes] if processes else [])
    table = Table(
        "Swaps per second",
        ["swappers", "contender", "swaps/s", "spread", "p50", "p99", "attempts/swap", "ratio"],
    )
    for point in everything:
        for name, summary in point.summaries.items():
            attempts = point.extras[name]["attempts_per_swap"]
            table.add(
                point.label, name, *load_cells(summary), f"{attempts:.2f}", _ratio(point, name)
            )
    inexact = sum(p.extras[n]["inexact_rounds"] for p in everything for n in p.summaries)
    exactness = Goal(
        "atom swaps, exactly once",
        "final value = initial + swaps counted, every round",
        "exact in every round" if not inexact else f"{inexact:g} rounds off",
        inexact == 0,
    )
    result = Result(
        name="atom",
        title="Atom swap under contention",
        description=(
            f"`await atom.swap(lambda n: n + 1)` from concurrent tasks of one process "
            f"(median of {rounds} interleaved rounds of {fmt.duration(duration)}), and "
            f"from {PROCESSES} processes doing {count} swaps each on Hazelcast. Latency is "
            "per swap, retries included; attempts/swap counts calls of the swap function "
            "(1.00: no compare-and-set was ever lost)."
        ),
        tables=[table],
        goals=[exactness],
        charts=[_chart(measured)],
    )
    result.notes = [
        "ratio: hazelkit ÷ the raw client's CAS loop (same backoff), and the embedded grid "
        "÷ hazelkit on Hazelcast; medians of per-round ratios.",
        "The swaps of one atom through one Cluster take turns locally, so tasks of one "
        "process never lose a compare-and-set to each other (1.00 attempts per swap): only "
        "other processes' swaps make one retry, as in the 4-process row.",
    ]
    result.data = {
        "rounds": rounds,
        "round_seconds": duration,
        "swaps_per_process": count,
        "points": [point_json(point) for point in everything],
    }
    return result


def _ratio(point: PointResult, name: str) -> str:
    return versus_cell(point, name, hazelkit=HAZELKIT, raw=RAW, embedded=EMBEDDED)


def _chart(measured: list[PointResult]) -> Chart:
    attempts = Panel(
        "compare-and-set attempts per swap",
        "concurrent swappers",
        "attempts per swap",
        {
            name: [point.extras[name]["attempts_per_swap"] for point in measured]
            for name in measured[0].summaries
        },
        x=[point.x for point in measured],
        log_x=True,
    )
    swaps = throughput_panel("swaps per second", measured, "concurrent swappers", "swaps/s")
    return Chart("atom.png", "Atom swap under contention", "lines", [swaps, attempts])


BENCHMARK = Benchmark(
    name="atom",
    title="Atom swap under contention",
    order=30,
    run=run,
    summary="Atom swap at 1/4/16 tasks and across 4 processes: swaps/s, p50/p99, retries",
)
