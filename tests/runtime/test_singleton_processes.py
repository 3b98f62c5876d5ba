"""A singleton across real node processes on a real member: SIGKILL and graceful leave.

Three node processes run ``singleton_worker.py``: whichever runs the singleton writes to
a fenced map every 50 ms with its fencing token, and logs each accepted write (token,
pid, wall-clock time). The node running it is SIGKILLed (and restarted); then the node
that took over is stopped gracefully (SIGTERM); then the next is SIGSTOPped past its lease
and, once another took over, resumed (SIGCONT). From the log: the tokens strictly
increase from one instance to the next, each token is one process's, and the writes of
two instances never interleave or overlap in time (at most one instance at any moment);
no instance was refused by the fence (none ran on after another started). The takeover
times are printed.
"""

from __future__ import annotations

import asyncio
import itertools
import signal
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import hazelkit
from hazelkit.testing import LocalCluster
from member_helpers import start_members
from node_processes import Processes

pytestmark = [pytest.mark.slow, pytest.mark.hazelcast_only]

WORKER = Path(__file__).with_name("singleton_worker.py")
LEASE = 3.0
INTERVAL = 0.05


@dataclass
class Instance:
    """The accepted writes of one instance of the singleton (one token)."""

    token: int
    pids: set[int]
    first: float
    last: float
    numbers: list[int]


def instances(log: dict[int, dict[str, Any]]) -> list[Instance]:
    """The log's writes grouped by token, in write order; AssertionError if a token's
    writes are interleaved with another's."""
    found: list[Instance] = []
    for number in sorted(log):
        entry = log[number]
        if not found or found[-1].token != entry["token"]:
            assert all(i.token != entry["token"] for i in found), f"token back at write {number}"
            found.append(Instance(entry["token"], set(), entry["t"], entry["t"], []))
        current = found[-1]
        current.pids.add(entry["pid"])
        current.last = entry["t"]
        current.numbers.append(number)
    return found


@pytest.mark.timeout(180)
@pytest.mark.usefixtures("backend")
def test_one_singleton_instance_at_a_time_through_a_kill_and_a_graceful_leave(
    tmp_path: Path,
) -> None:
    local = LocalCluster(1, workdir=tmp_path / "members")
    processes = Processes(WORKER, tmp_path, "", f"singleton-{uuid.uuid4().hex[:8]}")
    try:
        start_members(local)
        processes.url = local.url
        log, killed, left = asyncio.run(scenario(processes))
    finally:
        processes.stop_all()
        local.stop()
    found = instances(log)
    takeover = found[1].first - killed
    handoff = found[2].first - left
    print(
        f"\nsingleton: tokens {[i.token for i in found]}, {len(log)} fenced writes;"
        f" SIGKILL -> next instance's first write {takeover:.2f} s (lease {LEASE:g} s);"
        f" graceful leave -> next instance's first write {handoff:.2f} s"
    )
    check(found, log, processes)
    assert takeover <= LEASE + 2 + 3, takeover  # lease + 2 s, slack for a loaded machine
    assert handoff < LEASE, handoff  # a graceful leave waits out no lease


def check(found: list[Instance], log: dict[int, dict[str, Any]], processes: Processes) -> None:
    assert len(found) == 4, [(i.token, i.pids) for i in found]
    tokens = [i.token for i in found]
    assert tokens == sorted(set(tokens)), tokens  # strictly increasing
    assert all(len(i.pids) == 1 for i in found), [i.pids for i in found]
    for before, after in itertools.pairwise(found):
        assert before.last < after.first, (before, after)  # never two at once
    missing = set(range(1, max(log) + 1)) - set(log)
    # Each instance that ended may have ended between a fenced write and the log entry
    # of it: the killed one dies, the one leaving gracefully is cancelled there, the
    # paused one is cancelled on waking (its lease lapsed). The fence moved on, only the
    # entry is missing. No other write may be.
    ends = {instance.numbers[-1] + 1 for instance in found[:-1]}
    assert missing <= ends, (sorted(missing), sorted(ends))
    fenced = list(processes.folder.glob("fenced-*.jsonl"))
    assert not fenced, [f.read_text() for f in fenced]  # no stale instance ran on


async def scenario(processes: Processes) -> tuple[dict[int, dict[str, Any]], float, float]:
    for n in range(3):
        processes.spawn("node", f"node{n}", lease=LEASE, interval=INTERVAL, run_for=300)
    for n in range(3):
        await processes.info(f"node-node{n}")
    async with hazelkit.connect(processes.url) as cluster:
        fence = cluster.map(f"{processes.prefix}-fence")
        first = await holder_after(processes, fence, 0)
        await asyncio.sleep(1.0)  # let it write a while
        victim = processes.label_of(first["pid"])
        killed = time.time()
        processes.kill(victim)
        processes.spawn("node", f"{victim}-again", lease=LEASE, interval=INTERVAL, run_for=300)
        second = await holder_after(processes, fence, first["token"])
        await asyncio.sleep(1.0)
        leaving = processes.label_of(second["pid"])
        left = time.time()
        processes.started[leaving].send_signal(signal.SIGTERM)
        third = await holder_after(processes, fence, second["token"])
        await asyncio.sleep(1.0)
        assert await processes.exited([leaving], 20) == [0], processes.logs()
        paused = processes.started[processes.label_of(third["pid"])]
        paused.send_signal(signal.SIGSTOP)  # past its lease: another takes over
        await holder_after(processes, fence, third["token"])
        paused.send_signal(signal.SIGCONT)  # it must see its lease lapsed and stop
        await asyncio.sleep(2.0)
        log: dict[int, dict[str, Any]] = dict(await cluster.map(f"{processes.prefix}-log").items())
    return log, killed, left


async def holder_after(processes: Processes, fence: hazelkit.Map[Any, Any], token: int) -> Any:
    """The fence's holder once its token is newer than ``token`` (within 60 s)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        holder = await fence.get("holder")
        if holder is not None and holder["token"] > token:
            return holder
        await asyncio.sleep(0.05)
    pytest.fail(f"no singleton instance newer than token {token} wrote{processes.logs()}")
