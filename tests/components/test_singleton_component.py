"""A component marked singleton runs on exactly one node, and moves when that node
stops (both backends)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import hazelkit
from hazelkit.components import System, using

pytestmark = pytest.mark.timeout(90)


class Reporter:
    """Counts how many instances run at once across the whole test (one process)."""

    running: set[int] = set()
    most = 0

    def __init__(self, node: int) -> None:
        self.node = node
        self.cluster: hazelkit.Cluster | None = None
        self.fencing_token: int | None = None

    async def start(self) -> None:
        Reporter.running.add(self.node)
        Reporter.most = max(Reporter.most, len(Reporter.running))

    async def stop(self) -> None:
        Reporter.running.discard(self.node)


async def until(condition: Any, timeout: float = 30.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.05)


async def test_a_singleton_component_runs_on_one_node_and_moves_on_leave(
    url: str, name: str
) -> None:
    Reporter.running, Reporter.most = set(), 0
    reporters = [Reporter(n) for n in range(3)]
    systems = [
        System(
            {
                "cluster": hazelkit.connect(url),
                name: using(reporter, "cluster", singleton=True),
            }
        )
        for reporter in reporters
    ]
    for system in systems:
        await system.start()
    await until(lambda: len(Reporter.running) == 1)
    first = next(iter(Reporter.running))
    assert reporters[first].fencing_token is not None
    await systems[first].stop()  # its node leaves: the component starts elsewhere
    await until(lambda: bool(Reporter.running) and first not in Reporter.running)
    second = next(iter(Reporter.running))
    assert reporters[second].fencing_token > reporters[first].fencing_token  # type: ignore[operator]
    for number, system in enumerate(systems):
        if number != first:
            await system.stop()
    assert Reporter.most == 1
    assert Reporter.running == set()


async def test_a_singleton_component_needs_a_cluster_dependency(name: str) -> None:
    system = System({name: using(Reporter(0), singleton=True)})
    with pytest.raises(hazelkit.HazelkitError, match="must depend on exactly one Cluster"):
        await system.start()
