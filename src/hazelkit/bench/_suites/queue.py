"""Benchmark 3b: Queue put/get throughput, hazelkit against the raw Hazelcast client.

Producer tasks put ~1 KB items for the round's duration while consumer tasks take
them (``poll`` with a short wait, so consumers notice the end of the round); a round
lasts until the last item put has been taken, and its throughput is items taken per
second. 1 producer and 1 consumer, and 4 and 4, each contender on its own queue, rounds
interleaved.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from functools import partial

from hazelkit.bench import _format as fmt
from hazelkit.bench._context import Benchmark, Context
from hazelkit.bench._model import Chart, Result, Table
from hazelkit.bench._runner import Load
from hazelkit.bench._stats import percentile
from hazelkit.bench._suites._points import (
    PointResult,
    latency_panel,
    load_cells,
    measure,
    point_json,
    versus_cell,
)
from hazelkit.bench._suites._queue_contenders import (
    EMBEDDED,
    HAZELKIT,
    RAW,
    TransferLoad,
    open_contenders,
    transfer,
)

__all__ = ["BENCHMARK"]

#: (producers, consumers) of each point.
SHAPES = ((1, 1), (4, 4))


def _extras(loads: Sequence[Load]) -> dict[str, float]:
    gets = sorted(g for load in loads if isinstance(load, TransferLoad) for g in load.get_latencies)
    return {"get_p50": percentile(gets, 50), "get_p99": percentile(gets, 99)}


async def run(context: Context) -> Result:
    """Measure every shape on every contender available; see the module docstring."""
    duration, rounds, warmup = context.mode.pick(
        smoke=(0.01, 1, 0), quick=(0.1, 3, 1), full=(0.4, 10, 1)
    )
    started = time.perf_counter()
    url = await context.hazelcast_url()
    names = {label: context.name(f"queue-{i}") for i, label in enumerate((HAZELKIT, RAW, EMBEDDED))}
    measured: list[PointResult] = []
    async with open_contenders(url, names) as (contenders, item_bytes):
        for producers, consumers in SHAPES:
            label = f"{producers}x{consumers}"
            context.echo(f"queue: {label}")
            rounds_of = {
                c.name: partial(
                    transfer, c, producers=producers, consumers=consumers, duration=duration
                )
                for c in contenders
            }
            measured.append(
                await measure(
                    label, producers, rounds_of, rounds=rounds, warmup=warmup, extras=_extras
                )
            )
    result = _result(measured, item_bytes, rounds=rounds, duration=duration)
    if url is None:
        result.notes.append(
            f"Hazelcast contenders not measured: {context.hazelcast['unavailable']}"
        )
    result.seconds = time.perf_counter() - started
    return result


def _result(
    measured: list[PointResult], item_bytes: int, *, rounds: int, duration: float
) -> Result:
    table = Table(
        "Items per second",
        [
            "producers x consumers",
            "contender",
            "items/s",
            "spread",
            "put p50",
            "put p99",
            "get p50",
            "get p99",
            "ratio",
        ],
    )
    for point in measured:
        for name, summary in point.summaries.items():
            extras = point.extras[name]
            table.add(
                point.label,
                name,
                *load_cells(summary),
                fmt.duration(extras["get_p50"]),
                fmt.duration(extras["get_p99"]),
                _ratio(point, name),
            )
    result = Result(
        name="queue",
        title="Queue: hazelkit against the raw Hazelcast client",
        description=(
            f"Items moved through a queue per second (median of {rounds} interleaved "
            f"rounds of {fmt.duration(duration)} of producing, each until the queue is "
            f"drained), {item_bytes}-byte items (hazelkit's encoding of a ~1 KB record; "
            "the raw client puts those bytes pre-encoded and does not decode what it "
            "takes). Put latency is one `put`; get latency includes waiting for an item."
        ),
        tables=[table],
        charts=[
            Chart(
                "queue-latency.png",
                "Queue put latency (CDF)",
                "cdf",
                [latency_panel(p, f"{p.label}: put latency", unit="µs") for p in measured],
            )
        ],
    )
    result.notes = [
        "ratio: hazelkit ÷ the raw client, and the embedded grid ÷ hazelkit on Hazelcast; "
        "medians of per-round ratios.",
        "The queues are unbounded: producers never wait for room, and consumers drain "
        "what is left once producing stops (that time is part of the round).",
        "Embedded operations yield to the event loop every 16th call, as a round trip "
        "would; a put that yields waits while the consumers run, which makes the embedded "
        "tail (about 6% of puts at 0.2 to 1.4 ms).",
    ]
    result.data = {
        "rounds": rounds,
        "round_seconds": duration,
        "item_bytes": item_bytes,
        "points": [point_json(point) for point in measured],
    }
    return result


def _ratio(point: PointResult, name: str) -> str:
    return versus_cell(point, name, hazelkit=HAZELKIT, raw=RAW, embedded=EMBEDDED)


BENCHMARK = Benchmark(
    name="queue",
    title="Queue: hazelkit against the raw Hazelcast client",
    order=40,
    run=run,
    summary="Queue put/get items/s at 1x1 and 4x4 tasks, 1 KB items, vs the raw client",
)
