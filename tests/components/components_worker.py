"""One process of the multi-process components test (``test_processes.py``); not a test.

Run as ``python components_worker.py CONFIG_JSON``. It creates the file ``ready-N``,
waits for the file ``go``, then runs (with :func:`hazelkit.components.run`) the same
System as every other worker: a Cluster, three migrations, and a seed step run with
``once``. Each migration and the seed count their runs in the map ``PREFIX-runs``. Once
started, it writes ``result-N.json`` (the seed's result, the migrations it ran itself)
and runs until SIGTERM, then stops gracefully and exits 0.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import hazelkit
from hazelkit.components import Migrations, System, once, run, using

GO_TIMEOUT = 120.0
STEP_SECONDS = 0.3  # long enough that the other workers arrive while a step runs


async def count_run(cluster: hazelkit.Cluster, prefix: str, step: str) -> None:
    await cluster.map(f"{prefix}-runs").compute(step, lambda runs: (runs or 0) + 1)
    await asyncio.sleep(STEP_SECONDS)


def migration(prefix: str, step: str) -> Any:
    async def apply(cluster: hazelkit.Cluster) -> None:
        await count_run(cluster, prefix, step)

    return apply


class Seed:
    """Runs the seed step once per cluster when it starts."""

    cluster: hazelkit.Cluster
    schema: Migrations

    def __init__(self, prefix: str, worker: int) -> None:
        self.prefix, self.worker = prefix, worker
        self.result: Any = None

    async def start(self) -> None:
        async def seed() -> dict[str, Any]:
            await count_run(self.cluster, self.prefix, "seed")
            return {"seeded_by": self.worker, "after": await self.schema.applied(self.cluster)}

        self.result = await once(self.cluster, f"{self.prefix}-seed", seed, lease=5)


class Report:
    """Writes what this worker saw, once everything else started."""

    seed: Seed
    schema: Migrations

    def __init__(self, path: Path) -> None:
        self.path = path

    async def start(self) -> None:
        result = {"seed": self.seed.result, "applied_here": self.schema.applied_here}
        self.path.write_text(json.dumps(result))


def system(config: dict[str, Any]) -> System:
    prefix, worker, folder = config["prefix"], config["worker"], Path(config["folder"])
    steps = [(name, migration(prefix, name)) for name in ("001-create", "002-index", "003-fill")]
    return System(
        {
            "cluster": hazelkit.connect(config["url"]),
            "schema": using(Migrations(steps, name=prefix, lease=5), "cluster"),
            "seed": using(Seed(prefix, worker), "cluster", "schema"),
            "report": using(Report(folder / f"result-{worker}.json"), "seed", "schema"),
        },
        start_timeout=90,
    )


def main() -> None:
    config = json.loads(sys.argv[1])
    folder = Path(config["folder"])
    (folder / f"ready-{config['worker']}").touch()
    deadline = time.monotonic() + GO_TIMEOUT
    while not (folder / "go").exists():
        if time.monotonic() > deadline:
            sys.exit("no go within the timeout")
        time.sleep(0.01)
    asyncio.run(run(system(config)))


if __name__ == "__main__":
    main()
