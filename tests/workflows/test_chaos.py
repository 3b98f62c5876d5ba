"""Workflows under chaos: real processes, real members, SIGKILL and SIGSTOP.

Node and sender processes run ``chaos_worker.py``. Every process the test starts is kept
(members in their LocalCluster, the others by Popen) and exactly those are stopped at the
end. Each test is bounded: every wait has a deadline, every loop a number of rounds.

- Chaos: 2 members, 3 node processes, 200 workflows, 2 senders sending 20 uniquely
  numbered messages each to every workflow, while one node process is SIGKILLed twice
  (and restarted each time) and one member is SIGKILLed. Every workflow ends with exactly
  the sum of its 40 numbers, each applied once (no gap, no repeat), each sender's in its
  order. The longest time any workflow's partition had no owner is printed.
- Stale owner: a node SIGSTOPped in the middle of a handler, past its lease; another node
  takes over and applies the same message and those after it; SIGCONT: the stale node's
  handler returns, but its commit is refused (fenced), and nothing is applied twice or
  lost.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import hazelkit
from hazelkit.testing import LocalCluster
from hazelkit.workflows import WorkflowSnapshot
from member_helpers import start_members
from node_processes import Processes as NodeProcesses

pytestmark = [pytest.mark.slow, pytest.mark.hazelcast_only]

WORKER = Path(__file__).with_name("chaos_worker.py")
LEASE = 3.0
WORKFLOWS = 200
PER_SENDER = 20
SENDERS = 2
PARTITIONS = 16  # the default shape of a space


class Processes(NodeProcesses):
    """The node and sender processes of these tests (``chaos_worker.py``)."""

    def __init__(self, folder: Path, url: str, prefix: str) -> None:
        super().__init__(WORKER, folder, url, prefix)

    def node(self, label: str, **config: Any) -> subprocess.Popen[bytes]:
        return self.spawn("node", label, lease=LEASE, run_for=600, **config)

    async def node_id(self, label: str, timeout: float = 60) -> str:
        """The node id of node process ``label``, once it hosts."""
        return str((await self.info(f"node-{label}", timeout))["node"])


@dataclass
class OwnerMonitor:
    """Watches the partition leases and measures how long each partition had no owner:
    its lease released, held by a node the test killed (from the kill on), or not
    renewed for a whole lease (its holder stopped applying, by its own clock)."""

    dead: dict[str, float] = field(default_factory=dict)  #: node id -> when killed
    changed: dict[int, tuple[Any, float]] = field(default_factory=dict)
    since: dict[int, float] = field(default_factory=dict)
    gaps: list[tuple[float, int]] = field(default_factory=list)  #: (seconds, partition)

    def observe(self, owners: dict[int, Any], now: float) -> None:
        for partition in range(PARTITIONS):
            record = owners.get(partition)
            state = None if record is None else (record.owner, record.epoch, record.version)
            last, changed_at = self.changed.get(partition, (state, now))
            if state != last or partition not in self.changed:
                self.changed[partition], changed_at = (state, now), now
            start = self._ownerless_since(record, changed_at, now)
            if start is not None:
                self.since.setdefault(partition, start)
            elif partition in self.since:
                self.gaps.append((now - self.since.pop(partition), partition))

    def _ownerless_since(self, record: Any, changed_at: float, now: float) -> float | None:
        if record is None or record.owner is None:
            return changed_at
        if record.owner in self.dead:
            return self.dead[record.owner]
        if now - changed_at > LEASE:
            return changed_at + LEASE
        return None

    def longest(self, now: float) -> tuple[float, int | None]:
        gaps = self.gaps + [(now - since, p) for p, since in self.since.items()]
        return max(gaps, default=(0.0, None))

    async def run(self, cluster: hazelkit.Cluster, type_name: str) -> None:
        while True:
            try:
                owners = await asyncio.wait_for(cluster.workflows.owners(type_name), 5)
                self.observe(owners, time.monotonic())
            except (hazelkit.HazelkitError, TimeoutError):
                pass  # a member is down: look again
            await asyncio.sleep(0.2)


async def start_workflows(cluster: hazelkit.Cluster, type_name: str, ids: list[str]) -> None:
    limit = asyncio.Semaphore(20)

    async def start(workflow_id: str) -> None:
        async with limit:
            await cluster.workflows.start(type_name, workflow_id)

    await asyncio.gather(*(start(i) for i in ids))
    for workflow_id in ids:
        await cluster.workflows.wait(workflow_id, "running", timeout=60)


async def snapshots(cluster: hazelkit.Cluster, type_name: str) -> dict[str, WorkflowSnapshot]:
    return {s.id: s async for s in cluster.workflows.list(type=type_name)}


async def settle(
    cluster: hazelkit.Cluster, type_name: str, expected: int, timeout: float
) -> dict[str, WorkflowSnapshot]:
    """Every workflow's snapshot once each applied ``expected`` messages (or at the
    deadline, as they are: the assertions then say what is missing)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            found = await snapshots(cluster, type_name)
        except hazelkit.HazelkitError:
            found = {}
        done = [s for s in found.values() if len(s.state["seen"]) >= expected]
        if (found and len(done) == len(found)) or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.5)


