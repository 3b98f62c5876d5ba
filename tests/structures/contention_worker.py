"""A worker process of the contention tests: ``python contention_worker.py MODE URL NAME ...``.

Modes (each prints one JSON line with its results on stdout when it ends):

- ``swap URL NAME N``: swap the atom NAME and add to the counter NAME, N times each.
- ``memoize URL NAME KEYS CALLERS``: call a memoized function concurrently, CALLERS times
  per key for keys 0..KEYS-1; the function counts its runs in the counter NAME-runs-KEY.
- ``stall URL NAME``: start computing key 0 of that function, print ``{"computing": 0}``
  and never finish (the test kills this process).
- ``takeover URL NAME``: call the function for key 0 once; report when the call began
  and when this process began computing (wall clock, comparable on one machine).

Workers other than ``stall`` first count themselves in the counter NAME-ready, then wait
for the key ``go`` of the map NAME-start, so that they all start at the same moment.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from typing import Any

import hazelkit

LEASE = 3.0
STALL = False
#: When (wall clock) this process began computing each key.
COMPUTED_AT: dict[int, float] = {}


async def start_together(cluster: hazelkit.Cluster, name: str) -> None:
    await cluster.counter(f"{name}-ready").increment()
    start = cluster.map(f"{name}-start")
    deadline = time.monotonic() + 60
    while not await start.contains("go"):
        if time.monotonic() > deadline:
            raise TimeoutError("no start signal within 60 s")
        await asyncio.sleep(0.01)


async def swap(cluster: hazelkit.Cluster, name: str, times: str) -> dict[str, Any]:
    atom, counter = cluster.atom(name, initial=0), cluster.counter(name)
    log = cluster.atom(f"{name}-log", initial=())
    await start_together(cluster, name)
    began = time.time()
    for _ in range(int(times)):
        await atom.swap(lambda value: value + 1)
        await counter.add(1)
    for _ in range(int(times) // 10):  # a structured value too
        await log.swap(lambda entries, pid: (*entries, pid), os.getpid())
    return {"pid": os.getpid(), "began": began, "ended": time.time()}


def memoized(cluster: hazelkit.Cluster, name: str) -> Any:
    @cluster.cache(name).memoize(name="contention", lease=LEASE)
    async def compute(key: int) -> dict[str, int]:
        COMPUTED_AT[key] = time.time()
        await cluster.counter(f"{name}-runs-{key}").increment()
        if STALL:
            print(json.dumps({"computing": key}), flush=True)
            await asyncio.sleep(3600)
        await asyncio.sleep(0.5)
        return {"key": key, "pid": os.getpid()}

    return compute


async def memoize(cluster: hazelkit.Cluster, name: str, keys: str, callers: str) -> dict[str, Any]:
    compute = memoized(cluster, name)
    await start_together(cluster, name)
    calls = [compute(key) for key in range(int(keys)) for _ in range(int(callers))]
    return {"pid": os.getpid(), "results": await asyncio.gather(*calls)}


async def stall(cluster: hazelkit.Cluster, name: str) -> dict[str, Any]:
    global STALL
    STALL = True
    await memoized(cluster, name)(0)
    return {}


async def takeover(cluster: hazelkit.Cluster, name: str) -> dict[str, Any]:
    compute = memoized(cluster, name)
    await start_together(cluster, name)
    began = time.time()
    result = await compute(0)
    return {"pid": os.getpid(), "result": result, "began": began, "computed_at": COMPUTED_AT[0]}


MODES = {"swap": swap, "memoize": memoize, "stall": stall, "takeover": takeover}


async def main(mode: str, url: str, name: str, *args: str) -> None:
    async with hazelkit.connect(url) as cluster:
        result = await MODES[mode](cluster, name, *args)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:]))
