"""Agents across real processes on real members: many senders, and an owner SIGKILLed.

Node and sender processes run ``agent_worker.py``; its action ``step`` records, per
sender, the last number applied and every number that did not follow its predecessor
(a repeat, a gap, a reordering). Every process is kept by its Popen and exactly those are
stopped at the end; every wait has a deadline.

- Four sender processes send 500 actions each to one agent hosted by two node
  processes: every action is applied once, each sender's in the order it sent them.
- The same with the agent's owner SIGKILLed mid-stream (and restarted): the other node
  takes the agent over, and still every action is applied once, in order.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from agent_worker import INITIAL

import hazelkit
from hazelkit.testing import LocalCluster
from member_helpers import start_members
from node_processes import Processes

pytestmark = [pytest.mark.slow, pytest.mark.hazelcast_only]

WORKER = Path(__file__).with_name("agent_worker.py")
LEASE = 3.0


def run_with_members(tmp_path: Path, scenario: Any) -> Any:
    """Run ``scenario(processes)`` against one private member; stop everything after."""
    local = LocalCluster(1, workdir=tmp_path / "members")
    processes = Processes(WORKER, tmp_path, "", f"agents-{uuid.uuid4().hex[:8]}")
    try:
        start_members(local)
        processes.url = local.url
        return asyncio.run(scenario(processes))
    finally:
        processes.stop_all()
        local.stop()


async def start_senders(
    processes: Processes, agent: str, senders: int, count: int, pace: float
) -> list[str]:
    labels = [f"sender{n}" for n in range(senders)]
    for label in labels:
        processes.spawn("sender", label, agent=agent, count=count, pace=pace)
    ready = [processes.folder / f"ready-{label}" for label in labels]
    await processes.until(lambda: all(p.exists() for p in ready), 60, "senders ready")
    (processes.folder / "go").touch()
    return labels


async def applied(
    cluster: hazelkit.Cluster, agent: str, total: int, timeout: float
) -> dict[str, Any]:
    """The agent's value once it applied ``total`` actions (or at the deadline, as it is:
    the assertions then say what is missing)."""
    handle = cluster.agent(agent, initial=INITIAL)
    deadline = time.monotonic() + timeout
    while True:
        value: dict[str, Any] = await handle.deref()
        if value["count"] >= total or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.2)


def check_exactly_once_in_order(value: dict[str, Any], senders: int, count: int) -> None:
    assert value["bad"] == [], value["bad"]  # no repeat, gap or reordering
    assert value["last"] == {f"sender{n}": count for n in range(senders)}, value["last"]
    assert value["count"] == senders * count  # and nothing applied beyond those


# --- many senders -------------------------------------------------------------------------


SENDERS, PER_SENDER = 4, 500


@pytest.mark.timeout(180)
@pytest.mark.usefixtures("backend")
def test_four_processes_sending_to_one_agent_apply_each_action_once_in_order(
    tmp_path: Path,
) -> None:
    value, seconds = run_with_members(tmp_path, many_senders)
    print(
        f"\nagent: {SENDERS} processes x {PER_SENDER} actions applied in {seconds:.1f} s"
        f" ({SENDERS * PER_SENDER / seconds:,.0f} actions/s); by process: {value['by']}"
    )
    check_exactly_once_in_order(value, SENDERS, PER_SENDER)


async def many_senders(processes: Processes) -> tuple[dict[str, Any], float]:
    agent = f"{processes.prefix}-counter"
    for label in ("node0", "node1"):
        processes.spawn("node", label, lease=LEASE, run_for=300)
        await processes.info(f"node-{label}")
    began = time.monotonic()
    senders = await start_senders(processes, agent, SENDERS, PER_SENDER, pace=0.0)
    assert await processes.exited(senders, 120) == [0] * SENDERS, processes.logs()
    async with hazelkit.connect(processes.url) as cluster:
        value = await applied(cluster, agent, SENDERS * PER_SENDER, timeout=60)
    return value, time.monotonic() - began


# --- the owner SIGKILLed ------------------------------------------------------------------


KILL_SENDERS, KILL_PER_SENDER = 2, 300


@pytest.mark.timeout(180)
@pytest.mark.usefixtures("backend")
def test_an_agent_applies_each_action_once_when_its_owner_is_killed_mid_stream(
    tmp_path: Path,
) -> None:
    value, killed_at, victim = run_with_members(tmp_path, owner_killed)
    print(
        f"\nagent owner SIGKILLed (pid {victim}) after {killed_at} of"
        f" {KILL_SENDERS * KILL_PER_SENDER} actions; applied by process: {value['by']}"
    )
    check_exactly_once_in_order(value, KILL_SENDERS, KILL_PER_SENDER)
    survivors = {pid for pid in value["by"] if pid != str(victim)}
    assert survivors, value["by"]  # another process took over mid-stream


async def owner_killed(processes: Processes) -> tuple[dict[str, Any], int, int]:
    agent = f"{processes.prefix}-counter"
    for label in ("node0", "node1"):
        processes.spawn("node", label, lease=LEASE, run_for=300)
        await processes.info(f"node-{label}")
    total = KILL_SENDERS * KILL_PER_SENDER
    senders = await start_senders(processes, agent, KILL_SENDERS, KILL_PER_SENDER, pace=0.02)
    async with hazelkit.connect(processes.url) as cluster:
        handle = cluster.agent(agent, initial=INITIAL)
        value = await until_value(processes, handle, lambda v: v["count"] >= total // 4)
        victim = int(value["pid"])  # the process that applied the last action: the owner
        label = processes.label_of(victim)
        processes.kill(label)
        killed_at = value["count"]
        processes.spawn("node", f"{label}-again", lease=LEASE, run_for=300)
        assert await processes.exited(senders, 120) == [0] * KILL_SENDERS, processes.logs()
        value = await applied(cluster, agent, total, timeout=60)
    assert killed_at < total, "the stream ended before the kill"
    return value, killed_at, victim


async def until_value(processes: Processes, handle: hazelkit.Agent[Any], condition: Any) -> Any:
    """The agent's value once ``condition(value)`` holds (within 60 s)."""
    found: list[Any] = [await handle.deref()]

    async def check() -> None:
        while not condition(found[0]):
            await asyncio.sleep(0.05)
            found[0] = await handle.deref()

    try:
        await asyncio.wait_for(check(), 60)
    except TimeoutError:
        pytest.fail(f"the agent did not reach the condition: {found[0]}{processes.logs()}")
    return found[0]
