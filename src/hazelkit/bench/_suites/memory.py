"""Benchmark 4: peak memory of the client process for a near cache of 100,000 small
entries, and per open subscription.

Every figure comes from a fresh Python process (``_memory_worker``) that imports
hazelkit, connects, builds one thing and reports its peak resident set size (the
high-water mark of its own address space, ``VmHWM``: on Linux ``ru_maxrss`` would also
count the parent's size at the fork). A *baseline* process connects and does nothing; a *cache*
process reads every entry of a cache without a near cache; a *near-cache* process reads
them through a near cache big enough to keep them all. So the near cache costs
``near-cache - cache`` (on the embedded grid the entries themselves live in the process
too, which is why the comparison is with the cache process, not the baseline), and a
subscription costs ``(subscriptions - baseline) / count``. A second, traced run of each
process (tracemalloc, started after connecting) gives the Python heap the scenario
allocated and still holds. Processes run two at a time; peaks are medians of the
repeats.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from hazelkit._core._exceptions import HazelkitError
from hazelkit.bench._context import Benchmark, Context
from hazelkit.bench._model import Result
from hazelkit.bench._suites import _memory_worker
from hazelkit.bench._suites._memory_report import (
    CACHE_SCENARIOS,
    SUBSCRIPTION_SCENARIOS,
    BackendMemory,
    build_result,
)

__all__ = ["BENCHMARK"]

#: Runs the worker file as ``__main__`` without importing ``hazelkit.bench`` (whose
#: modules would count in every figure), with the current directory off the path.
_LAUNCH = (
    "import runpy, sys; del sys.path[0]; sys.argv = sys.argv[1:]; "
    "runpy.run_path(sys.argv[0], run_name='__main__')"
)
_WORKER = Path(_memory_worker.__file__)
_AT_ONCE = 2
_TIMEOUT = 300.0


async def _process(scenario: str, url: str, name: str, count: int, trace: bool) -> dict[str, Any]:
    """Run one worker process and return its report; HazelkitError if it fails."""
    args = [str(_WORKER), scenario, url, name, str(count)] + (["--trace"] if trace else [])
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _LAUNCH,
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), _TIMEOUT)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    if process.returncode != 0 or not out.strip():
        raise HazelkitError(f"memory worker {scenario!r} failed:\n{err.decode(errors='replace')}")
    report: dict[str, Any] = json.loads(out.splitlines()[-1])
    if scenario != "baseline" and report["check"] != count:
        raise HazelkitError(f"memory worker {scenario!r} built {report['check']} of {count}")
    return report


async def _backend(
    context: Context, url: str, label: str, counts: dict[str, int], repeats: int
) -> BackendMemory:
    """Every scenario's peak RSS (median of ``repeats`` runs) and traced heap on one backend."""
    gate = asyncio.Semaphore(_AT_ONCE)

    async def one(scenario: str, trace: bool) -> dict[str, Any]:
        async with gate:
            name = context.name(f"memory-{scenario}")
            return await _process(scenario, url, name, counts[scenario], trace)

    plain = {s: [one(s, False) for _ in range(repeats)] for s in counts}
    traced = {s: one(s, True) for s in counts if s != "baseline"}
    reports = await asyncio.gather(*(c for runs in plain.values() for c in runs), *traced.values())
    rss_reports, heap_reports = reports[: len(counts) * repeats], reports[len(counts) * repeats :]
    rss = {
        scenario: statistics.median(
            r["maxrss"] for r in rss_reports[i * repeats : (i + 1) * repeats]
        )
        for i, scenario in enumerate(plain)
    }
    heap = {scenario: report["heap"] for scenario, report in zip(traced, heap_reports, strict=True)}
    return BackendMemory(label, counts, rss, heap)


async def run(context: Context) -> Result:
    """Measure every scenario on every backend available; see the module docstring."""
    entries, subscriptions, repeats = context.mode.pick(
        smoke=(200, 5, 1), quick=(20_000, 1000, 1), full=(100_000, 1000, 3)
    )
    started = time.perf_counter()
    counts = {"baseline": 0}
    counts |= dict.fromkeys(CACHE_SCENARIOS, entries)
    counts |= dict.fromkeys(SUBSCRIPTION_SCENARIOS, subscriptions)
    url = await context.hazelcast_url()
    backends = []
    if url is not None:
        context.echo("memory: Hazelcast")
        backends.append(await _backend(context, url, "Hazelcast", counts, repeats))
    context.echo("memory: embedded")
    grid = f"memory://{context.name('memory')}"
    backends.append(await _backend(context, grid, "embedded", counts, repeats))
    result = build_result(backends, repeats=repeats)
    if url is None:
        result.notes.append(f"Hazelcast not measured: {context.hazelcast['unavailable']}")
    result.seconds = time.perf_counter() - started
    return result


BENCHMARK = Benchmark(
    name="memory",
    title="Memory: near cache and subscriptions",
    order=70,
    run=run,
    summary="peak RSS and Python heap of a 100,000-entry near cache and per subscription",
)
