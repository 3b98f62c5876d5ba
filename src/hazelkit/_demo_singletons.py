"""The singleton scene of ``hazelkit demo``: three nodes register one singleton, it runs
on one of them, and when that node stops (gracefully, then by a crash) it moves."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Coroutine
from typing import Any

from rich.console import Console

import hazelkit
from hazelkit.testing import crash

#: Short, so that the crash costs the demo a second or two (the default is 5 s).
LEASE = 1.0


class Reporter:
    """The singleton's function on each node: it notes where and with which token it
    runs, and counts any moment two instances ran at once (the demo shows 0)."""

    def __init__(self) -> None:
        self.running: dict[int, int] = {}  #: node number -> token, while it runs
        self.started: list[tuple[int, int, float]] = []  #: (node, token, when)
        self.overlaps = 0
        self._started = asyncio.Event()

    def on(self, node: int) -> Callable[[int], Coroutine[Any, Any, None]]:
        async def run(token: int) -> None:
            self.overlaps += bool(self.running)
            self.running[node] = token
            self.started.append((node, token, time.monotonic()))
            self._started.set()
            try:
                await asyncio.Event().wait()  # a real one would do its periodic work here
            finally:
                self.running.pop(node, None)

        return run

    async def next_start(self, after: int, timeout: float = 30.0) -> tuple[int, int, float]:
        """The start after the first ``after`` ones (waiting up to ``timeout`` s)."""
        async with asyncio.timeout(timeout):
            while len(self.started) <= after:
                self._started.clear()
                await self._started.wait()
        return self.started[after]


async def singleton_scene(url: str, console: Console) -> None:
    """Run the scene on ``url`` (three nodes, all Clusters of this process)."""
    name = f"demo-reporter-{uuid.uuid4().hex[:6]}"
    console.rule("a singleton: runs on one node, moves when that node stops")
    nodes = [await hazelkit.connect(url) for _ in range(3)]
    try:
        reporter = Reporter()
        for number, node in enumerate(nodes, start=1):
            await node.singleton(name, reporter.on(number), lease=LEASE).start()
        first, token, _ = await reporter.next_start(0)
        status = await nodes[first % 3].singleton_status(name)
        since = status.since.strftime("%H:%M:%S") if status.since else "-"
        console.print(
            f"3 nodes registered singleton {name!r}; it runs on node {first} (token {token});"
            f" node {first % 3 + 1} reads its status: running {status.running},"
            f" token {status.token}, since {since}"
        )
        stopped = time.monotonic()
        await nodes[first - 1].close()
        second, token, when = await reporter.next_start(1)
        console.print(
            f"node {first} [yellow]stopped[/yellow] (graceful): the singleton was cancelled there"
            f" and started on node {second} (token {token}) {when - stopped:.2f} s later"
        )
        crashed = time.monotonic()
        await crash(nodes[second - 1])
        third, token, when = await reporter.next_start(2)
        console.print(
            f"node {second} [red]crashed[/red]: node {third} started it (token {token})"
            f" {when - crashed:.2f} s later, once the lease ({LEASE:g} s) had lapsed;"
            f" two instances at once: {reporter.overlaps} times"
        )
    finally:
        for node in nodes:
            await node.close()
