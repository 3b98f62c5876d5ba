"""Real servers on loopback for the web tests, and a client that handles cookies by hand.

uvicorn runs in a thread as httpx's own tests run it (port 0, wait for ``started``, stop
with ``should_exit``); Flask runs under werkzeug's threaded WSGI server in a thread. The
client keeps the session cookie itself, so that tests see every ``Set-Cookie`` exactly
and can send forged, tampered or stale cookies.
"""

from __future__ import annotations

import contextlib
import functools
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.serving import make_server

from hazelkit.web import SessionStore

START_TIMEOUT = 30.0


@contextmanager
def serve_asgi(app: Any) -> Iterator[str]:
    """Run ``app`` under uvicorn on 127.0.0.1 (lifespan on, trusting X-Forwarded-Proto
    from loopback); yield its base URL; stop it."""
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        lifespan="on",
        log_level="warning",
        access_log=False,
        proxy_headers=True,
        forwarded_allow_ips="127.0.0.1",
    )
    server = uvicorn.Server(config)

    def run() -> None:
        with contextlib.suppress(SystemExit):  # uvicorn exits when its startup fails
            server.run()

    thread = threading.Thread(target=run, name="uvicorn", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(START_TIMEOUT)


@contextmanager
def serve_wsgi(app: Any) -> Iterator[str]:
    """Run the WSGI ``app`` under werkzeug's threaded server on 127.0.0.1 (behind
    ProxyFix, so X-Forwarded-Proto counts); yield its base URL; stop it."""
    server = make_server("127.0.0.1", 0, ProxyFix(app, x_proto=1), threaded=True)
    serve = functools.partial(server.serve_forever, poll_interval=0.05)
    thread = threading.Thread(target=serve, name="werkzeug", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(START_TIMEOUT)


@dataclass
class SetCookie:
    """One parsed ``Set-Cookie`` header."""

    name: str
    value: str
    attributes: dict[str, str]  # lower-case names; flags map to ""

    @property
    def deletes(self) -> bool:
        return self.attributes.get("max-age") == "0"


def parse_set_cookie(header: str) -> SetCookie:
    first, *rest = header.split(";")
    name, _, value = first.strip().partition("=")
    attributes = {}
    for part in rest:
        key, _, val = part.strip().partition("=")
        attributes[key.lower()] = val
    return SetCookie(name, value, attributes)


@dataclass
class Visitor:
    """A browser stand-in: keeps the session cookie and sends it back."""

    http: httpx.AsyncClient
    cookie_name: str = "session"
    cookie: str | None = None
    set_cookies: list[SetCookie] = field(default_factory=list)

    async def call(self, action: str, *, method: str = "POST", **params: Any) -> httpx.Response:
        """``METHOD /action?params`` with the current cookie; remembers any new one."""
        headers = {"cookie": f"{self.cookie_name}={self.cookie}"} if self.cookie else {}
        headers.update(params.pop("headers", {}))
        response = await self.http.request(method, f"/{action}", params=params, headers=headers)
        self.set_cookies = [parse_set_cookie(h) for h in response.headers.get_list("set-cookie")]
        for cookie in self.set_cookies:
            if cookie.name == self.cookie_name:
                self.cookie = None if cookie.deletes else cookie.value
        return response

    async def get(self, action: str, **params: Any) -> httpx.Response:
        return await self.call(action, method="GET", **params)

    async def value(self, key: str) -> Any:
        response = await self.get("get", key=key)
        assert response.status_code == 200, response.text
        return response.json()["value"]


@dataclass
class Site:
    """A running test app."""

    base_url: str
    store: SessionStore
    http: httpx.AsyncClient
    cookie_name: str = "session"

    def visitor(self, cookie: str | None = None) -> Visitor:
        """A new visitor, optionally carrying a given cookie value."""
        return Visitor(self.http, cookie_name=self.cookie_name, cookie=cookie)


def session_id(cookie: str) -> str:
    """The id part of a signed cookie value."""
    return cookie.rsplit(".", 1)[0]


StartSite = Callable[..., Awaitable[Site]]
