"""What the load benchmarks of issue 5 part 3 share: a measured point (one
configuration, every contender), its table cells, ratios, charts and JSON.

A point runs each contender's round function in interleaved rounds
(:func:`~hazelkit.bench._runner.interleave_async`) and keeps, per contender, the
throughput of every round (in round order, for paired ratios), the pooled latency
summary, and any extra figures a benchmark derives from its rounds (retries per
operation, for instance).
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from hazelkit.bench import _format as fmt
from hazelkit.bench._model import Panel
from hazelkit.bench._runner import Load, LoadSummary, interleave_async, summarize_load
from hazelkit.bench._stats import paired_ratios

__all__ = [
    "PointResult",
    "enter_contenders",
    "latency_panel",
    "load_cells",
    "measure",
    "point_json",
    "ratio",
    "throughput_panel",
    "versus_cell",
]

C = TypeVar("C")

#: Figures a benchmark derives from one contender's rounds at one point.
Extras = Callable[[Sequence[Load]], dict[str, float]]


@dataclass
class PointResult:
    """Every contender at one point of a benchmark."""

    #: How the point reads in tables (``"4 swappers"``).
    label: str
    #: Its position on a chart's x axis (the concurrency).
    x: int
    summaries: dict[str, LoadSummary]
    #: Each contender's throughput per round, in round order.
    throughputs: dict[str, list[float]]
    #: Each contender's extra figures (see :data:`Extras`).
    extras: dict[str, dict[str, float]] = field(default_factory=dict)


async def measure(
    label: str,
    x: int,
    rounds_of: Mapping[str, Callable[[], Awaitable[Load]]],
    *,
    rounds: int,
    warmup: int,
    extras: Extras | None = None,
) -> PointResult:
    """Run every contender's rounds interleaved, and summarize them."""
    loads = await interleave_async(rounds_of, rounds=rounds, warmup=warmup)
    return PointResult(
        label=label,
        x=x,
        summaries={name: summarize_load(samples) for name, samples in loads.items()},
        throughputs={
            name: [load.throughput for load in samples] for name, samples in loads.items()
        },
        extras={name: extras(samples) for name, samples in loads.items()} if extras else {},
    )


def ratio(point: PointResult, numerator: str, denominator: str) -> float | None:
    """The median per-round throughput ratio of two contenders (None if one is absent)."""
    throughputs = point.throughputs
    if numerator not in throughputs or denominator not in throughputs:
        return None
    return paired_ratios(throughputs[numerator], throughputs[denominator]).median


async def enter_contenders(
    stack: contextlib.AsyncExitStack,
    names: Mapping[str, str],
    *,
    hazelcast_url: str | None,
    labels: tuple[str, str, str],
    open_hazelkit: Callable[[str, str, str], contextlib.AbstractAsyncContextManager[C]],
    open_raw: Callable[[str, str], contextlib.AbstractAsyncContextManager[C]],
) -> list[C]:
    """Open the contenders of a load benchmark on ``stack``: hazelkit and the raw client
    on Hazelcast (only with a URL), then hazelkit on the embedded grid, each on the
    structure named ``names[label]``. ``labels`` is (hazelkit, raw, embedded)."""
    hazelkit, raw, embedded = labels
    contenders: list[C] = []
    if hazelcast_url is not None:
        opened = open_hazelkit(hazelkit, hazelcast_url, names[hazelkit])
        contenders.append(await stack.enter_async_context(opened))
        contenders.append(await stack.enter_async_context(open_raw(hazelcast_url, names[raw])))
    grid = f"memory://{names[embedded]}"
    contenders.append(
        await stack.enter_async_context(open_hazelkit(embedded, grid, names[embedded]))
    )
    return contenders


def versus_cell(point: PointResult, name: str, *, hazelkit: str, raw: str, embedded: str) -> str:
    """The ratio column of contender ``name``: hazelkit against the raw client, the
    embedded grid against hazelkit on Hazelcast, nothing for the others."""
    pairs = {hazelkit: (raw, "raw"), embedded: (hazelkit, "hazelkit")}
    if name not in pairs:
        return ""
    denominator, label = pairs[name]
    value = ratio(point, name, denominator)
    return "" if value is None else f"{fmt.ratio(value)} {label}"


def load_cells(summary: LoadSummary) -> list[str]:
    """``ops/s``, ``spread``, ``p50`` and ``p99`` cells of a table row."""
    return [
        fmt.rate(summary.throughput.median),
        fmt.spread(summary.throughput),
        fmt.duration(summary.p50),
        fmt.duration(summary.p99),
    ]


def point_json(point: PointResult) -> dict[str, Any]:
    """The point as a JSON-ready dict."""
    return {
        "label": point.label,
        "concurrency": point.x,
        "contenders": {
            name: summary.to_json() | point.extras.get(name, {})
            for name, summary in point.summaries.items()
        },
    }


def throughput_panel(title: str, points: Sequence[PointResult], xlabel: str, ylabel: str) -> Panel:
    """Median throughput of every contender against the points' x (log-log)."""
    names = list(dict.fromkeys(name for point in points for name in point.summaries))
    series = {
        name: [p.summaries[name].throughput.median for p in points if name in p.summaries]
        for name in names
    }
    x = [point.x for point in points]
    uneven = any(len(values) != len(x) for values in series.values())
    if uneven:  # a contender missing at some points: keep only the common ones
        series = {name: values for name, values in series.items() if len(values) == len(x)}
    return Panel(title, xlabel, ylabel, series, x=x, log_x=True, log_y=True)


def latency_panel(point: PointResult, title: str, unit: str = "ms") -> Panel:
    """The latency distribution (CDF) of every contender at one point."""
    scale = 1e3 if unit == "ms" else 1e6
    return Panel(
        title,
        f"latency ({unit})",
        "fraction of operations",
        {name: [s * scale for s in summary.curve] for name, summary in point.summaries.items()},
        log_x=True,
    )
