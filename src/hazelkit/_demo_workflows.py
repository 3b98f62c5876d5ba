"""The workflow scene of ``hazelkit demo``: three nodes run workflows, one crashes
mid-stream, and its workflows finish on the others with exact totals."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from rich.console import Console
from rich.table import Table

import hazelkit
from hazelkit.testing import crash
from hazelkit.workflows import Context, Hosting, Workflow

WORKFLOWS = 24
MESSAGES = 10
LEASE = 3.0

Pace = Callable[[str], Awaitable[None]]


class DemoTally(Workflow):
    """Adds up the numbers it is sent, remembering each (so a repeat would show)."""

    name = "hazelkit.demo.tally"

    def initial(self, args: Any) -> Any:
        return {"total": 0, "seen": []}

    async def handle(self, ctx: Context, state: Any, message: Any) -> Any:
        return {"total": state["total"] + message, "seen": [*state["seen"], message]}


async def _no_pause(moment: str) -> None:
    return None


async def workflow_scene(url: str, console: Console, pace: Pace = _no_pause) -> None:
    """Run the scene on ``url`` (three nodes and a client, all Clusters of this process).
    ``pace(moment)`` is awaited at "ready", after each "message" round, at "recovered"
    and at the "end" (before the nodes stop): a dashboard slows the scene down there."""
    run = uuid.uuid4().hex[:6]
    console.rule("workflows: three nodes, one crashes")
    nodes = [await hazelkit.connect(url) for _ in range(3)]
    client = await hazelkit.connect(url)
    hostings = [n.workflows.host(DemoTally, lease=LEASE) for n in nodes]
    try:
        for hosting in hostings:
            await hosting.start()
        ids = [f"demo-{run}-{n}" for n in range(WORKFLOWS)]
        for workflow_id in ids:
            await client.workflows.start(DemoTally, workflow_id)
        await pace("ready")
        await _show_partitions(hostings, console, "before the crash")
        crashed = 0.0
        for value in range(1, MESSAGES + 1):
            for workflow_id in ids:
                await client.workflows.send(workflow_id, value)
            if value == MESSAGES // 2:
                await crash(nodes[0])
                crashed = time.monotonic()
                console.print(f"node 1 [red]crashed[/red] after message {value} (no handoff)")
            await pace("message")
        expected = list(range(1, MESSAGES + 1))
        for workflow_id in ids:
            await client.workflows.wait(
                workflow_id, lambda s: isinstance(s.state, dict) and s.state["seen"] == expected,
                timeout=60,
            )  # fmt: skip
        took = time.monotonic() - crashed
        await _show_partitions(hostings[1:], console, "after the crash")
        total = sum([(await client.workflows.get(i)).state["total"] for i in ids])
        console.print(
            f"all {WORKFLOWS} workflows applied messages 1..{MESSAGES} exactly once, in order"
            f" (sum {total}); the last finished {took:.1f} s after the crash (lease {LEASE:g} s)"
        )
        await pace("recovered")
        await pace("end")
    finally:
        for hosting in hostings:  # a graceful handoff, also when interrupted (Ctrl-C)
            await hosting.stop()
        for cluster in (*nodes, client):
            await cluster.close()


async def _show_partitions(hostings: list[Hosting], console: Console, when: str) -> None:
    table = Table("node", f"partitions of {DemoTally.name!r} ({when})")
    for number, hosting in enumerate(hostings, start=4 - len(hostings)):
        table.add_row(f"node {number}", ", ".join(map(str, hosting.partitions()[DemoTally.name])))
    console.print(table)
