"""Helpers of the dashboard tests: a workflow type under a name no other test uses,
three nodes hosting it, an HTTP client of a Dashboard app, and reading its event stream."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx

import hazelkit
from hazelkit.dashboard import Dashboard
from hazelkit.workflows import Hosting, Workflow
from sample_workflows import tally

LEASE = 2.0  #: partition lease of the test nodes: a crashed node's work moves in ~2-4 s
INTERVAL = 0.25  #: how often test dashboards read (under a quarter lease, for the labels)
PARTITIONS = 6


def counter(prefix: str) -> type[Workflow]:
    """Adds int messages to its state; "done" completes it; "boom" fails (pauses it)."""
    return tally(prefix, kind="counter", retries=0)


@dataclass
class Nodes:
    """Three Clusters hosting one workflow type."""

    definition: type[Workflow]
    clusters: list[hazelkit.Cluster]
    hostings: list[Hosting]

    @property
    def ids(self) -> list[str]:
        return [str(hosting.node) for hosting in self.hostings]

    def cluster_of(self, node: str) -> hazelkit.Cluster:
        return self.clusters[self.ids.index(node)]


@asynccontextmanager
async def three_nodes(url: str, name: str) -> AsyncIterator[Nodes]:
    """Three nodes on ``url`` hosting ``counter(name)``; all closed afterwards."""
    definition = counter(name)
    async with AsyncExitStack() as stack:
        clusters = [await stack.enter_async_context(hazelkit.connect(url)) for _ in range(3)]
        hostings = [
            await stack.enter_async_context(
                c.workflows.host(definition, lease=LEASE, partitions=PARTITIONS)
            )
            for c in clusters
        ]
        yield Nodes(definition, clusters, hostings)


@asynccontextmanager
async def client_of(dashboard: Dashboard) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client calling ``dashboard`` in this event loop (no server); the
    dashboard is closed afterwards."""
    transport = httpx.ASGITransport(app=dashboard)
    try:
        async with httpx.AsyncClient(
            transport=transport, base_url="http://dashboard", timeout=30
        ) as client:
            yield client
    finally:
        await dashboard.aclose()


async def frames(response: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    """The ``frame`` events of a server-sent event stream, decoded."""
    event, data = "", []
    async for line in response.aiter_lines():
        if line.startswith("event:"):
            event = line.removeprefix("event:").strip()
        elif line.startswith("data:"):
            data.append(line.removeprefix("data:").strip())
        elif not line:
            if event == "frame" and data:
                yield json.loads("\n".join(data))
            event, data = "", []
