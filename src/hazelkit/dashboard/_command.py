"""``hazelkit dashboard``: connect, serve the dashboard until Ctrl-C, close."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING

from hazelkit._observe._connect import on_cluster
from hazelkit.dashboard._app import Dashboard
from hazelkit.dashboard._serve import DashboardServer

if TYPE_CHECKING:
    from hazelkit._core._cluster import Cluster

__all__ = ["LOOPBACK_NAMES", "run_dashboard"]

#: The names a browser on this machine uses for a loopback dashboard.
LOOPBACK_NAMES = ["127.0.0.1", "localhost", "::1", "[::1]"]


def run_dashboard(
    url: str | None,
    *,
    host: str,
    port: int,
    allow_actions: bool,
    token: str | None,
    interval: float,
    connect_timeout: float,
    out: Callable[[str], None],
) -> None:
    """Serve the dashboard of ``url`` on ``host:port`` until SIGINT or SIGTERM (exit
    codes as for every cluster command; a port that cannot be used is a usage error).
    With ``allow_actions``, the token is ``token``, else ``$HAZELKIT_DASHBOARD_TOKEN``,
    else a random one, printed once."""
    if allow_actions:
        token = token or os.environ.get("HAZELKIT_DASHBOARD_TOKEN")
    if allow_actions and not token:
        token = secrets.token_urlsafe(24)
        out(f"actions enabled; token (send as 'Authorization: Bearer ...'): {token}")

    async def serve(cluster: Cluster) -> None:
        dashboard = Dashboard(cluster, allow_actions=allow_actions, token=token, interval=interval)
        server = DashboardServer(dashboard, host=host, port=port, handle_signals=True)
        async with server:
            out(f"dashboard of {cluster.url} at {server.url} (Ctrl-C to stop)")
            await server.wait()

    # uvicorn stops on SIGINT, then passes it on: a KeyboardInterrupt here is a normal end.
    with contextlib.suppress(KeyboardInterrupt):
        on_cluster(url, connect_timeout, serve)
    out("dashboard stopped")
