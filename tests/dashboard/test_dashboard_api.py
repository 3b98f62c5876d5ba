"""The dashboard's page and JSON endpoints, on both backends (the app called in-process)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from dashboard_helpers import INTERVAL, client_of, counter, three_nodes
from starlette.applications import Starlette
from starlette.routing import Mount

import hazelkit
from hazelkit import ConfigurationError
from hazelkit.dashboard import Dashboard
from timing import eventually


async def rows(client: httpx.AsyncClient, **query: Any) -> dict[str, Any]:
    response = await client.get("/api/workflows", params=query)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_the_page_and_its_files_are_served_under_a_strict_policy(
    cluster: hazelkit.Cluster,
) -> None:
    async with client_of(Dashboard(cluster, interval=INTERVAL)) as client:
        page = await client.get("/")
        script = await client.get("/static/dashboard.js")
        style = await client.get("/static/dashboard.css")
        for missing in ("/static/index.html", "/static/other.js", "/static/..%2fpyproject.toml"):
            assert (await client.get(missing)).status_code == 404
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert 'src="static/dashboard.js"' in page.text
    assert "http" not in page.text.replace("http-equiv", "")  # nothing from elsewhere
    assert script.headers["content-type"].startswith("text/javascript")
    assert "EventSource" in script.text
    assert style.headers["content-type"].startswith("text/css")
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert page.headers["x-content-type-options"] == "nosniff"


async def test_a_snapshot_shows_nodes_partitions_workflows_and_leases(
    url: str, name: str, cluster: hazelkit.Cluster
) -> None:
    async with three_nodes(url, name) as nodes, client_of(Dashboard(cluster)) as client:
        space = f"workflow:{nodes.definition.name}"
        for n in range(3):
            await cluster.workflows.start(nodes.definition, f"{name}-{n}", n)
        await cluster.workflows.wait(f"{name}-2", "running")
        async with cluster.lock(name):

            async def shows_everything() -> bool:
                document = (await client.get("/api/snapshot")).json()
                held = {(lease["kind"], lease["name"]) for lease in document["leases"]}
                owners = [p["owner"] for p in document["partitions"] if p["space"] == space]
                return (
                    document["workflow_statuses"].get("running", 0) >= 3
                    and ("lock", name) in held
                    and len(owners) == 6
                    and set(owners) <= set(nodes.ids)
                )

            await eventually(shows_everything, timeout=20, what="workflows, owners, the lock")
            snapshot = (await client.get("/api/snapshot")).json()

    listed = {node["id"]: node for node in snapshot["nodes"]}
    assert set(nodes.ids) <= set(listed)
    assert all(listed[node]["spaces"][space] == 1 for node in nodes.ids)
    owners = [p["owner"] for p in snapshot["partitions"] if p["space"] == space]
    assert len(owners) == 6
    assert set(owners) <= set(nodes.ids)
    held = sum(len(listed[node]["partitions"].get(space, [])) for node in nodes.ids)
    assert held == 6
    assert snapshot["actions"] is False
    assert snapshot["error"] is None
    assert snapshot["url"] == cluster.url
    assert snapshot["frame"] >= 1


async def test_workflows_are_listed_with_their_node_and_found_by_id_and_status(
    url: str, name: str, cluster: hazelkit.Cluster
) -> None:
    async with three_nodes(url, name) as nodes, client_of(Dashboard(cluster)) as client:
        for workflow_id in (f"{name}-a-1", f"{name}-a-2", f"{name}-b-1"):
            await cluster.workflows.start(nodes.definition, workflow_id)
        await cluster.workflows.send(f"{name}-a-2", "done")
        await cluster.workflows.wait(f"{name}-a-2")

        async def listed_and_placed() -> bool:
            found = await rows(client, search=name.upper(), status="completed")
            everyone = (await rows(client, search=name))["workflows"]
            placed = all(row["node"] in nodes.ids for row in everyone)
            return found["matched"] == 1 and placed

        # (while the nodes join, partitions are handed off: a lease may be free a moment)
        await eventually(listed_and_placed, timeout=20, what="listed, each on a node")
        everything = await rows(client, search=name)
        some = await rows(client, search=f"{name}-A")  # case does not matter
        first = await rows(client, search=name, limit=1)
        of_type = await rows(client, search=name, type=nodes.definition.name)
        other_type = await rows(client, search=name, type="no.such.type")
        bad_limit = await client.get("/api/workflows", params={"limit": "many"})

    assert [row["id"] for row in everything["workflows"]] == [
        f"{name}-a-1", f"{name}-a-2", f"{name}-b-1",
    ]  # fmt: skip
    statuses = {row["id"]: row["status"] for row in everything["workflows"]}
    assert statuses[f"{name}-a-2"] == "completed"
    assert all(row["node"] in nodes.ids for row in everything["workflows"])
    assert all(0 <= row["partition"] < 6 for row in everything["workflows"])
    assert some["matched"] == 2
    assert (first["matched"], len(first["workflows"])) == (3, 1)
    assert (of_type["matched"], other_type["matched"]) == (3, 0)
    assert bad_limit.status_code == 400


async def test_one_workflow_shows_its_state_and_history(
    url: str, name: str, cluster: hazelkit.Cluster
) -> None:
    async with three_nodes(url, name) as nodes, client_of(Dashboard(cluster)) as client:
        workflow_id = f"{name}-one"
        await cluster.workflows.start(nodes.definition, workflow_id, 10)
        for value in (1, 2):
            await cluster.workflows.send(workflow_id, value)
        await cluster.workflows.wait(workflow_id, lambda s: s.messages_applied == 2)
        detail = (await client.get(f"/api/workflows/{workflow_id}")).json()
        missing = await client.get(f"/api/workflows/{name}-nobody")

    workflow = detail["workflow"]
    assert (workflow["id"], workflow["state"], workflow["status"]) == (workflow_id, 13, "running")
    assert workflow["messages_applied"] == 2
    assert workflow["owner"] in nodes.ids
    assert [entry["status"] for entry in detail["history"]][-2:] == ["running", "running"]
    assert all(entry["at"] for entry in detail["history"])
    assert missing.status_code == 404
    assert name in missing.json()["error"]


async def test_actions_are_refused_unless_enabled(url: str, name: str) -> None:
    async with (
        hazelkit.connect(url) as cluster,
        client_of(Dashboard(cluster)) as client,
    ):
        await cluster.workflows.start(counter(name), f"{name}-x")
        refused = await client.post(
            f"/api/workflows/{name}-x/terminate", headers={"authorization": "Bearer anything"}
        )
        snapshot = await cluster.workflows.get(f"{name}-x")
    assert refused.status_code == 403
    assert "--allow-actions" in refused.json()["error"]
    assert snapshot.status.value in ("starting", "running")  # nothing was sent


async def test_actions_need_the_token_and_then_steer_the_workflow(
    url: str, name: str, cluster: hazelkit.Cluster
) -> None:
    dashboard = Dashboard(cluster, allow_actions=True, token="s3cret-token")
    async with three_nodes(url, name) as nodes, client_of(dashboard) as client:
        stuck, doomed = f"{name}-stuck", f"{name}-doomed"
        for workflow_id in (stuck, doomed):
            await cluster.workflows.start(nodes.definition, workflow_id)
        await cluster.workflows.send(stuck, "boom")
        await cluster.workflows.wait(stuck, "paused")

        async def post(path: str, token: str | None, **body: Any) -> httpx.Response:
            headers = {} if token is None else {"authorization": f"Bearer {token}"}
            return await client.post(path, headers=headers, json=body)

        no_token = await post(f"/api/workflows/{doomed}/terminate", None)
        wrong = await post(f"/api/workflows/{doomed}/terminate", "s3cret-tokeN")
        assert (no_token.status_code, wrong.status_code) == (403, 403)
        assert (await cluster.workflows.get(doomed)).status.value != "terminated"

        skipped = await post(f"/api/workflows/{stuck}/skip", "s3cret-token", reason="bad input")
        ended = await post(f"/api/workflows/{doomed}/terminate", "s3cret-token", reason="test")
        unknown_action = await post(f"/api/workflows/{doomed}/explode", "s3cret-token")
        unknown_workflow = await post(f"/api/workflows/{name}-nobody/resume", "s3cret-token")
        after_skip = await cluster.workflows.wait(stuck, "running")
        after_end = await cluster.workflows.wait(doomed)

    assert (skipped.status_code, ended.status_code) == (202, 202)
    assert ended.json() == {"sent": "terminate", "workflow": doomed}
    assert after_skip.held == 0
    assert "bad input" in " ".join(t.what for t in await cluster.workflows.history(stuck))
    assert (after_end.status.value, after_end.error) == ("terminated", "test")
    assert unknown_action.status_code == 404
    assert unknown_workflow.status_code == 404


def test_options_are_checked() -> None:
    with pytest.raises(ConfigurationError, match="needs a token"):
        Dashboard(allow_actions=True)
    with pytest.raises(ConfigurationError, match="only used with allow_actions"):
        Dashboard(token="t")
    with pytest.raises(ConfigurationError, match="interval"):
        Dashboard(interval=0)


async def test_only_the_allowed_host_names_are_answered(cluster: hazelkit.Cluster) -> None:
    dashboard = Dashboard(cluster, allowed_hosts=["127.0.0.1", "localhost"])
    transport = httpx.ASGITransport(app=dashboard)
    try:
        async with httpx.AsyncClient(transport=transport, timeout=30) as http:
            rebound = await http.get("http://attacker.example:8080/api/snapshot")
            local = await http.get("http://localhost:8080/api/snapshot")
    finally:
        await dashboard.aclose()
    assert rebound.status_code == 400
    assert local.status_code == 200
    assert local.json()["url"] == cluster.url


async def test_a_closed_cluster_is_an_unavailable_dashboard(url: str) -> None:
    async with hazelkit.connect(url) as gone:
        pass
    async with client_of(Dashboard(gone)) as client:
        response = await client.get("/api/snapshot")
    assert response.status_code == 503
    assert "closed" in response.json()["error"]


async def test_a_dashboard_given_a_url_connects_itself_and_closes_what_it_opened(
    url: str,
) -> None:
    dashboard = Dashboard(url=url, interval=INTERVAL)
    async with client_of(dashboard) as client:
        snapshot = (await client.get("/api/snapshot")).json()
        watch = await dashboard.watch()
    transport = httpx.ASGITransport(app=dashboard)
    async with httpx.AsyncClient(transport=transport, base_url="http://dashboard") as late:
        too_late = await late.get("/api/snapshot")  # after aclose
    assert too_late.status_code == 503
    assert snapshot["url"] == watch.cluster.url
    assert watch.cluster.closed


async def test_it_works_mounted_under_a_path_of_another_app(cluster: hazelkit.Cluster) -> None:
    dashboard = Dashboard(cluster, interval=INTERVAL)
    app = Starlette(routes=[Mount("/ops/dashboard", app=dashboard)])
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:
            page = await http.get("/ops/dashboard/")
            script = await http.get("/ops/dashboard/static/dashboard.js")
            snapshot = await http.get("/ops/dashboard/api/snapshot")
    finally:
        await dashboard.aclose()
    assert 'src="static/dashboard.js"' in page.text  # relative: it follows the mount
    assert (script.status_code, snapshot.status_code) == (200, 200)
    assert snapshot.json()["url"] == cluster.url
