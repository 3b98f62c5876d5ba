"""Sessions for ASGI apps (Starlette, FastAPI, any ASGI framework)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Unpack

from starlette.datastructures import Secret
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hazelkit._core import _lowlevel as lowlevel
from hazelkit._core._cluster import Cluster, connect
from hazelkit._core._exceptions import ConfigurationError, HazelkitError
from hazelkit.web._budget import RequestBudget, within
from hazelkit.web._config import SessionConfig, SessionOptions
from hazelkit.web._cookies import cookie_values
from hazelkit.web._manager import SaveResult, SessionManager
from hazelkit.web._session import Session
from hazelkit.web._store import SessionStore
from hazelkit.web._where import check_store

__all__ = ["SessionMiddleware", "session_of"]


class SessionMiddleware:
    """ASGI middleware putting a cluster-backed :class:`Session` in ``scope["session"]``
    (``request.session`` in Starlette and FastAPI; :func:`session_of` gives it typed)::

        app.add_middleware(SessionMiddleware, secret_key=KEY, url="hazelcast://h:5701")

    Where the sessions live must be said: ``url=`` (a grid the middleware connects to
    when the app starts, its lifespan, or on the first request, and closes when the app
    shuts down), ``cluster=`` (a Cluster you start and close yourself, e.g. in the app's
    own lifespan, so the app and its sessions share one connection), or
    ``$HAZELKIT_URL``. An embedded ``memory://`` grid is refused unless
    ``allow_memory=True``: it lives in one process, so other workers would not see its
    sessions. ConfigurationError at construction otherwise.

    Options are those of :class:`SessionOptions` (the :class:`SessionConfig` fields, and
    Starlette's own ``session_cookie``, ``https_only``, ``max_age=None``), or pass
    ``config=``.

    Per request: one map read if the request carries a validly signed cookie (none
    otherwise), one merge by compare-and-set if it changed the session, else one renewal
    of the idle timeout after the response. Changes made after the response started
    (streamed bodies) are not saved. WebSocket connections get a read-only session.

    Failures: the load and the save together wait at most ``timeout`` seconds (default
    5); past that the request raises SessionTimeoutError, and errors of the store
    (ClusterError) are raised as they are: the server answers 500 and the handler's
    response is not sent. A save that would take the session over ``max_size`` raises
    SessionTooLargeError the same way, also when only the merge with another request's
    concurrent changes crosses the limit (this request's changes are then not stored,
    the other request's are kept).
    """

    def __init__(
        self,
        app: ASGIApp,
        secret_key: str | bytes | Sequence[str | bytes] | Secret | None = None,
        *,
        url: str | None = None,
        cluster: Cluster | None = None,
        allow_memory: bool = False,
        config: SessionConfig | None = None,
        **options: Unpack[SessionOptions],
    ) -> None:
        if isinstance(secret_key, Secret):
            secret_key = str(secret_key)
        if config is None:
            config = SessionConfig.from_options(secret_key, options)
        elif secret_key is not None or options:
            raise ConfigurationError("give either config= or session options, not both")
        self._url = check_store(
            "SessionMiddleware",
            url=url,
            cluster_url=None if cluster is None else cluster.url,
            allow_memory=allow_memory,
        )
        self.app = app
        self.config = config
        self._cluster = cluster
        self._owns_cluster = cluster is None
        self._manager: SessionManager | None = None
        self._connecting = asyncio.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "websocket":
            await self._websocket(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def manager(self) -> SessionManager:
        """The session manager, connecting to the grid first if the middleware owns it."""
        if self._manager is None:
            async with self._connecting:
                if self._manager is None:
                    cluster = self._cluster
                    if cluster is None:
                        cluster = await connect(self._url)
                        self._cluster = cluster
                    lowlevel.check_open(cluster)  # a cluster given unstarted fails here, clearly
                    self._manager = SessionManager(SessionStore(cluster, self.config))
        return self._manager

    async def aclose(self) -> None:
        """Close the grid connection if the middleware opened it (idempotent)."""
        cluster, self._manager = self._cluster, None
        if self._owns_cluster and cluster is not None:
            self._cluster = None
            await cluster.close()

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        manager = await self.manager()
        budget = RequestBudget(self.config.timeout)
        cookies = _cookies(scope, self.config)
        session = await budget.run("loading", manager.open, cookies, session_class=Session)
        scope["session"] = session
        result: SaveResult | None = None

        async def send_with_session(message: Message) -> None:
            nonlocal result
            if message["type"] == "http.response.start" and result is None:
                https = scope.get("scheme") == "https"
                result = await budget.run("saving", manager.save, session, https=https)
                message = _with_headers(message, result)
            await send(message)

        await self.app(scope, receive, send_with_session)
        if result is not None:
            await within(self.config.timeout, manager.refresh, result.refresh)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        manager = await self.manager()
        cookies = _cookies(scope, self.config)
        budget = RequestBudget(self.config.timeout)
        scope["session"] = await budget.run(
            "loading", manager.open, cookies, session_class=Session, read_only=True
        )
        await self.app(scope, receive, send)

    async def _lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_and_manage(message: Message) -> None:
            kind = message["type"]
            if kind == "lifespan.startup.complete" and self._owns_cluster:
                try:
                    await self.manager()
                except Exception as error:
                    message = {"type": "lifespan.startup.failed", "message": f"sessions: {error}"}
            elif kind in ("lifespan.shutdown.complete", "lifespan.shutdown.failed"):
                await self.aclose()
            await send(message)

        await self.app(scope, receive, send_and_manage)


def session_of(connection: HTTPConnection | Scope) -> Session:
    """The hazelkit session of a Starlette/FastAPI request or WebSocket (or an ASGI
    scope), typed: ``session_of(request).regenerate()`` passes ``mypy --strict``, where
    ``request.session`` is typed ``dict[str, Any]`` by Starlette.

    Raises HazelkitError if :class:`SessionMiddleware` did not handle the request.
    """
    scope = connection.scope if isinstance(connection, HTTPConnection) else connection
    session = scope.get("session")
    if not isinstance(session, Session):
        raise HazelkitError(
            "this request has no hazelkit session: add hazelkit.web.SessionMiddleware to the "
            f"app (found {type(session).__name__} in scope['session'])"
        )
    return session


def _cookies(scope: Scope, config: SessionConfig) -> list[str]:
    headers = [value for name, value in scope.get("headers", ()) if name == b"cookie"]
    joined = "; ".join(value.decode("latin-1") for value in headers)
    return cookie_values(joined, config.cookie_name)


def _with_headers(message: Message, result: SaveResult) -> Message:
    headers = list(message.get("headers", ()))
    if result.set_cookie is not None:
        headers.append((b"set-cookie", result.set_cookie.encode("latin-1")))
    if result.vary:
        _add_vary_cookie(headers)
    return {**message, "headers": headers}


def _add_vary_cookie(headers: list[tuple[bytes, bytes]]) -> None:
    for index, (name, value) in enumerate(headers):
        if name.lower() == b"vary":
            fields = {field.strip().lower() for field in value.split(b",")}
            if b"cookie" not in fields and b"*" not in fields:
                headers[index] = (name, value + b", Cookie")
            return
    headers.append((b"vary", b"Cookie"))