# --- chaos -------------------------------------------------------------------------------


@pytest.mark.timeout(300)
@pytest.mark.usefixtures("backend")
def test_workflows_apply_every_message_once_through_node_and_member_kills(
    tmp_path: Path,
) -> None:
    local = LocalCluster(2, workdir=tmp_path / "members")
    prefix = f"chaos-{uuid.uuid4().hex[:8]}"
    processes = Processes(tmp_path, "", prefix)
    try:
        start_members(local)
        processes.url = local.url
        report = asyncio.run(chaos(local, processes))
    finally:
        processes.stop_all()
        local.stop()
    print(report.summary())
    report.check()


@dataclass
class ChaosReport:
    final: dict[str, WorkflowSnapshot]
    ids: list[str]
    longest: tuple[float, int | None]
    faults: list[str]
    retries: list[dict[str, int]]
    seconds: float
    logs: str

    def summary(self) -> str:
        seconds, partition = self.longest
        moved = sum(1 for s in self.final.values() if len(set(s.state["by"])) > 1)
        return (
            f"\nchaos: {len(self.ids)} workflows x {SENDERS * PER_SENDER} messages in"
            f" {self.seconds:.0f} s; faults: {', '.join(self.faults)}\n"
            f"longest time a workflow had no owner: {seconds:.2f} s (partition {partition},"
            f" lease {LEASE:g} s)\n"
            f"workflows applied by more than one process: {moved}; sends retried: {self.retries}"
        )

    def check(self) -> None:
        numbers = list(range(1, SENDERS * PER_SENDER + 1))
        assert sorted(self.final) == sorted(self.ids), self.logs
        for workflow_id in self.ids:
            state = self.final[workflow_id].state
            assert sorted(state["seen"]) == numbers, (workflow_id, state["seen"], self.logs)
            assert state["total"] == sum(numbers), workflow_id
            for sender in range(SENDERS):  # each sender's messages in the order it sent them
                own = [n for n in state["seen"] if (n - 1) // PER_SENDER == sender]
                assert own == sorted(own), (workflow_id, sender, own)
        assert len(self.faults) == 3, self.faults


async def chaos(local: LocalCluster, processes: Processes) -> ChaosReport:
    began = time.monotonic()
    type_name = f"{processes.prefix}.numbered"
    ids = [f"{processes.prefix}-{n}" for n in range(WORKFLOWS)]
    for n in range(3):
        processes.node(f"node{n}")
    nodes = {f"node{n}": await processes.node_id(f"node{n}") for n in range(3)}
    async with hazelkit.connect(local.url) as cluster:
        await start_workflows(cluster, type_name, ids)
        for sender in range(SENDERS):
            numbers = list(range(sender * PER_SENDER + 1, (sender + 1) * PER_SENDER + 1))
            processes.spawn("sender", f"sender{sender}", ids=ids, numbers=numbers, pace=1.0,
                            retry_for=90.0)  # fmt: skip
        await processes.until(
            lambda: all((processes.folder / f"ready-sender{s}").exists() for s in range(SENDERS)),
            60,
            "senders ready",
        )
        monitor = OwnerMonitor()
        watching = asyncio.ensure_future(monitor.run(cluster, type_name))
        (processes.folder / "go").touch()
        faults = await nemesis(local, processes, monitor, nodes)
        senders = [processes.started[f"sender{s}"] for s in range(SENDERS)]
        await processes.until(lambda: all(p.poll() is not None for p in senders), 150, "senders")
        assert [p.returncode for p in senders] == [0] * SENDERS, processes.logs()
        final = await settle(cluster, type_name, SENDERS * PER_SENDER, timeout=90)
        watching.cancel()
        longest = monitor.longest(time.monotonic())
    retries = [
        json.loads((processes.folder / f"sender-sender{s}.json").read_text())["retries"]
        for s in range(SENDERS)
    ]
    return ChaosReport(
        final, ids, longest, faults, retries, time.monotonic() - began, processes.logs()
    )


async def nemesis(
    local: LocalCluster, processes: Processes, monitor: OwnerMonitor, nodes: dict[str, str]
) -> list[str]:
    """SIGKILL node0 (restarted as node0b), a member, then node0b (restarted as node0c),
    while the senders send."""
    faults = []
    await asyncio.sleep(6)
    monitor.dead[nodes["node0"]] = time.monotonic()
    processes.kill("node0")
    faults.append("SIGKILL node0")
    processes.node("node0b")
    nodes["node0b"] = await processes.node_id("node0b")
    await asyncio.sleep(5)
    await asyncio.to_thread(local.kill_member, 1)
    faults.append("SIGKILL member 1")
    await asyncio.sleep(6)
    monitor.dead[nodes["node0b"]] = time.monotonic()
    processes.kill("node0b")
    faults.append("SIGKILL node0b")
    processes.node("node0c")
    await processes.node_id("node0c")
    return faults


# --- a stale owner -----------------------------------------------------------------------


@pytest.mark.timeout(240)
@pytest.mark.usefixtures("backend")
def test_a_node_paused_past_its_lease_is_fenced_when_it_resumes(tmp_path: Path) -> None:
    local = LocalCluster(1, workdir=tmp_path / "members")
    prefix = f"stale-{uuid.uuid4().hex[:8]}"
    processes = Processes(tmp_path, "", prefix)
    try:
        start_members(local)
        processes.url = local.url
        outcome = asyncio.run(stale_owner(processes))
    finally:
        processes.stop_all()
        local.stop()
    final, slow_id, resumed, pids = outcome
    logs = processes.logs()
    numbers = list(range(1, 9))
    for workflow_id, snapshot in final.items():  # nothing lost, nothing applied twice
        assert snapshot.state["seen"] == numbers, (workflow_id, snapshot.state, logs)
    journal = [json.loads(line) for line in (tmp_path / "journal-a.jsonl").read_text().splitlines()]
    stale_exit = [
        e for e in journal if e["phase"] == "exit" and e["id"] == slow_id and e["pid"] == pids["a"]
    ]
    assert stale_exit, journal  # A's handler of the slow message ran to its end...
    assert stale_exit[0]["t"] >= resumed - 0.5  # ...after A was resumed...
    by = dict(zip(final[slow_id].state["seen"], final[slow_id].state["by"], strict=True))
    assert by[2] == pids["b"], (by, pids)  # ...and its commit was refused: B's stands
    assert "stops partition" in (tmp_path / "a.log").read_text(), logs
    print(f"\nstale owner: A (pid {pids['a']}) resumed; its commit of {slow_id}:2 was fenced")


async def stale_owner(
    processes: Processes,
) -> tuple[dict[str, WorkflowSnapshot], str, float, dict[str, int]]:
    type_name = f"{processes.prefix}.numbered"
    ids = [f"{processes.prefix}-{n}" for n in range(20)]
    a = processes.node("a", journal=True)
    node_a = await processes.node_id("a")
    async with hazelkit.connect(processes.url) as cluster:
        await start_workflows(cluster, type_name, ids)  # all on A: B is not there yet
        b = processes.node("b")
        node_b = await processes.node_id("b")
        await shared_between(cluster, type_name, {node_a, node_b})
        await send_round(cluster, ids, 1)
        await settle_on(cluster, type_name, 1)
        owned_by_a = [i for i in ids if (await cluster.workflows.get(i)).owner == node_a]
        assert owned_by_a, "A kept none of its partitions"
        slow_id = owned_by_a[0]
        await cluster.workflows.send(slow_id, {"n": 2, "slow": 1.5}, key=f"{slow_id}:2")
        journal = processes.folder / "journal-a.jsonl"
        await processes.until(lambda: journal.exists(), 30, "A in the slow handler")
        a.send_signal(signal.SIGSTOP)  # in the middle of the handler, lease held
        for n in range(2, 7):
            await send_round(cluster, [i for i in ids if not (n == 2 and i == slow_id)], n)
        await settle_on(cluster, type_name, 6, timeout=60)  # B took A's partitions over
        a.send_signal(signal.SIGCONT)
        resumed = time.time()
        for n in (7, 8):
            await send_round(cluster, ids, n)
        final = await settle_on(cluster, type_name, 8, timeout=60)
        await asyncio.sleep(1.0)  # time for a stale write to land, if one could
        final = await snapshots(cluster, type_name)
    return final, slow_id, resumed, {"a": a.pid, "b": b.pid}


async def shared_between(cluster: hazelkit.Cluster, type_name: str, nodes: set[str]) -> None:
    """Wait until ``nodes`` hold every partition between them, unchanged for 1.5 s (the
    handoffs to a joining node are over)."""
    deadline, last, since = time.monotonic() + 60, None, time.monotonic()
    while time.monotonic() < deadline:
        owners = {p: r.owner for p, r in (await cluster.workflows.owners(type_name)).items()}
        if owners != last:
            last, since = owners, time.monotonic()
        elif set(owners.values()) == nodes and time.monotonic() - since >= 1.5:
            return
        await asyncio.sleep(0.1)
    pytest.fail(f"the partitions were not shared between {nodes}: {last}")


async def send_round(cluster: hazelkit.Cluster, ids: list[str], number: int) -> None:
    await asyncio.gather(
        *(cluster.workflows.send(i, {"n": number}, key=f"{i}:{number}") for i in ids)
    )


async def settle_on(
    cluster: hazelkit.Cluster, type_name: str, expected: int, timeout: float = 30
) -> dict[str, WorkflowSnapshot]:
    final = await settle(cluster, type_name, expected, timeout)
    short = {i: s.state["seen"] for i, s in final.items() if len(s.state["seen"]) < expected}
    assert not short, f"not applied within {timeout:g} s: {short}"
    return final
