"""One worker process of a multi-process benchmark (see ``_processes``).

``python -m hazelkit.bench._suites._worker KIND URL NAME COUNT`` connects to ``URL``,
prints ``ready``, waits for ``go``, performs ``COUNT`` operations of ``KIND`` on the
structure ``NAME`` and prints one JSON line: ``ops``, ``seconds`` and ``latencies``
(seconds per operation), plus ``attempts`` (atom: compare-and-set attempts) or
``tokens`` (lock: the fencing token of each acquisition).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import hazelkit

__all__ = ["KINDS", "main"]

Work = Callable[[hazelkit.Cluster, str, int], Awaitable[dict[str, Any]]]


async def _swaps(cluster: hazelkit.Cluster, name: str, count: int) -> dict[str, Any]:
    """``count`` increments of the atom ``name`` with ``swap``, counting attempts."""
    atom = cluster.atom(name, initial=0)
    attempts = 0

    def increment(value: int) -> int:
        nonlocal attempts
        attempts += 1
        return value + 1

    latencies = await _timed(count, lambda: atom.swap(increment))
    return {"latencies": latencies, "attempts": attempts}


async def _lock_pairs(cluster: hazelkit.Cluster, name: str, count: int) -> dict[str, Any]:
    """``count`` acquire/release pairs of the lock ``name``, keeping every token."""
    lock = cluster.lock(name)
    tokens: list[int] = []

    async def pair() -> None:
        tokens.append(await lock.acquire())
        await lock.release()

    latencies = await _timed(count, pair)
    return {"latencies": latencies, "tokens": tokens}


async def _timed(count: int, operation: Callable[[], Awaitable[object]]) -> list[float]:
    clock = time.perf_counter
    latencies = []
    for _ in range(count):
        start = clock()
        await operation()
        latencies.append(round(clock() - start, 7))
    return latencies


KINDS: dict[str, Work] = {"atom": _swaps, "lock": _lock_pairs}


async def _serve(kind: str, url: str, name: str, count: int) -> dict[str, Any]:
    work = KINDS[kind]
    async with hazelkit.connect(url) as cluster:
        print("ready", flush=True)
        loop = asyncio.get_running_loop()
        if (await loop.run_in_executor(None, sys.stdin.readline)).strip() != "go":
            raise SystemExit("expected 'go' on standard input")
        began = time.perf_counter()
        report = await work(cluster, name, count)
        report.update(ops=count, seconds=time.perf_counter() - began)
        return report


def main(argv: list[str]) -> int:
    """Run one worker; see the module docstring. Returns the exit status."""
    if len(argv) != 4 or argv[0] not in KINDS:
        print(f"usage: {__name__} {{{','.join(KINDS)}}} URL NAME COUNT", file=sys.stderr)
        return 2
    kind, url, name, count = argv
    report = asyncio.run(_serve(kind, url, name, int(count)))
    print(json.dumps(report), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
