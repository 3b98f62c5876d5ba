"""The Map benchmark's tables, goals and charts, from its measurements."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hazelkit.bench import _format as fmt
from hazelkit.bench._model import Chart, Goal, Panel, Result, Table
from hazelkit.bench._runner import calibrate, timed
from hazelkit.bench._stats import paired_ratios
from hazelkit.bench._suites._map_workload import (
    ADAPTER,
    EMBEDDED,
    HAZELKIT,
    PICKLED,
    RAW,
    Workload,
)

if TYPE_CHECKING:
    from hazelkit.bench._suites.map import Point, PointResult

__all__ = ["build_result", "codec_costs"]

RAW_GOAL, EMBEDDED_GOAL = 0.9, 10.0


def _per_call(function: Any) -> float:
    def loop(count: int) -> float:
        def calls() -> None:
            for _ in range(count):
                function()

        return timed(calls)

    count = calibrate(loop, 0.005)
    return min(loop(count) for _ in range(3)) / count


def codec_costs(workload: Workload) -> dict[str, float]:
    """Seconds of codec work hazelkit does per call of each operation (key encoding,
    value encoding and/or decoding), measured in-process on the benchmark's value."""
    codec, key, value = workload.codec, workload.keys[0], workload.value
    data = workload.value_bytes
    key_cost = _per_call(lambda: codec.encode_key(key))
    encode, decode = _per_call(lambda: codec.encode(value)), _per_call(lambda: codec.decode(data))
    return {
        "get": key_cost + decode,
        "put": key_cost + encode + decode,
        "set": key_cost + encode,
        "get_all": workload.batch * (key_cost + decode),
        "put_all": workload.batch * (key_cost + encode),
    }


def _ratio(result: PointResult, numerator: str, denominator: str) -> float:
    throughputs = result.throughputs
    return paired_ratios(throughputs[numerator], throughputs[denominator]).median


def build_result(
    measured: list[PointResult],
    workload: Workload,
    costs: dict[str, float],
    *,
    rounds: int,
    duration: float,
    unavailable: str | None,
) -> Result:
    """The Map benchmark's Result: tables, goals, charts and raw figures."""
    names = list(measured[0].summaries)
    hazelcast = RAW in names
    result = Result(
        name="map",
        title="Map: hazelkit against the raw Hazelcast client",
        description=(
            f"Operations per second (median of {rounds} interleaved rounds of "
            f"{fmt.duration(duration)} per contender and point) and latency percentiles "
            f"over all operations, with 1 KB values ({len(workload.value_bytes)} bytes "
            f"encoded) on {workload.key_count} keys; batches of {workload.batch} keys. "
            "Both Hazelcast contenders use the same cluster and store identical bytes; "
            "the raw client gets them pre-encoded (it does no encoding or decoding)."
        ),
        tables=[_table(measured, names), *([_ratio_table(measured)] if hazelcast else [])],
        goals=_goals(measured, costs, unavailable),
        charts=_charts(measured, names),
    )
    result.notes = [
        "ops/s counts calls: a get_all or put_all call moves 100 entries.",
        "spread: half the interquartile range of the rounds' throughput, relative to the "
        "median; ratios are medians of per-round ratios.",
        "codec work per call (measured in-process): "
        + ", ".join(f"{op} {fmt.duration(cost)}" for op, cost in costs.items()),
    ]
    if unavailable:
        result.notes.append(f"Hazelcast contenders not measured: {unavailable}")
    result.data = {
        "rounds": rounds,
        "round_seconds": duration,
        "keys": workload.key_count,
        "batch": workload.batch,
        "value_bytes": len(workload.value_bytes),
        "codec_seconds_per_call": costs,
        "points": [_point_json(r) for r in measured],
    }
    return result


def _point_json(result: PointResult) -> dict[str, Any]:
    data: dict[str, Any] = {
        "operation": result.point.operation,
        "concurrency": result.point.concurrency,
        "contenders": {name: s.to_json() for name, s in result.summaries.items()},
    }
    if RAW in result.summaries:
        data["hazelkit_vs_raw"] = _ratio(result, HAZELKIT, RAW)
        data["embedded_vs_hazelkit"] = _ratio(result, EMBEDDED, HAZELKIT)
        data["hazelkit_vs_raw_pickle"] = _ratio(result, HAZELKIT, PICKLED)
        data["adapter_vs_raw"] = _ratio(result, ADAPTER, RAW)
    return data


def _table(measured: list[PointResult], names: list[str]) -> Table:
    table = Table(
        "Throughput and latency",
        ["operation", "tasks", "contender", "ops/s", "spread", "p50", "p99", "ratio"],
    )
    for result in measured:
        for name in names:
            summary = result.summaries[name]
            table.add(
                result.point.operation,
                result.point.concurrency,
                name,
                fmt.rate(summary.throughput.median),
                fmt.spread(summary.throughput),
                fmt.duration(summary.p50),
                fmt.duration(summary.p99),
                _ratio_cell(result, name),
            )
    return table


def _ratio_cell(result: PointResult, name: str) -> str:
    if RAW not in result.summaries or name == RAW:
        return ""
    if name == EMBEDDED:
        return f"{fmt.ratio(_ratio(result, EMBEDDED, HAZELKIT))} hazelkit"
    return f"{fmt.ratio(_ratio(result, name, RAW))} raw"


