"""A live view of a cluster in the browser: ``hazelkit dashboard [URL]``.

One page (HTML, a small script and a style sheet shipped in this package: no build step,
nothing from a CDN) shows the nodes, which node owns each partition, workflows by status
with a search, one workflow's state and history, the leases held, and ownership changes
(failovers and handoffs) as they happen, kept current over server-sent events.

In a program::

    from hazelkit.dashboard import Dashboard, DashboardServer

    async with hazelkit.connect(url) as cluster:
        async with DashboardServer(Dashboard(cluster), port=8080) as server:
            print("dashboard at", server.url)
            await server.wait()

Read-only unless started with ``allow_actions=True`` and a token. Needs the
``dashboard`` extra: ``pip install 'hazelkit[dashboard]'`` (Starlette and uvicorn).
"""

from __future__ import annotations

from hazelkit._core._public import publish as _publish
from hazelkit.dashboard._app import Dashboard
from hazelkit.dashboard._changes import OwnerChange
from hazelkit.dashboard._serve import DashboardServer

__all__ = ["Dashboard", "DashboardServer", "OwnerChange"]

_publish(__name__, globals(), __all__)
