"""Fixtures of the web-session tests: a real server per test, on each framework and backend.

``start_site(**options)`` starts the test app (FastAPI under uvicorn, or Flask under
werkzeug's WSGI server, by the ``framework`` parameter) with its sessions on the test's
backend, and returns a :class:`Site`: its base URL, visitors, and a SessionStore on the
test's own Cluster (same grid, same map) to look at what the servers stored.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from http.cookiejar import DefaultCookiePolicy
from typing import Any

import httpx
import pytest
from web_apps import SECRET, fastapi_app, flask_app
from web_servers import Site, StartSite, serve_asgi, serve_wsgi

import hazelkit
from hazelkit.web import SessionConfig, SessionStore

FRAMEWORKS = ["asgi", "flask"]


@pytest.fixture(params=FRAMEWORKS)
def framework(request: pytest.FixtureRequest) -> str:
    """``asgi`` (FastAPI under uvicorn) or ``flask`` (Flask under a WSGI server)."""
    return str(request.param)


@pytest.fixture
async def start_site(
    framework: str, url: str, name: str, cluster: hazelkit.Cluster
) -> AsyncIterator[StartSite]:
    """Start the test app with the given session options (map ``name`` by default);
    everything started is stopped at the end of the test."""
    async with AsyncExitStack() as stack:

        async def start(**options: Any) -> Site:
            options.setdefault("map_name", name)
            if framework == "asgi":
                base_url = stack.enter_context(serve_asgi(fastapi_app(url=url, **options)))
            else:
                app = flask_app(url=url, **options)
                stack.callback(app.session_interface.close)
                base_url = stack.enter_context(serve_wsgi(app))
            http = await stack.enter_async_context(httpx.AsyncClient(base_url=base_url, timeout=30))
            # Visitors keep their cookies themselves: the shared client must keep none.
            http.cookies.jar.set_policy(DefaultCookiePolicy(allowed_domains=[]))
            store = SessionStore(cluster, SessionConfig(secret_key=SECRET, **options))
            return Site(base_url, store, http, options.get("cookie_name", "session"))

        yield start
