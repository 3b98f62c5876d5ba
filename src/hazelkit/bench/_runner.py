"""Measuring: warm-up, repeated rounds with the contenders interleaved, timed loops and
concurrent load.

The rule every benchmark follows: all contenders of one comparison run in the same
process, one round each in turn, round after round, with the order rotated every round
so that none always runs first or last. Slow drift of the machine (other processes,
thermal state, a JIT warming up on the server) then touches every contender alike, and
the per-round ratios stay honest even on a busy machine.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from hazelkit.bench._stats import Summary, percentile, quantile_curve, summarize

__all__ = [
    "Load",
    "LoadSummary",
    "calibrate",
    "drive",
    "interleave",
    "interleave_async",
    "rotations",
    "summarize_load",
    "timed",
]

T = TypeVar("T")


def rotations(names: Sequence[str], rounds: int) -> Iterator[list[str]]:
    """The running order of each round: ``names`` rotated by one more every round."""
    count = len(names)
    for index in range(rounds):
        shift = index % count if count else 0
        yield list(names[shift:]) + list(names[:shift])


def interleave(
    contenders: Mapping[str, Callable[[], T]], *, rounds: int, warmup: int = 1
) -> dict[str, list[T]]:
    """Run one round of every contender per round, ``warmup`` discarded rounds first.

    Returns each contender's ``rounds`` results in round order, so that results with
    the same index were measured moments apart (see ``paired_ratios``).
    """
    names = list(contenders)
    results: dict[str, list[T]] = {name: [] for name in names}
    for index, order in enumerate(rotations(names, warmup + rounds)):
        for name in order:
            outcome = contenders[name]()
            if index >= warmup:
                results[name].append(outcome)
    return results


async def interleave_async(
    contenders: Mapping[str, Callable[[], Awaitable[T]]], *, rounds: int, warmup: int = 1
) -> dict[str, list[T]]:
    """:func:`interleave` for rounds that are coroutines; a full collection runs before
    each round so that one contender's garbage is not collected on another's time."""
    names = list(contenders)
    results: dict[str, list[T]] = {name: [] for name in names}
    for index, order in enumerate(rotations(names, warmup + rounds)):
        for name in order:
            gc.collect()
            outcome = await contenders[name]()
            if index >= warmup:
                results[name].append(outcome)
    return results


def calibrate(loop: Callable[[int], float], target: float, limit: int = 1 << 24) -> int:
    """The smallest power-of-two iteration count for which ``loop(n)`` (which runs ``n``
    iterations and returns the seconds they took) lasts at least ``target`` seconds,
    capped at ``limit``. The calibration runs double as warm-up."""
    count = 1
    while count < limit and loop(count) < target:
        count *= 2
    return count


def timed(function: Callable[[], Any]) -> float:
    """Seconds ``function()`` takes with the garbage collector off (as ``timeit`` does:
    collection pauses belong to the program, not to the operation measured)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        function()
        return time.perf_counter() - start
    finally:
        if was_enabled:
            gc.enable()


@dataclass
class Load:
    """One round of concurrent load: operations completed, wall time, and latencies."""

    ops: int
    seconds: float
    latencies: list[float] = field(repr=False)

    @property
    def throughput(self) -> float:
        """Operations per second over the whole round."""
        return self.ops / self.seconds if self.seconds > 0 else 0.0


async def drive(
    operation: Callable[[int], Awaitable[object]], *, concurrency: int, duration: float
) -> Load:
    """Run ``operation(i)`` from ``concurrency`` tasks until ``duration`` seconds pass.

    Task ``t`` calls the operation with ``i = t, t + concurrency, t + 2 * concurrency …``
    (so tasks use distinct keys). Each task makes at least one call (a round on a loaded
    machine, whose tasks start after a short deadline, still measures something); none
    starts another after the deadline. The round ends when the last call has finished,
    and that wall time is the round's.
    An exception from an operation cancels the round and propagates.
    """
    latencies: list[float] = []
    record = latencies.append
    clock = time.perf_counter
    deadline = clock() + duration

    async def worker(first: int) -> None:
        index = first
        while True:
            start = clock()
            await operation(index)
            record(clock() - start)
            index += concurrency
            if clock() >= deadline:
                return

    began = clock()
    async with asyncio.TaskGroup() as group:
        for task in range(concurrency):
            group.create_task(worker(task))
    return Load(len(latencies), clock() - began, latencies)


#: The latency percentiles kept in JSON (the full curve only feeds the charts).
PERCENTILES = (50.0, 90.0, 99.0, 99.9)


@dataclass(frozen=True)
class LoadSummary:
    """Throughput over rounds (median, spread) and latency percentiles of all operations
    of all rounds pooled, in seconds; ``curve`` is the latency distribution as 101
    quantiles (for CDF charts)."""

    throughput: Summary
    p50: float
    p99: float
    ops: int
    curve: list[float]
    percentiles: dict[str, float]

    def to_json(self) -> dict[str, Any]:
        """The summary as a JSON-ready dict (latencies in seconds)."""
        return {
            "throughput": self.throughput.to_json(),
            "ops": self.ops,
            "p50": self.p50,
            "p99": self.p99,
            "latency_percentiles": self.percentiles,
        }


def summarize_load(rounds: Sequence[Load], curve_points: int = 101) -> LoadSummary:
    """Summarize the rounds of one contender at one point. Raises ValueError if no round
    completed an operation."""
    pooled = sorted(latency for load in rounds for latency in load.latencies)
    if not pooled:
        raise ValueError("no operation completed in any round")
    return LoadSummary(
        throughput=summarize([load.throughput for load in rounds]),
        p50=percentile(pooled, 50),
        p99=percentile(pooled, 99),
        ops=len(pooled),
        curve=quantile_curve(pooled, curve_points),
        percentiles={f"p{p:g}": percentile(pooled, p) for p in PERCENTILES} | {"max": pooled[-1]},
    )
