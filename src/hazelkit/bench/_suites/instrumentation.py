"""Benchmark: what hazelkit's metrics cost the Map, with and without an OpenTelemetry SDK.

Contenders, each a Map doing get and put on its own map of the same keys, interleaved
round by round (so a busy moment of the machine hits all of them):

- ``without hooks``: the Map with the store lookup it had before instrumentation (no
  check of the metrics switch at all): the baseline;
- ``no SDK``: the Map as shipped, instrumentation enabled, no SDK installed (the case
  the goal is about: at most 2% slower than the baseline);
- ``disabled``: ``hazelkit.observe.configure(enabled=False)``;
- ``SDK``: recording into an OpenTelemetry SDK (an in-memory reader), for information.

Two figures per contender, each a ratio to the baseline paired round by round and the
median over rounds: time per operation (from throughput) and median latency. The goal
reads the latter, which a moment of interference in one round moves less.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import hazelkit
from hazelkit._backends.protocol import MapStore
from hazelkit._core import _lowlevel as lowlevel
from hazelkit._observe import _metrics
from hazelkit.bench._context import Benchmark, Context
from hazelkit.bench._model import Goal, Result, Table
from hazelkit.bench._runner import Load, drive, interleave_async, summarize_load
from hazelkit.bench._stats import geomean, paired_ratios, percentile
from hazelkit.bench._suites._map_workload import Workload

__all__ = ["BENCHMARK"]

BASELINE, NO_SDK, DISABLED, SDK = "without hooks", "no SDK", "disabled", "SDK"
GOAL = 1.02


class MapWithoutHooks(hazelkit.Map[str, Any]):
    """The Map with the store lookup of hazelkit before its metrics: the baseline."""

    @property
    def _store(self) -> MapStore:
        lowlevel.check_open(self._cluster)
        if self._store_cache is None:
            self._store_cache = self._open()
        return self._store_cache


@dataclass
class Contender:
    """One Map, and the instrumentation state its rounds run in."""

    name: str
    map: hazelkit.Map[str, Any]
    workload: Workload
    setup: Callable[[], None]

    async def get(self, index: int) -> object:
        return await self.map.get(self.workload.keys[index % self.workload.key_count])

    async def put(self, index: int) -> object:
        keys = self.workload.keys
        return await self.map.put(keys[index % self.workload.key_count], self.workload.value)

    async def round(self, operation: str, concurrency: int, duration: float) -> Load:
        self.setup()
        try:
            return await drive(getattr(self, operation), concurrency=concurrency, duration=duration)
        finally:
            _metrics.configure()


def _sdk_setup() -> Callable[[], None] | None:
    """Configure an SDK provider with an in-memory reader, or None without the SDK."""
    try:
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    except ImportError:
        return None
    provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    return partial(_metrics.configure, meter_provider=provider)


def _setups() -> dict[str, Callable[[], None]]:
    setups: dict[str, Callable[[], None]] = {
        BASELINE: _metrics.configure,
        NO_SDK: _metrics.configure,
        DISABLED: partial(_metrics.configure, enabled=False),
    }
    sdk = _sdk_setup()
    if sdk is not None:
        setups[SDK] = sdk
    return setups


@contextlib.asynccontextmanager
async def _contenders(
    url: str, context: Context, workload: Workload
) -> AsyncIterator[list[Contender]]:
    async with hazelkit.connect(url) as cluster:
        contenders = []
        for name, setup in _setups().items():
            kind = MapWithoutHooks if name == BASELINE else hazelkit.Map
            map_: hazelkit.Map[str, Any] = kind(cluster, context.name("instr"))
            await map_.put_all(dict.fromkeys(workload.keys, workload.value))
            contenders.append(Contender(name, map_, workload, setup))
        try:
            yield contenders
        finally:
            for contender in contenders:
                await contender.map.destroy()


@dataclass
class Measured:
    """One point of one backend: throughput per contender, ratios to the baseline."""

    backend: str
    operation: str
    concurrency: int
    loads: dict[str, list[Load]]

    def ratio(self, name: str) -> Any:
        """Time per operation of ``name`` over the baseline's (from throughput), paired
        round by round."""
        base = [load.throughput for load in self.loads[BASELINE]]
        return paired_ratios(base, [load.throughput for load in self.loads[name]])

    def latency_ratio(self, name: str) -> Any:
        """Median latency of ``name`` over the baseline's, paired round by round (a
        moment of interference in a round moves a median less than a throughput)."""
        return paired_ratios(
            [_median(load) for load in self.loads[name]],
            [_median(load) for load in self.loads[BASELINE]],
        )


def _median(load: Load) -> float:
    return percentile(sorted(load.latencies), 50)


async def _measure(
    backend: str,
    contenders: list[Contender],
    points: list[tuple[str, int]],
    mode: tuple[float, int, int],
) -> list[Measured]:
    duration, rounds, warmup = mode
    measured = []
    for operation, concurrency in points:
        rounds_of: dict[str, Callable[[], Awaitable[Load]]] = {
            c.name: partial(c.round, operation, concurrency, duration) for c in contenders
        }
        loads = await interleave_async(rounds_of, rounds=rounds, warmup=warmup)
        measured.append(Measured(backend, operation, concurrency, loads))
    return measured


async def run(context: Context) -> Result:
    """Measure every contender on the embedded grid, and on Hazelcast when available."""
    started = time.perf_counter()
    mode = context.mode.pick(smoke=(0.01, 1, 0), quick=(0.1, 5, 1), full=(0.5, 15, 1))
    workload = Workload(context.mode.pick(200, 1000, 1000), 100)
    backends = await context.backends("instr", hazelcast="Hazelcast")
    points = [("get", 1), ("put", 1), ("get", 8), ("put", 8)]
    measured: list[Measured] = []
    for backend, url in backends.items():
        context.echo(f"instrumentation: {backend}")
        async with _contenders(url, context, workload) as contenders:
            measured += await _measure(backend, contenders, points, mode)
    result = _result(measured, rounds=mode[1], duration=mode[0])
    result.seconds = time.perf_counter() - started
    return result


def _result(measured: list[Measured], *, rounds: int, duration: float) -> Result:
    table = Table(
        "Map throughput and time per operation relative to the Map without hooks",
        ["backend", "point", "contender", "ops/s", "p50 µs", "time ratio", "p50 ratio (q1-q3)"],
    )
    data: dict[str, Any] = {"points": []}
    for point in measured:
        entry: dict[str, Any] = {
            "backend": point.backend,
            "operation": point.operation,
            "tasks": point.concurrency,
            "contenders": {},
        }
        for name, loads in point.loads.items():
            summary = summarize_load(loads)
            ratio, latency = point.ratio(name), point.latency_ratio(name)
            table.add(
                point.backend,
                f"{point.operation}, {point.concurrency} task(s)",
                name,
                f"{summary.throughput.median:,.0f}",
                f"{summary.p50 * 1e6:.1f}",
                f"{ratio.median:.3f}",
                f"{latency.median:.3f} ({latency.q1:.3f}-{latency.q3:.3f})",
            )
            entry["contenders"][name] = {
                **summary.to_json(),
                "time_ratio": ratio.to_json(),
                "p50_ratio": latency.to_json(),
            }
        data["points"].append(entry)
    table.notes.append(
        f"{rounds} interleaved rounds of {duration:g} s per contender and point. Time ratio:"
        " the baseline's throughput over the contender's; p50 ratio: the contender's median"
        " latency over the baseline's; both paired by round, median over rounds (1.02 ="
        " 2% slower). 'SDK' records into an in-memory OpenTelemetry reader."
    )
    return Result(
        name="instrumentation",
        title="Instrumentation: the Map with and without OpenTelemetry",
        description=__doc__ or "",
        tables=[table],
        goals=[_goal(measured)],
        data=data,
    )


def _goal(measured: list[Measured]) -> Goal:
    embedded = [
        point.latency_ratio(NO_SDK).median for point in measured if point.backend == "embedded"
    ]
    overall = geomean(embedded)
    worst = max(embedded)
    return Goal(
        name="no-SDK instrumentation overhead on the embedded Map (get/put, 1 and 8 tasks)",
        target=f"<= {GOAL - 1:.0%}",
        measured=f"{overall - 1:+.1%} (p50 latency, geometric mean over the points)"
        f" (worst point {worst - 1:+.1%})",
        met=overall <= GOAL,
        bottleneck="" if overall <= GOAL else "the machine's noise or the switch check",
    )


BENCHMARK = Benchmark(
    name="instrumentation",
    title="Instrumentation: the Map with and without OpenTelemetry",
    order=25,
    run=run,
    summary="Map get/put with metrics hooks (no SDK, disabled, SDK) vs without hooks",
)
