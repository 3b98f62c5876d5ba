"""Invariants of hazelkit's structures while a nemesis kills, stops, pauses and restarts
real Hazelcast members under load from several processes.

Two members (one backup, the default). Three worker processes (``nemesis_worker.py``)
loop over atom swaps, counter adds, a lock-protected read-modify-write, queue transfers
of uniquely numbered items and reliable-topic publishes, each with one subscriber. Every
call's outcome is recorded: applied, not applied (retried), or unknown
(IndeterminateOperationError: never retried). Meanwhile the nemesis injects faults one
at a time, seeded (``HAZELKIT_NEMESIS_SEED``), waiting for the cluster to be safe (no
migrations, every partition backed up) before the next one. Afterwards:

- atom and counter: the value is the number of applied calls, plus at most the unknown
  ones (which these resolve by themselves, so there should be none);
- the lock-protected counter likewise;
- queue: no item arrives twice, none arrives that was never (maybe) put, and every item
  put but never received is matched by an unknown take;
- reliable topic: every subscriber gets every applied publish exactly once, in each
  publisher's order, and nothing that was not (maybe) published.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import random
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import hazelkit
from hazelkit.testing import LocalCluster
from member_helpers import start_members

pytestmark = [pytest.mark.slow, pytest.mark.hazelcast_only]

SEED = int(os.environ.get("HAZELKIT_NEMESIS_SEED", "1789"))
MEMBERS = 2
WORKERS = 3
ITERATIONS = 8000  # per worker at most (they stop when told): a bound, rarely reached
TOPIC_CAPACITY = 30_000  # every message of every worker stays in the ringbuffer
# Shuffled by the seed; each member is the victim of half of them (whichever holds the
# primary or the backup of a structure at that moment).
FAULTS = (*("kill",) * 5, *("stop",) * 4, *("pause",) * 3)
QUIET = 5.0  # seconds of load without faults before the workers are told to stop
WORKER = Path(__file__).with_name("nemesis_worker.py")
WRITES = ("atom.swap", "counter.add", "guarded.put", "queue.put", "topic.publish")
# The members' health endpoint tells when the cluster is safe (no migration under way,
# every backup in place).
HEALTH_CHECK = {
    "network": {
        "rest-api": {"enabled": True, "endpoint-groups": {"HEALTH_CHECK": {"enabled": True}}}
    }
}


@pytest.mark.timeout(480)
def test_invariants_hold_while_members_fail_and_return(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    prefix = f"nemesis-{SEED}-{rng.getrandbits(32):08x}"
    local = LocalCluster(MEMBERS, extra_config=HEALTH_CHECK, workdir=tmp_path / "members")
    workers: list[subprocess.Popen[bytes]] = []
    began = time.monotonic()
    try:
        start_members(local)
        workers = [spawn_worker(local.url, prefix, number, tmp_path) for number in range(WORKERS)]
        wait_for_files(tmp_path, [f"ready-{n}" for n in range(WORKERS)], workers, 120)
        faults = run_nemesis(local, rng, workers)
        (tmp_path / "stop").touch()
        results = collect(workers, tmp_path, timeout=240)
        final = asyncio.run(read_final(local.url, prefix))
    finally:
        for worker in workers:  # our own children, by their Popen
            if worker.poll() is None:
                worker.kill()
                worker.wait(timeout=10)
        local.stop()
    report = Report(results, final)
    print(
        f"\nseed {SEED}, {time.monotonic() - began:.0f} s, faults: {faults}\n"
        f"logs: {tmp_path}\n{report.summary()}"
    )
    assert len(faults) >= 4, f"only {len(faults)} faults happened while the workers ran"
    report.check()


# --- the worker processes -----------------------------------------------------------------


def spawn_worker(url: str, prefix: str, number: int, folder: Path) -> subprocess.Popen[bytes]:
    config = {
        "url": url,
        "prefix": prefix,
        "worker": number,
        "workers": WORKERS,
        "iterations": ITERATIONS,
        "topic_capacity": TOPIC_CAPACITY,
        "seed": SEED,
        "folder": str(folder),
    }
    with (folder / f"worker-{number}.log").open("wb") as log:
        return subprocess.Popen(
            [sys.executable, str(WORKER), json.dumps(config)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def wait_for_files(
    folder: Path, names: list[str], workers: list[subprocess.Popen[bytes]], timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while not all((folder / name).exists() for name in names):
        dead = [n for n, w in enumerate(workers) if w.poll() is not None]
        if dead or time.monotonic() > deadline:
            pytest.fail(f"workers {dead or 'all'} not ready: {worker_logs(folder)}")
        time.sleep(0.2)


def collect(workers: list[subprocess.Popen[bytes]], folder: Path, timeout: float) -> list[Any]:
    deadline = time.monotonic() + timeout
    for worker in workers:
        try:
            worker.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pytest.fail(f"a worker did not finish within {timeout:g} s: {worker_logs(folder)}")
    codes = [worker.returncode for worker in workers]
    assert codes == [0] * WORKERS, f"worker exit codes {codes}: {worker_logs(folder)}"
    return [json.loads((folder / f"result-{n}.json").read_text()) for n in range(WORKERS)]


def worker_logs(folder: Path) -> str:
    tails = []
    for log in sorted(folder.glob("worker-*.log")):
        tails.append(f"\n--- {log.name}:\n" + "\n".join(log.read_text().splitlines()[-30:]))
    return "".join(tails)


# --- the nemesis --------------------------------------------------------------------------


def run_nemesis(
    local: LocalCluster, rng: random.Random, workers: list[subprocess.Popen[bytes]]
) -> list[str]:
    """Inject the faults one at a time while every worker runs; return what was done."""
    kinds = list(FAULTS)
    rng.shuffle(kinds)
    victims = [number % MEMBERS for number in range(len(kinds))]
    rng.shuffle(victims)
    done: list[str] = []
    time.sleep(3.0)  # load before the first fault
    for kind, victim in zip(kinds, victims, strict=True):
        if any(worker.poll() is not None for worker in workers):
            break  # a worker finished (or died): no load to fault any more
        down = rng.uniform(0.5, 2.5)
        began = time.monotonic()
        if kind == "pause":  # shorter than the heartbeat timeout: a stall, not a death
            local.pause_member(victim)
            time.sleep(down)
            local.resume_member(victim)
        else:
            (local.kill_member if kind == "kill" else local.stop_member)(victim)
            time.sleep(down)
            local.restart_member(victim)
        wait_until_safe(local, timeout=90)
        done.append(f"{kind} member-{victim + 1} {down:.1f}s (+{time.monotonic() - began:.0f}s)")
        time.sleep(rng.uniform(1.0, 3.0))
    time.sleep(QUIET)
    return done


def wait_until_safe(local: LocalCluster, timeout: float) -> None:
    """Until every member reports all members, a safe cluster and no migrations (twice
    in a row, half a second apart)."""
    deadline = time.monotonic() + timeout
    good = 0
    last: list[Any] = []
    while good < 2:
        if time.monotonic() > deadline:
            pytest.fail(f"the cluster was not safe within {timeout:g} s: {last}")
        last = [health(member.address) for member in local.members]
        settled = all(
            h is not None
            and h["clusterSafe"]
            and h["migrationQueueSize"] == 0
            and h["clusterSize"] == MEMBERS
            and h["nodeState"] == "ACTIVE"
            for h in last
        )
        good = good + 1 if settled else 0
        time.sleep(0.5)


def health(address: str) -> Any:
    try:
        url = f"http://{address}/hazelcast/health"
        with urllib.request.urlopen(url, timeout=5) as response:  # loopback, our member
            return json.loads(response.read())
    except OSError:
        return None


# --- reading back and checking ------------------------------------------------------------


async def read_final(url: str, prefix: str) -> dict[str, Any]:
    async with hazelkit.connect(url, connect_timeout=30) as cluster:
        return {
            "atom": await cluster.atom(f"{prefix}-atom", initial=0).deref(),
            "counter": await cluster.counter(f"{prefix}-counter").get(),
            "guarded": await cluster.map(f"{prefix}-guarded").get("n", 0),
            "queue_left": await cluster.queue(f"{prefix}-queue").drain(),
        }


class Report:
    """The workers' records and the final state, summed up and checked."""

    def __init__(self, results: list[Any], final: dict[str, Any]) -> None:
        self.results = results
        self.final = final
        self.counts: dict[str, Counter[str]] = {}
        for result in results:
            for operation, outcomes in result["counts"].items():
                self.counts.setdefault(operation, Counter()).update(outcomes)

    def n(self, operation: str, outcome: str) -> int:
        return self.counts.get(operation, Counter())[outcome]

    def summary(self) -> str:
        lines = [f"iterations per worker: {[r['iterations'] for r in self.results]}"]
        for operation in sorted(self.counts):
            lines.append(f"  {operation}: {dict(sorted(self.counts[operation].items()))}")
        lines.append(
            f"final: { {k: v for k, v in self.final.items() if k != 'queue_left'} }"
            f", queue left: {len(self.final['queue_left'])}"
        )
        errors = [e for r in self.results for e in r["errors"]]
        lines.append(f"error samples ({len(errors)}):")
        lines.extend(f"  {error}" for error in errors[:25])
        ends = [r["subscriber_end"] for r in self.results]
        lines.append(f"subscriber endings: {ends}")
        return "\n".join(lines)

    def check(self) -> None:
        problems: list[str] = []
        for operation in WRITES:
            if self.n(operation, "other"):
                problems.append(f"{operation}: errors that name no outcome (see the samples)")
        self._check_value("atom", "atom.swap", problems)
        self._check_value("counter", "counter.add", problems)
        self._check_value("guarded", "guarded.put", problems)
        self._check_queue(problems)
        self._check_topic(problems)
        assert not problems, "\n".join(problems)

    def _check_value(self, key: str, operation: str, problems: list[str]) -> None:
        ok, unknown = self.n(operation, "ok"), self.n(operation, "unknown")
        value = self.final[key]
        if not ok <= value <= ok + unknown:
            problems.append(
                f"{key} is {value}: {ok} {operation} applied, {unknown} unknown,"
                f" {self.n(operation, 'gave_up')} gave up (not applied)"
            )

    def _check_queue(self, problems: list[str]) -> None:
        puts = {item: outcome for r in self.results for item, outcome in r["puts"].items()}
        received = [item for r in self.results for item in r["taken"]]
        received += self.final["queue_left"]
        twice = sorted(item for item, times in Counter(received).items() if times > 1)
        if twice:
            problems.append(f"queue: {len(twice)} items received twice: {twice[:10]}")
        phantoms = sorted(i for i in set(received) if puts.get(i) not in ("ok", "unknown"))
        if phantoms:
            shown = [(item, puts.get(item)) for item in phantoms[:10]]
            problems.append(f"queue: {len(phantoms)} items received that were not put: {shown}")
        missing = {i for i, outcome in puts.items() if outcome == "ok"} - set(received)
        unknown_takes = self.n("queue.poll", "unknown")
        if len(missing) > unknown_takes:
            problems.append(
                f"queue: {len(missing)} items put and never received, but only"
                f" {unknown_takes} takes had an unknown outcome: {sorted(missing)[:10]}"
            )

    def _check_topic(self, problems: list[str]) -> None:
        for subscriber in self.results:
            for publisher in self.results:
                self._check_stream(subscriber, publisher, problems)

    def _check_stream(self, subscriber: Any, publisher: Any, problems: list[str]) -> None:
        who = f"topic: subscriber {subscriber['worker']}, publisher {publisher['worker']}"
        numbers = [n for p, n in subscriber["received"] if p == publisher["worker"] and n >= 0]
        outcomes = {int(n): outcome for n, outcome in publisher["published"].items()}
        if any(a >= b for a, b in itertools.pairwise(numbers)):
            repeated = sorted(n for n, times in Counter(numbers).items() if times > 1)
            problems.append(f"{who}: not once each in order (repeated: {repeated[:10]})")
        got = set(numbers)
        lost = sorted(n for n, outcome in outcomes.items() if outcome == "ok" and n not in got)
        if lost:
            problems.append(f"{who}: {len(lost)} published messages never arrived: {lost[:10]}")
        phantoms = sorted(n for n in got if outcomes.get(n) not in ("ok", "unknown"))
        if phantoms:
            shown = [(n, outcomes.get(n)) for n in phantoms[:10]]
            problems.append(f"{who}: {len(phantoms)} messages that were not published: {shown}")
