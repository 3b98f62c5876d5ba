"""Benchmark 3c: ReliableTopic publish-to-receive throughput and latency.

1 and 4 publisher tasks publish ~80-byte messages one call at a time while one
subscriber in the same process receives them; a round lasts until the subscriber has
every message, its throughput is messages received per second, and each message's
latency runs from the start of its publish call to its receipt. hazelkit's
ReliableTopic against the raw client's (both on a ringbuffer), and on the embedded grid.
"""

from __future__ import annotations

import time
from functools import partial

from hazelkit.bench import _format as fmt
from hazelkit.bench._context import Benchmark, Context
from hazelkit.bench._model import Chart, Result, Table
from hazelkit.bench._suites._points import (
    PointResult,
    latency_panel,
    load_cells,
    measure,
    point_json,
    versus_cell,
)
from hazelkit.bench._suites._topic_contenders import (
    EMBEDDED,
    HAZELKIT,
    RAW,
    deliver,
    open_contenders,
)

__all__ = ["BENCHMARK"]

PUBLISHERS = (1, 4)


async def run(context: Context) -> Result:
    """Measure every point on every contender available; see the module docstring."""
    duration, rounds, warmup = context.mode.pick(
        smoke=(0.01, 1, 0), quick=(0.1, 3, 1), full=(0.4, 10, 1)
    )
    started = time.perf_counter()
    url = await context.hazelcast_url()
    names = {label: context.name(f"topic-{i}") for i, label in enumerate((HAZELKIT, RAW, EMBEDDED))}
    measured: list[PointResult] = []
    async with open_contenders(url, names) as contenders:
        for publishers in PUBLISHERS:
            label = f"{publishers} publisher" + ("s" if publishers > 1 else "")
            context.echo(f"topic: {label}")
            rounds_of = {
                c.name: partial(deliver, c, publishers=publishers, duration=duration)
                for c in contenders
            }
            measured.append(
                await measure(label, publishers, rounds_of, rounds=rounds, warmup=warmup)
            )
    result = _result(measured, rounds=rounds, duration=duration)
    if url is None:
        result.notes.append(
            f"Hazelcast contenders not measured: {context.hazelcast['unavailable']}"
        )
    result.seconds = time.perf_counter() - started
    return result


def _result(measured: list[PointResult], *, rounds: int, duration: float) -> Result:
    table = Table(
        "Messages per second, publish to receipt",
        ["publishers", "contender", "messages/s", "spread", "p50", "p99", "ratio"],
    )
    for point in measured:
        for name, summary in point.summaries.items():
            table.add(point.label, name, *load_cells(summary), _ratio(point, name))
    result = Result(
        name="topic",
        title="ReliableTopic: publish to receipt",
        description=(
            f"Messages received per second by one subscriber in the publishing process "
            f"(median of {rounds} interleaved rounds of {fmt.duration(duration)} of "
            "publishing, each until every message has arrived) and latency from the "
            "start of each publish call to the message's receipt. Each publisher task "
            "awaits one publish before the next."
        ),
        tables=[table],
        charts=[
            Chart(
                "topic-latency.png",
                "ReliableTopic publish-to-receipt latency (CDF)",
                "cdf",
                [latency_panel(point, point.label) for point in measured],
            )
        ],
    )
    result.notes = [
        "ratio: hazelkit ÷ the raw client, and the embedded grid ÷ hazelkit on Hazelcast; "
        "medians of per-round ratios.",
        "hazelkit: one ReliableTopic handle per publisher task (the handles of one Cluster "
        "share one publisher with up to four lanes, each storing one batch at a time so "
        "that its messages keep their order and a retried publish is recognised as a "
        "repeat, and grouping the publishes made meanwhile into its next batch), values "
        "encoded by the codec inside an envelope "
        "(publisher id, number, time), a subscriber that checks sequences for loss and "
        "repeats. The raw client: one proxy for all tasks, pre-encoded payloads that "
        "are not decoded, its listener reading batches of up to 999 (its default is 10).",
    ]
    result.data = {
        "rounds": rounds,
        "round_seconds": duration,
        "points": [point_json(point) for point in measured],
    }
    return result


def _ratio(point: PointResult, name: str) -> str:
    return versus_cell(point, name, hazelkit=HAZELKIT, raw=RAW, embedded=EMBEDDED)


BENCHMARK = Benchmark(
    name="topic",
    title="ReliableTopic: publish to receipt",
    order=50,
    run=run,
    summary="ReliableTopic messages/s and publish-to-receipt p50/p99, vs the raw client",
)
