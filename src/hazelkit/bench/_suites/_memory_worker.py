"""One measured process of the memory benchmark.

``python -m hazelkit.bench._suites._memory_worker SCENARIO URL NAME COUNT [--trace]``
imports hazelkit, connects to ``URL``, runs ``SCENARIO`` with ``COUNT`` entries or
subscriptions on structures named after ``NAME``, and prints one JSON line: ``maxrss``
(the process's peak resident set in bytes, see :func:`peak_rss`), ``seconds``,
``check`` (what the scenario verifies it built), and with ``--trace`` ``heap`` and
``heap_peak``: the Python heap the scenario allocated and still holds at the end, and
its peak (tracemalloc, started after connecting; a traced run is slower and larger, so
its RSS is not used).
"""

from __future__ import annotations

import asyncio
import gc
import json
import resource
import sys
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import hazelkit
from hazelkit._core import _lowlevel as lowlevel

__all__ = ["SCENARIOS", "main"]

#: Concurrent readers filling the cache.
READERS = 32
#: Entries per put_all while storing the cache's entries.
BATCH = 1000
#: The near cache keeps entries this long: longer than any run.
NEAR_CACHE_TTL = 3600.0

Scenario = Callable[[hazelkit.Cluster, str, int], Awaitable[int]]

#: The subscriptions a scenario opened, closed before its structure is destroyed.
_open: list[hazelkit.Subscription[Any]] = []


async def _baseline(cluster: hazelkit.Cluster, name: str, count: int) -> int:
    """Connected, nothing else."""
    return 0


async def _read_cache(cluster: hazelkit.Cluster, name: str, count: int, near: bool) -> int:
    """Store ``count`` small entries in the cache's map, then read each through the cache."""
    cache = cluster.cache(
        name, near_cache=near, near_cache_size=count, near_cache_ttl=NEAR_CACHE_TTL
    )
    store = lowlevel.backend(cluster).map(f"hazelkit.cache/{name}")
    codec = cluster.codec
    for start in range(0, count, BATCH):
        keys = range(start, min(start + BATCH, count))
        await store.put_all({codec.encode_key(k): codec.encode(f"value {k}") for k in keys})

    async def reader(first: int) -> None:
        for key in range(first, count, READERS):
            if await cache.get(key) != f"value {key}":
                raise AssertionError(f"cache entry {key} read back wrong")

    await asyncio.gather(*(reader(index) for index in range(READERS)))
    return cache.statistics().near_cache_size if near else count


async def _cache(cluster: hazelkit.Cluster, name: str, count: int) -> int:
    return await _read_cache(cluster, name, count, near=False)


async def _near_cache(cluster: hazelkit.Cluster, name: str, count: int) -> int:
    return await _read_cache(cluster, name, count, near=True)


async def _topic(cluster: hazelkit.Cluster, name: str, count: int) -> int:
    """``count`` open subscriptions to one topic, each started (listener registered)."""
    topic = cluster.topic(name)
    subscriptions = [await topic.subscribe() for _ in range(count)]
    _open.extend(subscriptions)
    return sum(not s.closed for s in subscriptions)


async def _reliable_topic(cluster: hazelkit.Cluster, name: str, count: int) -> int:
    """``count`` open subscriptions to one reliable topic, each reading (started)."""
    topic = cluster.reliable_topic(name)
    subscriptions = [topic.subscribe() for _ in range(count)]
    _open.extend(subscriptions)
    for subscription in subscriptions:
        await subscription.wait_started(timeout=60)
    return sum(not s.closed for s in subscriptions)


async def _map_events(cluster: hazelkit.Cluster, name: str, count: int) -> int:
    """``count`` open entry-event streams of one map."""
    events = cluster.map(name)
    subscriptions = [await events.events() for _ in range(count)]
    _open.extend(subscriptions)
    return sum(not s.closed for s in subscriptions)


SCENARIOS: dict[str, Scenario] = {
    "baseline": _baseline,
    "cache": _cache,
    "near-cache": _near_cache,
    "topic": _topic,
    "reliable-topic": _reliable_topic,
    "map-events": _map_events,
}


def peak_rss() -> int:
    """This process's peak resident set size in bytes.

    On Linux, ``getrusage().ru_maxrss`` of a process started by fork and exec is at
    least the parent's resident size at the fork (the kernel carries the old address
    space's high-water mark over the exec), so the high-water mark of the process's
    own address space, ``VmHWM``, is read instead where /proc has it.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # Linux counts KiB


async def _measure(scenario: str, url: str, name: str, count: int, trace: bool) -> dict[str, Any]:
    async with hazelkit.connect(url) as cluster:
        gc.collect()
        if trace:
            tracemalloc.start()
        began = time.perf_counter()
        check = await SCENARIOS[scenario](cluster, name, count)
        seconds = time.perf_counter() - began
        gc.collect()
        report: dict[str, Any] = {"maxrss": peak_rss(), "seconds": seconds, "check": check}
        if trace:
            report["heap"], report["heap_peak"] = tracemalloc.get_traced_memory()
            tracemalloc.stop()
        await _clean_up(cluster, scenario, name)
        return report


async def _clean_up(cluster: hazelkit.Cluster, scenario: str, name: str) -> None:
    for subscription in _open:
        await subscription.aclose()
    if scenario in ("cache", "near-cache"):
        await cluster.cache(name).destroy()
    elif scenario == "topic":
        await cluster.topic(name).destroy()
    elif scenario == "reliable-topic":
        await cluster.reliable_topic(name).destroy()
    elif scenario == "map-events":
        await cluster.map(name).destroy()


def main(argv: list[str]) -> int:
    """Run one scenario; see the module docstring. Returns the exit status."""
    trace = "--trace" in argv
    args = [arg for arg in argv if arg != "--trace"]
    if len(args) != 4 or args[0] not in SCENARIOS:
        print(
            f"usage: {__name__} {{{','.join(SCENARIOS)}}} URL NAME COUNT [--trace]", file=sys.stderr
        )
        return 2
    scenario, url, name, count = args
    report = asyncio.run(_measure(scenario, url, name, int(count), trace))
    print(json.dumps(report), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
