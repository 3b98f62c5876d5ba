"""Benchmark 2b: the blocking facade's cost per call, with and without direct calls.

A ``BlockingMap`` get and set of a small record, from one plain thread, on the embedded
grid two ways in one run: *direct* (the default: the call runs in the calling thread)
and *hop* (``HAZELKIT_BLOCKING_DIRECT=0``: every call goes to the loop thread through the
portal), with the async ``Map.get`` on the embedded grid as the floor. On Hazelcast,
where every blocking call hops, the blocking get against the async get shows what the
hop adds there. Contenders alternate round by round; figures are medians per call.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import hazelkit
from hazelkit._blocking._direct import DIRECT_ENV
from hazelkit.bench import _format as fmt
from hazelkit.bench._context import Benchmark, Context
from hazelkit.bench._model import Goal, Result, Table
from hazelkit.bench._runner import interleave, timed
from hazelkit.bench._stats import Summary, paired_ratios, summarize
from hazelkit.blocking import BlockingCluster

__all__ = ["BENCHMARK"]

#: The goal for one embedded BlockingMap get (issue 16).
GOAL_SECONDS = 30e-6
VALUE = {"name": "Ada Lovelace", "born": 1815, "tags": ["math", "engines"]}
DIRECT, HOP, ASYNC = "blocking, direct", "blocking, hop to loop", "async (floor)"
#: On Hazelcast every blocking call hops: its one blocking contender is named so.
HOPS_ALWAYS = "blocking (always hops)"


@contextlib.contextmanager
def _direct_calls(on: bool) -> Iterator[None]:
    """Set HAZELKIT_BLOCKING_DIRECT for a connect made inside (read at connect time)."""
    before = os.environ.get(DIRECT_ENV)
    os.environ[DIRECT_ENV] = "1" if on else "0"
    try:
        yield
    finally:
        if before is None:
            del os.environ[DIRECT_ENV]
        else:
            os.environ[DIRECT_ENV] = before


def _connect(url: str, direct: bool) -> BlockingCluster:
    with _direct_calls(direct):
        return hazelkit.connect_blocking(url)


def _per_call(call: Callable[[], Any], count: int) -> Callable[[], float]:
    def measure() -> float:
        def loop() -> None:
            for _ in range(count):
                call()

        return timed(loop) / count

    return measure


def _async_per_call(cluster: BlockingCluster, name: str, count: int) -> Callable[[], float]:
    """Seconds per async ``Map.get``, timed on the cluster's own loop."""

    async def loop() -> float:
        amap = cluster.async_cluster.map(name)
        started = time.perf_counter()
        for _ in range(count):
            await amap.get("k")
        return (time.perf_counter() - started) / count

    return lambda: cluster.run(loop)


def _measure(url: str, name: str, count: int, rounds: int, *, both_ways: bool) -> dict[str, Any]:
    """Per-call seconds of get and set, in a plain thread (no loop running in it)."""
    clusters = {DIRECT if both_ways else HOPS_ALWAYS: _connect(url, True)}
    if both_ways:
        clusters[HOP] = _connect(url, False)
    try:
        maps = {label: cluster.map(name) for label, cluster in clusters.items()}
        first = next(iter(clusters.values()))
        first.map(name)["k"] = VALUE
        gets = {label: _per_call(functools.partial(m.get, "k"), count) for label, m in maps.items()}
        gets[ASYNC] = _async_per_call(first, name, count)
        sets = {
            label: _per_call(functools.partial(m.set, "k", VALUE), count)
            for label, m in maps.items()
        }
        return {
            "get": interleave(gets, rounds=rounds),
            "set": interleave(sets, rounds=rounds),
        }
    finally:
        for cluster in clusters.values():
            cluster.close()


async def run(context: Context) -> Result:
    """Measure the embedded grid both ways, and Hazelcast if available."""
    count, rounds, hz_count = context.mode.pick(
        smoke=(20, 1, 5), quick=(500, 3, 50), full=(3000, 10, 300)
    )
    started = time.perf_counter()
    context.echo("blocking: embedded grid, direct and hop")
    embedded = await asyncio.to_thread(
        _measure, f"memory://{context.name('blocking')}", "m", count, rounds, both_ways=True
    )
    url = await context.hazelcast_url()
    remote = None
    if url is not None:
        context.echo("blocking: Hazelcast")
        remote = await asyncio.to_thread(
            _measure, url, context.name("blocking"), hz_count, rounds, both_ways=False
        )
    result = _result(embedded, remote, count=count, rounds=rounds)
    if url is None:
        result.notes.append(f"Hazelcast not measured: {context.hazelcast['unavailable']}")
    result.seconds = time.perf_counter() - started
    return result


def _result(
    embedded: dict[str, Any], remote: dict[str, Any] | None, *, count: int, rounds: int
) -> Result:
    table = Table("Time per call", ["backend", "operation", "contender", "per call", "spread"])
    ratios = Table("Direct against hop (embedded)", ["operation", "hop ÷ direct", "spread"])
    data: dict[str, Any] = {"rounds": rounds, "calls_per_round": count, "embedded": {}}
    for backend, measured in (("embedded", embedded), ("Hazelcast", remote)):
        for operation, samples in (measured or {}).items():
            for contender, values in samples.items():
                summary = summarize(values)
                table.add(
                    backend, operation, contender, fmt.duration(summary.median), fmt.spread(summary)
                )
                data.setdefault(backend, {}).setdefault(operation, {})[contender] = (
                    summary.to_json()
                )
    for operation, samples in embedded.items():
        ratio = paired_ratios(samples[HOP], samples[DIRECT])
        ratios.add(operation, fmt.ratio(ratio.median), fmt.spread(ratio))
        data["embedded"][operation]["hop_over_direct"] = ratio.to_json()
    direct_get = summarize(embedded["get"][DIRECT])
    return Result(
        name="blocking",
        title="Blocking facade: cost per call",
        description=(
            f"BlockingMap get and set of a small record from one plain thread, {count} "
            f"calls per round, {rounds} interleaved rounds; on the embedded grid with "
            "direct calls (the default) and with every call hopping to the loop thread "
            f"({DIRECT_ENV}=0), against the async get as the floor."
        ),
        tables=[table, ratios],
        goals=[_goal(direct_get)],
        notes=[
            "direct: the call runs in the calling thread (the embedded grid is safe from "
            "any thread); hop: an anyio portal call to the cluster's loop thread and back. "
            "On Hazelcast every blocking call hops (the client belongs to its loop).",
        ],
        data=data,
    )


def _goal(direct_get: Summary) -> Goal:
    return Goal(
        "blocking facade, embedded Map get per call",
        f"≤ {fmt.duration(GOAL_SECONDS)}",
        fmt.duration(direct_get.median),
        direct_get.median <= GOAL_SECONDS,
        "" if direct_get.median <= GOAL_SECONDS else "codec and Map layer in the calling thread",
    )


BENCHMARK = Benchmark(
    name="blocking",
    title="Blocking facade: cost per call",
    order=27,
    run=run,
    summary="BlockingMap get/set per call, direct in the calling thread vs hop to the loop",
)
