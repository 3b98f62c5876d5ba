"""Contention across OS processes on real Hazelcast members: exact atoms, counters, memoize.

Each test starts several ``python contention_worker.py`` processes that connect to the
session's Hazelcast cluster and, released at the same moment, hammer one structure.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import pytest

import hazelkit
from hazelkit.testing import LocalCluster

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

WORKER = Path(__file__).with_name("contention_worker.py")
PROCESSES = 4


@pytest.fixture
async def hz(hazelcast_members: LocalCluster) -> AsyncIterator[hazelkit.Cluster]:
    async with hazelkit.connect(hazelcast_members.url) as cluster:
        yield cluster


def spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WORKER), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str], timeout: float = 120) -> dict[str, Any]:
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        pytest.fail(f"worker did not finish in {timeout} s: {err[-2000:]}")
    assert process.returncode == 0, err[-2000:]
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


async def run_together(
    cluster: hazelkit.Cluster, name: str, processes: list[subprocess.Popen[str]]
) -> list[dict[str, Any]]:
    """Release the workers at once (when all are connected) and collect their results."""
    try:
        with anyio.fail_after(90):
            while await cluster.counter(f"{name}-ready").get() < len(processes):
                if any(p.poll() is not None for p in processes):
                    break  # a worker died early: finish() reports why
                await anyio.sleep(0.05)
        await cluster.map(f"{name}-start").set("go", True)
        return [await anyio.to_thread.run_sync(finish, p) for p in processes]
    finally:
        for process in processes:
            reap(process)


def reap(process: subprocess.Popen[str]) -> None:
    """Kill ``process`` if it still runs, and close its pipes."""
    if process.poll() is None:
        process.kill()
    process.communicate()


async def test_atom_swaps_and_counter_adds_are_exact(
    hz: hazelkit.Cluster, hazelcast_members: LocalCluster, name: str
) -> None:
    times = 100
    workers = [spawn("swap", hazelcast_members.url, name, str(times)) for _ in range(PROCESSES)]
    results = await run_together(hz, name, workers)
    assert max(r["began"] for r in results) < min(r["ended"] for r in results)  # overlapping
    assert await hz.atom(name, initial=0).deref() == PROCESSES * times
    assert await hz.counter(name).get() == PROCESSES * times
    log = await hz.atom(f"{name}-log", initial=()).deref()
    assert sorted(log) == sorted(r["pid"] for r in results for _ in range(times // 10))


async def test_memoize_runs_once_per_key_across_processes(
    hz: hazelkit.Cluster, hazelcast_members: LocalCluster, name: str
) -> None:
    keys, callers = 3, 5
    workers = [
        spawn("memoize", hazelcast_members.url, name, str(keys), str(callers))
        for _ in range(PROCESSES)
    ]
    results = await run_together(hz, name, workers)
    for key in range(keys):
        assert await hz.counter(f"{name}-runs-{key}").get() == 1
    answers = [answer for r in results for answer in r["results"]]
    assert len(answers) == PROCESSES * keys * callers
    for key in range(keys):  # every caller, in every process, got the one computed result
        assert len({json.dumps(a) for a in answers if a["key"] == key}) == 1


async def test_a_killed_computing_process_is_taken_over_within_its_lease(
    hz: hazelkit.Cluster, hazelcast_members: LocalCluster, name: str
) -> None:
    staller = spawn("stall", hazelcast_members.url, name)
    waiter = spawn("takeover", hazelcast_members.url, name)
    try:
        assert staller.stdout is not None
        with anyio.fail_after(60):
            line = await anyio.to_thread.run_sync(staller.stdout.readline)
        assert json.loads(line) == {"computing": 0}
        staller.send_signal(signal.SIGKILL)  # dies holding the claim: nobody releases it
        staller.wait()
        killed_at = time.time()
        (result,) = await run_together(hz, name, [waiter])
    finally:
        reap(staller)
    assert result["result"] == {"key": 0, "pid": result["pid"]}
    assert await hz.counter(f"{name}-runs-0").get() == 2
    # The dead claim was respected until it lapsed: lease 3 s, last renewed at most
    # 0.75 s before the kill, Hazelcast expiring up to 1 s early: >= 1.25 s after it.
    assert result["computed_at"] - killed_at >= 1.0
    # And no longer than the lease plus a recheck (counted from when the waiter, which
    # may have been slow to start, began its call), with slack for a busy machine.
    assert result["computed_at"] - max(killed_at, result["began"]) <= 3.0 + 0.5 + 3
