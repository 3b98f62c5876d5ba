"""``hazelkit inspect``: one read-only snapshot of what runs where, on both backends."""

from __future__ import annotations

import json

from rich.console import Console

import hazelkit
from hazelkit._observe._render import render_report
from hazelkit._observe._report import gather
from sample_workflows import tally


async def test_a_snapshot_shows_nodes_partitions_workflows_leases_and_structures(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str
) -> None:
    Tally = tally(name)
    hosting1 = cluster.workflows.host(Tally, lease=3.0, partitions=4)
    hosting2 = cluster2.workflows.host(Tally, lease=3.0, partitions=4)
    async with hosting1, hosting2:
        await cluster.workflows.start(Tally, f"{name}-a", 1)
        await cluster.workflows.start(Tally, f"{name}-b", 2)
        await cluster.workflows.send(f"{name}-a", "done")
        await cluster.workflows.wait(f"{name}-a")
        await cluster.workflows.wait(f"{name}-b", "running")
        await cluster.map(name).put("k", "v")
        async with cluster.lock(name), cluster.singleton(name, _forever, lease=3.0):
            await _until_singleton_runs(cluster, name)
            report = await gather(cluster2)

    space = f"workflow:{name}.tally"
    nodes = {node.id: node for node in report.nodes}
    assert {hosting1.node, hosting2.node} <= set(nodes)
    assert nodes[hosting1.node].spaces[space] == Tally.version
    assert report.spaces[space].partitions == 4
    owned = [view for view in report.partitions if view.space == space]
    assert sorted(view.partition for view in owned) == [0, 1, 2, 3]
    assert {view.owner for view in owned} <= {hosting1.node, hosting2.node}
    assert all(view.epoch >= 1 for view in owned)
    assert sum(len(report.partitions_of(n).get(space, [])) for n in nodes) == 4
    assert report.workflows[(f"{name}.tally", "completed")] == 1
    assert report.workflows[(f"{name}.tally", "running")] == 1
    assert ("map", name) in {(s.kind, s.name) for s in report.structures}
    assert next(s.size for s in report.structures if s.name == name) == 1
    leases = {(lease.kind, lease.name): lease for lease in report.leases}
    assert leases[("lock", name)].token >= 1
    assert leases[("singleton", name)].holder in nodes
    assert {m.uuid for m in report.members} == {m.uuid for m in cluster2.members()}


async def test_inbox_depth_counts_messages_no_node_applied_yet(
    cluster: hazelkit.Cluster, name: str
) -> None:
    Tally = tally(name)
    async with cluster.workflows.host(Tally, lease=3.0, partitions=1):
        await cluster.workflows.start(Tally, f"{name}-a", 0)
        await cluster.workflows.wait(f"{name}-a", "running")
    # Nobody hosts the type now: what is sent waits in the inbox.
    for value in (1, 2, 3):
        await cluster.workflows.send(f"{name}-a", value)
    report = await gather(cluster)
    (view,) = [v for v in report.partitions if v.space == f"workflow:{name}.tally"]
    assert view.owner is None  # released on graceful leave
    assert view.inbox_depth == 3


async def test_the_report_is_json_and_renders_as_tables(
    cluster: hazelkit.Cluster, name: str
) -> None:
    Tally = tally(name)
    async with cluster.workflows.host(Tally, lease=3.0, partitions=2):
        await cluster.workflows.start(Tally, f"{name}-a", 0)
        await cluster.workflows.wait(f"{name}-a", "running")
        report = await gather(cluster)
    document = json.loads(json.dumps(report.to_json()))
    assert {"members", "nodes", "partitions", "workflows", "structures", "leases"} <= set(document)
    assert {"type": f"{name}.tally", "status": "running", "count": 1} in document["workflows"]
    (node,) = [n for n in document["nodes"] if f"workflow:{name}.tally" in n["spaces"]]
    assert sorted(node["partitions"][f"workflow:{name}.tally"]) == [0, 1]
    console = Console(record=True, width=200)
    render_report(report, console)
    text = console.export_text()
    for heading in ("members", "hazelkit nodes", "partitions", "workflows", "structures"):
        assert heading in text
    assert f"workflow:{name}.tally v1: 2" in text


async def _forever(token: int) -> None:
    import asyncio

    await asyncio.Event().wait()


async def _until_singleton_runs(cluster: hazelkit.Cluster, name: str) -> None:
    import asyncio

    for _ in range(200):
        if (await cluster.singleton_status(name)).running:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the singleton never started")
