"""The dashboard served by uvicorn on this loop: its event stream, how streams end, and a
failover seen live, on both backends."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from dashboard_helpers import INTERVAL, client_of, frames, three_nodes

import hazelkit
from hazelkit.dashboard import Dashboard, DashboardServer
from hazelkit.testing import crash
from timing import eventually

pytestmark = pytest.mark.timeout(90)


async def next_frame(stream: Any) -> dict[str, Any]:
    async with asyncio.timeout(15):
        return dict(await anext(stream))


async def test_the_stream_sends_each_new_snapshot_until_the_client_leaves(
    cluster: hazelkit.Cluster,
) -> None:
    dashboard = Dashboard(cluster, interval=INTERVAL)
    async with (
        DashboardServer(dashboard, port=0) as server,
        httpx.AsyncClient(base_url=server.url, timeout=30) as http,
    ):
        async with http.stream("GET", "/api/events") as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            stream = frames(response)
            first, second = await next_frame(stream), await next_frame(stream)
            assert dashboard.open_streams == 1
            await stream.aclose()
        await eventually(lambda: dashboard.open_streams == 0, what="the stream ended")
    assert second["frame"] > first["frame"]
    assert first["url"] == cluster.url
    assert {"nodes", "partitions", "changes", "workflow_statuses", "leases"} <= set(first)


async def test_stopping_the_server_ends_open_streams_at_once(cluster: hazelkit.Cluster) -> None:
    dashboard = Dashboard(cluster, interval=INTERVAL)
    server = DashboardServer(dashboard, port=0)
    async with (
        server,
        httpx.AsyncClient(base_url=server.url, timeout=30) as http,
        http.stream("GET", "/api/events") as response,
    ):
        stream = frames(response)
        await next_frame(stream)
        loop = asyncio.get_running_loop()
        started = loop.time()
        await server.stop()
        async with asyncio.timeout(10):
            async for _ in stream:  # what was sent before the end, then the end
                pass
        took = loop.time() - started
    assert took < 5  # not uvicorn's graceful wait for open connections
    assert dashboard.open_streams == 0


async def test_a_closed_cluster_ends_the_watch_and_every_stream(url: str) -> None:
    watched = await hazelkit.connect(url)
    dashboard = Dashboard(watched, interval=INTERVAL)
    try:
        async with (
            DashboardServer(dashboard, port=0) as server,
            httpx.AsyncClient(base_url=server.url, timeout=30) as http,
            http.stream("GET", "/api/events") as response,
        ):
            stream = frames(response)
            await next_frame(stream)
            watch = await dashboard.watch()
            await watched.close()
            async with asyncio.timeout(10):
                async for _ in stream:
                    pass
            assert watch.closed
            assert dashboard.open_streams == 0
            names = {task.get_name() for task in asyncio.all_tasks()}
            assert "hazelkit dashboard" not in names  # the Cluster's task is gone with it
    finally:
        await watched.close()


async def test_a_crashed_node_s_workflow_moves_and_the_failover_is_listed(
    url: str, name: str, cluster: hazelkit.Cluster
) -> None:
    async with (
        three_nodes(url, name) as nodes,
        client_of(Dashboard(cluster, interval=INTERVAL)) as client,
    ):
        workflow_id = f"{name}-moving"
        await cluster.workflows.start(nodes.definition, workflow_id)

        async def row() -> dict[str, Any]:
            listing = (await client.get("/api/workflows", params={"search": workflow_id})).json()
            return dict(listing["workflows"][0]) if listing["workflows"] else {}

        async def placed() -> bool:
            return (await row()).get("node") in nodes.ids

        await eventually(placed, timeout=20, what="the workflow on a node")
        # A few more snapshots, so that the dashboard saw the owner renewing its lease.
        seen = (await client.get("/api/snapshot")).json()["frame"]

        async def later() -> bool:
            return bool((await client.get("/api/snapshot")).json()["frame"] >= seen + 4)

        await eventually(later, timeout=20, what="four more snapshots")
        victim = (await row())["node"]
        await crash(nodes.cluster_of(victim))

        async def moved() -> bool:
            return (await row()).get("node") in set(nodes.ids) - {victim}

        await eventually(moved, timeout=30, what="the workflow on a surviving node")
        new_node = (await row())["node"]
        changes = (await client.get("/api/snapshot")).json()["changes"]

    ours = [c for c in changes if c["space"] == f"workflow:{nodes.definition.name}"]
    failovers = [c for c in ours if c["kind"] == "failover" and c["previous"] == victim]
    assert failovers, ours
    assert new_node in {c["owner"] for c in failovers}
    assert sum(c["workflows"] for c in failovers) >= 1
