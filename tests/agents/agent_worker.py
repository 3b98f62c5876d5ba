"""One process of the multi-process agent tests (``test_agent_processes.py``); not a test.

Run as ``python agent_worker.py CONFIG_JSON``. ``CONFIG["role"]`` is:

- ``node``: register the action ``agent-processes.step`` (below), host agents with the
  given lease, write ``node-LABEL.json`` (its pid) and run until SIGTERM (then leave
  gracefully and exit 0) or until ``run_for`` seconds passed (exit 3: a bound, never
  reached when the test goes well);
- ``sender``: create ``ready-LABEL``, wait for the file ``go``, then send
  ``step(LABEL, n)`` for n = 1..``count`` to agent ``agent``, one at a time (each send
  returns once the action is stored, so the agent stores them in this order), ``pace``
  seconds apart. Writes ``sender-LABEL.json`` (how long it took) and exits 0; a failed
  send is not retried (a send has no key to apply a retry once): it exits 1.

``step`` checks that each sender's numbers arrive one after the other: an action whose
number is not the sender's previous one plus one (a repeat, a gap, or out of order) is
recorded in ``bad``. ``by`` counts the actions each process (pid) applied, and ``pid``
names the process that applied the last one (the owner now).
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

STEP = "agent-processes.step"
INITIAL: dict[str, Any] = {"last": {}, "count": 0, "bad": [], "by": {}, "pid": 0}


@hazelkit.action(STEP)
def step(state: dict[str, Any], sender: str, number: int) -> dict[str, Any]:
    """Apply action ``number`` of ``sender`` (see the module docstring)."""
    previous = state["last"].get(sender, 0)
    bad = state["bad"] if number == previous + 1 else [*state["bad"], [sender, previous, number]]
    pid = str(os.getpid())
    return {
        "last": {**state["last"], sender: number},
        "count": state["count"] + 1,
        "bad": bad,
        "by": {**state["by"], pid: state["by"].get(pid, 0) + 1},
        "pid": os.getpid(),
    }


async def node(config: dict[str, Any]) -> int:
    folder = Path(config["folder"])
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with (
        hazelkit.connect(config["url"]) as cluster,
        cluster.agents.host(lease=config["lease"]),
    ):
        (folder / f"node-{config['label']}.json").write_text(json.dumps({"pid": os.getpid()}))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), config["run_for"])
    return 0 if stop.is_set() else 3


async def sender(config: dict[str, Any]) -> int:
    folder = Path(config["folder"])
    async with hazelkit.connect(config["url"]) as cluster:
        agent = cluster.agent(config["agent"], initial=INITIAL)
        (folder / f"ready-{config['label']}").touch()
        deadline = time.monotonic() + 120
        while not (folder / "go").exists():
            if time.monotonic() > deadline:
                return 4
            await asyncio.sleep(0.01)
        began = time.monotonic()
        for number in range(1, config["count"] + 1):
            await agent.send(STEP, config["label"], number)
            if config["pace"]:
                await asyncio.sleep(config["pace"])
        seconds = time.monotonic() - began
    (folder / f"sender-{config['label']}.json").write_text(json.dumps({"seconds": seconds}))
    return 0


def main() -> None:
    config = json.loads(sys.argv[1])
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(process)d %(levelname)s %(message)s"
    )
    role = node if config["role"] == "node" else sender
    sys.exit(asyncio.run(role(config)))


if __name__ == "__main__":
    main()
