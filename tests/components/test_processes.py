"""Ten processes start the same System (a Cluster, migrations, a step run once) at the
same moment against private Hazelcast members: each step runs exactly once, every
process gets the same outcome, and each stops gracefully on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

import hazelkit
from hazelkit.testing import LocalCluster
from member_helpers import start_members

pytestmark = [pytest.mark.slow, pytest.mark.hazelcast_only]

WORKERS = 10
WORKER = Path(__file__).with_name("components_worker.py")
STEPS = ["001-create", "002-index", "003-fill"]


@pytest.mark.timeout(300)
@pytest.mark.usefixtures("backend")
def test_ten_processes_starting_at_once_run_each_step_exactly_once(tmp_path: Path) -> None:
    local = LocalCluster(2, workdir=tmp_path / "members")
    prefix = f"components-{uuid.uuid4().hex[:8]}"
    workers: list[subprocess.Popen[bytes]] = []
    try:
        start_members(local)
        workers = [spawn(local.url, prefix, n, tmp_path) for n in range(WORKERS)]
        wait_for(tmp_path, [f"ready-{n}" for n in range(WORKERS)], workers, 60)
        (tmp_path / "go").touch()
        wait_for(tmp_path, [f"result-{n}.json" for n in range(WORKERS)], workers, 150)
        for worker in workers:
            worker.send_signal(signal.SIGTERM)  # run() stops each System gracefully
        codes = [worker.wait(timeout=60) for worker in workers]
        runs = asyncio.run(read_runs(local.url, prefix))
    finally:
        for worker in workers:  # our own children, by their Popen
            if worker.poll() is None:
                worker.kill()
                worker.wait(timeout=10)
        local.stop()
    assert codes == [0] * WORKERS, logs(tmp_path)
    assert runs == dict.fromkeys([*STEPS, "seed"], 1)
    results = [json.loads((tmp_path / f"result-{n}.json").read_text()) for n in range(WORKERS)]
    seeds = {json.dumps(result["seed"], sort_keys=True) for result in results}
    assert len(seeds) == 1, seeds
    assert results[0]["seed"]["after"] == STEPS  # the seed ran after every migration
    applied_here = [name for result in results for name in result["applied_here"]]
    assert sorted(applied_here) == sorted(STEPS)


def spawn(url: str, prefix: str, number: int, folder: Path) -> subprocess.Popen[bytes]:
    config = {"url": url, "prefix": prefix, "worker": number, "folder": str(folder)}
    with (folder / f"worker-{number}.log").open("wb") as log:
        return subprocess.Popen(
            [sys.executable, str(WORKER), json.dumps(config)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def wait_for(
    folder: Path, names: list[str], workers: list[subprocess.Popen[bytes]], timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while not all((folder / name).exists() for name in names):
        dead = [n for n, worker in enumerate(workers) if worker.poll() is not None]
        if dead or time.monotonic() > deadline:
            pytest.fail(f"workers {dead or 'all'} did not get there: {logs(folder)}")
        time.sleep(0.1)


def logs(folder: Path) -> str:
    tails = []
    for log in sorted(folder.glob("worker-*.log")):
        tails.append(f"\n--- {log.name}:\n" + "\n".join(log.read_text().splitlines()[-20:]))
    return "".join(tails)


async def read_runs(url: str, prefix: str) -> dict[str, Any]:
    async with hazelkit.connect(url) as cluster:
        return dict(await cluster.map(f"{prefix}-runs").items())
