"""One process of the workflow chaos tests (``test_chaos.py``); not a test itself.

Run as ``python chaos_worker.py CONFIG_JSON``. ``CONFIG["role"]`` is:

- ``node``: host the workflow type ``PREFIX.numbered`` (below) with the given lease,
  write ``node-LABEL.json`` (its node id and pid), and run until SIGTERM (then leave
  gracefully and exit 0) or until ``run_for`` seconds passed (exit 3: a bound, never
  reached when the test goes well);
- ``sender``: create ``ready-LABEL``, wait for the file ``go``, then in rounds send each
  of its numbers to every workflow (one round at a time, every workflow of a round
  concurrently, ``pace`` seconds between rounds), each with the key ``ID:N``: a send
  that fails is retried with the same key (applied once) until ``retry_for`` seconds
  passed. Writes ``sender-LABEL.json`` (how many sends were retried, and why) and exits 0.

The workflow adds each message's number ``n`` to ``total`` and appends it to ``seen``,
and the pid of the process that applied it to ``by``. A message ``{"n": n, "slow": s}``
makes the handler sleep ``s`` seconds; with ``journal`` set, a node appends one JSON line
per slow handler entry and exit to ``journal-LABEL.jsonl``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import hazelkit
from hazelkit.workflows import Context, Workflow

SEND_CONCURRENCY = 25


def numbered(prefix: str, journal: Path | None) -> type[Workflow]:
    """The workflow of the chaos tests (see the module docstring)."""

    class Numbered(Workflow):
        name = f"{prefix}.numbered"
        max_retries = 2
        retry_delay = 0.05

        def initial(self, args: Any) -> Any:
            return {"total": 0, "seen": [], "by": []}

        async def handle(self, ctx: Context, state: Any, message: Any) -> Any:
            number = int(message["n"])
            slow = float(message.get("slow", 0))
            if slow:
                note(journal, "enter", ctx.workflow_id, number)
                await asyncio.sleep(slow)
                note(journal, "exit", ctx.workflow_id, number)
            return {
                "total": state["total"] + number,
                "seen": [*state["seen"], number],
                "by": [*state["by"], os.getpid()],
            }

    return Numbered


def note(journal: Path | None, phase: str, workflow_id: str, number: int) -> None:
    if journal is None:
        return
    line = {"phase": phase, "id": workflow_id, "n": number, "pid": os.getpid(), "t": time.time()}
    with journal.open("a") as out:
        out.write(json.dumps(line) + "\n")


async def node(config: dict[str, Any]) -> int:
    folder = Path(config["folder"])
    journal = folder / f"journal-{config['label']}.jsonl" if config.get("journal") else None
    definition = numbered(config["prefix"], journal)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    async with (
        hazelkit.connect(config["url"]) as cluster,
        cluster.workflows.host(definition, lease=config["lease"]) as hosting,
    ):
        info = {"node": hosting.node, "pid": os.getpid()}
        (folder / f"node-{config['label']}.json").write_text(json.dumps(info))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), config["run_for"])
    return 0 if stop.is_set() else 3


async def sender(config: dict[str, Any]) -> int:
    folder = Path(config["folder"])
    (folder / f"ready-{config['label']}").touch()
    deadline = time.monotonic() + 120
    while not (folder / "go").exists():
        if time.monotonic() > deadline:
            return 4
        await asyncio.sleep(0.01)
    retries: dict[str, int] = {}
    began = time.monotonic()
    async with hazelkit.connect(config["url"]) as cluster:
        limit = asyncio.Semaphore(SEND_CONCURRENCY)

        async def send(workflow_id: str, number: int) -> None:
            async with limit:
                await send_until_stored(cluster, workflow_id, number, config, retries)

        for number in config["numbers"]:
            await asyncio.gather(*(send(i, number) for i in config["ids"]))
            await asyncio.sleep(config["pace"])
    result = {"retries": retries, "seconds": time.monotonic() - began}
    (folder / f"sender-{config['label']}.json").write_text(json.dumps(result))
    return 0


async def send_until_stored(
    cluster: hazelkit.Cluster,
    workflow_id: str,
    number: int,
    config: dict[str, Any],
    retries: dict[str, int],
) -> None:
    """Send ``number`` once it is stored; retried with the same key (applied once)."""
    deadline = time.monotonic() + config["retry_for"]
    while True:
        try:
            await cluster.workflows.send(
                workflow_id, {"n": number}, key=f"{workflow_id}:{number}", timeout=20
            )
            return
        except hazelkit.HazelkitError as error:
            kind = type(error).__name__
            retries[kind] = retries.get(kind, 0) + 1
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)


def main() -> None:
    config = json.loads(sys.argv[1])
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(process)d %(levelname)s %(message)s"
    )
    role = node if config["role"] == "node" else sender
    sys.exit(asyncio.run(role(config)))


if __name__ == "__main__":
    main()