def _ratio_table(measured: list[PointResult]) -> Table:
    table = Table(
        "Ratios of throughput",
        [
            "operation",
            "tasks",
            "hazelkit ÷ raw client (goal >= 0.9)",
            "adapter with bytes ÷ raw client",
            "hazelkit ÷ raw client + pickle",
            "embedded ÷ hazelkit on Hazelcast (goal >= 10)",
        ],
    )
    for result in measured:
        table.add(
            result.point.operation,
            result.point.concurrency,
            fmt.ratio(_ratio(result, HAZELKIT, RAW)),
            fmt.ratio(_ratio(result, ADAPTER, RAW)),
            fmt.ratio(_ratio(result, HAZELKIT, PICKLED)),
            fmt.ratio(_ratio(result, EMBEDDED, HAZELKIT)),
        )
    return table


def _goals(
    measured: list[PointResult], costs: dict[str, float], unavailable: str | None
) -> list[Goal]:
    raw_goal = Goal("Map on Hazelcast, every point", f">= {RAW_GOAL}x the raw client", "", None)
    embedded_goal = Goal(
        "embedded Map, every point", f">= {EMBEDDED_GOAL:g}x hazelkit on Hazelcast", "", None
    )
    if RAW not in measured[0].summaries:
        raw_goal.measured = embedded_goal.measured = f"not measured: {unavailable}"
        return [raw_goal, embedded_goal]
    raw = {r.point: _ratio(r, HAZELKIT, RAW) for r in measured}
    worst = min(raw, key=raw.__getitem__)
    raw_goal.measured = f"lowest: {worst.label} at {fmt.ratio(raw[worst])}"
    raw_goal.met = raw[worst] >= RAW_GOAL
    if not raw_goal.met:
        raw_goal.bottleneck = _overhead(measured, worst, costs)
    embedded = {r.point: _ratio(r, EMBEDDED, HAZELKIT) for r in measured}
    low = min(embedded, key=embedded.__getitem__)
    embedded_goal.measured = f"lowest: {low.label} at {fmt.ratio(embedded[low])}"
    embedded_goal.met = embedded[low] >= EMBEDDED_GOAL
    if not embedded_goal.met:
        embedded_goal.bottleneck = _embedded_cost(measured, low, costs)
    return [raw_goal, embedded_goal]


def _find(measured: list[PointResult], point: Point) -> PointResult:
    return next(r for r in measured if r.point == point)


def _overhead(measured: list[PointResult], point: Point, costs: dict[str, float]) -> str:
    """Where the time hazelkit adds over the raw client goes: the adapter (hazelkit with
    pre-encoded bytes) against the raw client, and the codec and Map above it."""
    summaries = _find(measured, point).summaries
    ours, adapter, theirs = (
        1 / summaries[name].throughput.median for name in (HAZELKIT, ADAPTER, RAW)
    )
    if adapter >= theirs:
        the_adapter = f"the adapter {fmt.duration(adapter - theirs)} more"
    else:  # it hands the client ready-made binary data; the raw client serializes
        the_adapter = f"the adapter is {fmt.duration(theirs - adapter)} faster than the raw client"
    return (
        f"{point.label}: {fmt.duration(ours)} per call against the raw client's "
        f"{fmt.duration(theirs)}; hazelkit's adapter with pre-encoded bytes takes "
        f"{fmt.duration(adapter)}, so the codec and Map layer cost "
        f"{fmt.duration(ours - adapter)} per call here (the codec alone measures "
        f"{fmt.duration(costs[point.operation])} in isolation), and {the_adapter}"
    )


def _embedded_cost(measured: list[PointResult], point: Point, costs: dict[str, float]) -> str:
    per_call = 1 / _find(measured, point).summaries[EMBEDDED].throughput.median
    return (
        f"{point.label}: {fmt.duration(per_call)} per call embedded, of which codec "
        f"{fmt.duration(costs[point.operation])}"
    )


def _charts(measured: list[PointResult], everyone: list[str]) -> list[Chart]:
    names = [name for name in everyone if name != ADAPTER]  # a diagnostic: tables only

    def series(operation: str) -> tuple[list[int], dict[str, list[float]]]:
        rows = [r for r in measured if r.point.operation == operation]
        return (
            [r.point.concurrency for r in rows],
            {n: [r.summaries[n].throughput.median for r in rows] for n in names},
        )

    panels = []
    for operation in ("get", "put", "set", "get_all", "put_all"):
        x, values = series(operation)
        panels.append(
            Panel(operation, "concurrent tasks", "ops/s", values, x=x, log_x=True, log_y=True)
        )
    latency = [
        Panel(
            f"{r.point.label}: latency distribution",
            "latency (µs)",
            "fraction of calls",
            {n: [s * 1e6 for s in r.summaries[n].curve] for n in names},
            log_x=True,
        )
        for r in measured
        if r.point.operation in ("get", "set") and r.point.concurrency != 8
    ]
    return [
        Chart("map-throughput.png", "Map throughput against concurrency", "lines", panels),
        Chart("map-latency.png", "Map latency (CDF)", "cdf", latency),
    ]
