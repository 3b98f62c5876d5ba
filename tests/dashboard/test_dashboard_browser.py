"""The dashboard in a real browser (Debian's Chromium, driven by Playwright): three nodes
host workflows; the page shows them; the node running a workflow crashes; the page shows
the workflow on another node and the failover. A screenshot is saved (to the directory
``$HAZELKIT_SCREENSHOTS`` names, too, if set: that is how docs/dashboard.png is made)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from dashboard_helpers import INTERVAL, PARTITIONS, Nodes, three_nodes
from playwright.async_api import Page, async_playwright

import hazelkit
from browser_helpers import CHROMIUM_ARGS, chromium_path
from hazelkit._runtime._hashing import preferred_node
from hazelkit.dashboard import Dashboard, DashboardServer
from hazelkit.testing import crash

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]
WAIT_MS = 30_000


async def until(page: Page, script: str, arg: Any = None) -> None:
    """Wait (at most 30 s) until ``script`` (a JS function of ``arg``) holds in the page."""
    await page.wait_for_function(script, arg=arg, timeout=WAIT_MS)


async def node_of(page: Page, workflow_id: str) -> str:
    row = f'#workflows tr[data-workflow="{workflow_id}"]'
    return str(await page.get_attribute(row, "data-node"))


async def some_work(cluster: hazelkit.Cluster, nodes: Nodes, name: str) -> list[str]:
    """Six workflows in several states, for the page to show."""
    ids = [f"{name}-order-{n}" for n in range(6)]
    for n, workflow_id in enumerate(ids):
        await cluster.workflows.start(nodes.definition, workflow_id, n)
    for workflow_id in ids[:4]:
        await cluster.workflows.send(workflow_id, 10)
    await cluster.workflows.send(ids[4], "done")
    await cluster.workflows.send(ids[5], "boom")
    await cluster.workflows.wait(ids[5], "paused")
    return ids


async def test_the_page_shows_a_workflow_moving_when_its_node_crashes(
    url: str, name: str, cluster: hazelkit.Cluster, tmp_path: Path
) -> None:
    executable = chromium_path()
    name = f"shop{name.removeprefix('t')}"  # still unique; reads better in the screenshot
    dashboard = Dashboard(cluster, interval=INTERVAL)
    async with (
        three_nodes(url, name) as nodes,
        DashboardServer(dashboard, port=0) as server,
        cluster.lock(f"{name}-nightly-report"),
        async_playwright() as playwright,
    ):
        ids = await some_work(cluster, nodes, name)
        browser = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1440, "height": 1000})
            await page.goto(server.url)
            await until(page, "() => document.getElementById('live').textContent === 'live'")
            await until(
                page,
                "ids => ids.every(id => document.querySelector(`#nodes tr[data-node='${id}']`))",
                nodes.ids,
            )
            # settled: each partition on the node rendezvous hashing prefers
            space = f"workflow:{nodes.definition.name}"
            preferred = [preferred_node(space, p, nodes.ids) for p in range(PARTITIONS)]
            await until(
                page,
                "([space, owners]) => JSON.stringify([...document.querySelectorAll("
                "`#partitions [data-space='${space}'] .cell`)].map(c => c.dataset.owner))"
                " === JSON.stringify(owners)",
                [space, preferred],
            )
            await page.fill("#search", name)
            await until(
                page,
                "([ids, nodes]) => ids.every(id => nodes.includes(document.querySelector("
                "`#workflows tr[data-workflow='${id}']`)?.dataset.node))",
                [ids, nodes.ids],
            )
            moving = ids[0]
            await page.click(f'#workflows tr[data-workflow="{moving}"] button')
            await until(page, "() => document.getElementById('detail-state').textContent === '10'")
            victim = await node_of(page, moving)

            await crash(nodes.cluster_of(victim))

            survivors = [node for node in nodes.ids if node != victim]
            await until(
                page,
                "([id, survivors]) => survivors.includes(document.querySelector("
                "`#workflows tr[data-workflow='${id}']`)?.dataset.node)",
                [moving, survivors],
            )
            await until(page, "() => document.querySelector('#changes li[data-kind=failover]')")
            # the crashed node's entry lapses (it stopped its heartbeat): it leaves the list
            gone = "id => !document.querySelector(`#nodes tr[data-node='${id}']`)"
            await until(page, gone, victim)
            # and every partition it held moved (each one when its lease lapsed)
            await until(page, "id => !document.querySelector(`.cell[data-owner='${id}']`)", victim)
            await until(
                page,
                "id => document.getElementById('detail-fields').textContent.includes(id)",
                await node_of(page, moving),
            )
            shot = tmp_path / "dashboard.png"
            await page.screenshot(path=str(shot), full_page=True)
        finally:
            await browser.close()

    assert shot.read_bytes().startswith(b"\x89PNG")
    if os.environ.get("HAZELKIT_SCREENSHOTS"):
        shutil.copy(shot, Path(os.environ["HAZELKIT_SCREENSHOTS"]) / "dashboard.png")
