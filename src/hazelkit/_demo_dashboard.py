"""``hazelkit demo --dashboard``: the demo with the dashboard open, at a pace to watch.

The dashboard reads the demo's grid through a Cluster of its own (a client, hosting
nothing). The demo waits (at most 30 s) for a browser to open the page, slows the
workflow scene down enough to follow, and keeps its surviving nodes up at the end until
Ctrl-C (at most 10 minutes). Without ``--dashboard`` nothing of this runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import webbrowser
from collections.abc import AsyncIterator

from rich.console import Console

import hazelkit
from hazelkit.dashboard import Dashboard, DashboardServer
from hazelkit.dashboard._command import LOOPBACK_NAMES

__all__ = ["DashboardPace", "demo_dashboard"]

PAGE_WAIT = 30.0
LINGER = 600.0
_HOLDS = {"ready": 4.0, "message": 0.4, "recovered": 3.0}


class DashboardPace:
    """Pauses of the workflow scene while a dashboard shows it."""

    def __init__(self, server: DashboardServer, console: Console) -> None:
        self._server = server
        self._console = console

    async def __call__(self, moment: str) -> None:
        """Hold at ``moment`` ("ready", "message", "recovered", "end") so the page
        shows it; at "end", until Ctrl-C or 10 minutes."""
        if moment != "end":
            await asyncio.sleep(_HOLDS.get(moment, 0.0))
            return
        self._console.print(
            f"the nodes stay up for the dashboard at {self._server.url}: Ctrl-C to end",
            markup=False,
        )
        await self._server.wait(LINGER)


@contextlib.asynccontextmanager
async def demo_dashboard(url: str, port: int, console: Console) -> AsyncIterator[DashboardPace]:
    """Serve the dashboard of ``url`` on 127.0.0.1:``port`` for the length of the demo."""
    async with hazelkit.connect(url) as observer:
        dashboard = Dashboard(observer, interval=0.5, allowed_hosts=LOOPBACK_NAMES)
        async with DashboardServer(dashboard, port=port) as server:
            console.print(f"dashboard: {server.url}", markup=False)
            if _has_desktop():
                webbrowser.open(server.url)
            await _wait_for_a_page(dashboard, console)
            yield DashboardPace(server, console)


def _has_desktop() -> bool:
    # Without a desktop, webbrowser would start a text browser in this terminal.
    return sys.platform in ("darwin", "win32") or bool(
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    )


async def _wait_for_a_page(dashboard: Dashboard, console: Console) -> None:
    console.print(f"waiting up to {PAGE_WAIT:g} s for a browser to open it", markup=False)
    await dashboard.wait_for_viewer(PAGE_WAIT)
