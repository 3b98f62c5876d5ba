"""Benchmark 2: hazelkit's Map against the raw hazelcast-python-client, same cluster,
same run; and hazelkit's Map on the embedded grid for reference.

At each point (an operation at a number of concurrent tasks) every contender runs rounds of a fixed
duration, interleaved round by round (a full garbage collection before each), after a
warm-up of the member's JIT and one discarded round. Each contender works on its own
map holding the same keys; ``put`` overwrites existing keys, ``get`` always hits.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial

from hazelkit.bench._context import Benchmark, Context
from hazelkit.bench._model import Result
from hazelkit.bench._runner import Load, LoadSummary, drive, interleave_async, summarize_load
from hazelkit.bench._suites._map_contenders import open_contenders
from hazelkit.bench._suites._map_report import build_result, codec_costs
from hazelkit.bench._suites._map_workload import (
    ADAPTER,
    EMBEDDED,
    HAZELKIT,
    OPERATIONS,
    PICKLED,
    RAW,
    MapContender,
    Workload,
)

__all__ = ["BENCHMARK", "Point", "PointResult"]

BATCH = 100


@dataclass(frozen=True)
class Point:
    """One measured configuration: an operation at a number of concurrent tasks."""

    operation: str
    concurrency: int

    @property
    def label(self) -> str:
        """``"get, 8 tasks"``."""
        tasks = "task" if self.concurrency == 1 else "tasks"
        return f"{self.operation}, {self.concurrency} {tasks}"


@dataclass
class PointResult:
    """Every contender at one point: summaries, and throughput per round (in order)."""

    point: Point
    summaries: dict[str, LoadSummary]
    throughputs: dict[str, list[float]]


def points() -> list[Point]:
    """get, put and set at 1, 8 and 64 tasks; get_all and put_all (100 keys) at 1 and 8."""
    single = [Point(op, tasks) for op in ("get", "put", "set") for tasks in (1, 8, 64)]
    return single + [Point(op, tasks) for op in ("get_all", "put_all") for tasks in (1, 8)]


async def _measure(
    point: Point, contenders: list[MapContender], *, duration: float, rounds: int, warmup: int
) -> PointResult:
    rounds_of: dict[str, Callable[[], Awaitable[Load]]] = {
        c.name: partial(
            drive, getattr(c, point.operation), concurrency=point.concurrency, duration=duration
        )
        for c in contenders
    }
    loads = await interleave_async(rounds_of, rounds=rounds, warmup=warmup)
    summaries = {name: summarize_load(samples) for name, samples in loads.items()}
    throughputs = {name: [load.throughput for load in samples] for name, samples in loads.items()}
    return PointResult(point, summaries, throughputs)


async def _prepare(contenders: list[MapContender], workload: Workload, warm: float) -> None:
    """Store every key, then run each operation briefly so the member's JIT warms up."""
    for contender in contenders:
        for index in range(len(workload.batches)):
            await contender.put_all(index)
    for operation in OPERATIONS:
        for contender in contenders:
            await drive(
                getattr(contender, operation), concurrency=8, duration=warm / len(OPERATIONS)
            )


async def run(context: Context) -> Result:
    """Measure every point on every contender available; see the module docstring."""
    duration, rounds, warmup, warm, keys = context.mode.pick(
        smoke=(0.01, 1, 0, 0.0, 200),
        quick=(0.06, 3, 1, 0.5, 1000),
        full=(0.3, 10, 1, 3.0, 1000),
    )
    started = time.perf_counter()
    url = await context.hazelcast_url()
    workload = Workload(keys, BATCH)
    names = {
        label: context.name(f"map-{index}")
        for index, label in enumerate((HAZELKIT, RAW, ADAPTER, PICKLED, EMBEDDED))
    }
    measured: list[PointResult] = []
    async with open_contenders(url, names, workload) as contenders:
        context.echo(f"map: {', '.join(c.name for c in contenders)}; warming up")
        await _prepare(contenders, workload, warm)
        for point in points():
            context.echo(f"map: {point.label}")
            measured.append(
                await _measure(point, contenders, duration=duration, rounds=rounds, warmup=warmup)
            )
    result = build_result(
        measured,
        workload,
        codec_costs(workload),
        rounds=rounds,
        duration=duration,
        unavailable=context.hazelcast.get("unavailable"),
    )
    result.seconds = time.perf_counter() - started
    return result


BENCHMARK = Benchmark(
    name="map",
    title="Map: hazelkit against the raw Hazelcast client",
    order=20,
    run=run,
    summary="Map get/put/set/get_all/put_all ops/s and p50/p99, vs the raw client",
)
