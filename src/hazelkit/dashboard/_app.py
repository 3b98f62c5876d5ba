"""The dashboard as an ASGI app: one page, its script and style, JSON endpoints, a stream
of snapshots as server-sent events, and (only when enabled) workflow actions."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from hazelkit._core._cluster import connect
from hazelkit._core._exceptions import ClusterClosedError, ConfigurationError, HazelkitError
from hazelkit.dashboard._actions import Actions
from hazelkit.dashboard._http import SECURITY_HEADERS, bounded, error, static_file, unavailable
from hazelkit.dashboard._json import frame_json, workflow_json, workflow_rows
from hazelkit.dashboard._watch import ClusterWatch, Frame

if TYPE_CHECKING:
    from hazelkit._core._cluster import Cluster
    from hazelkit.workflows import Transition

__all__ = ["Dashboard"]

_KEEPALIVE = 15.0


class Dashboard:
    """A live view of a cluster for a browser, as an ASGI app (serve it with uvicorn,
    or ``hazelkit dashboard``; mount it in a Starlette app under a path of its own).

    It shows nodes, partition ownership, workflows by status (searchable), one workflow's
    state and history, leases held, and ownership changes (failovers, handoffs) as they
    happen. One background task reads the cluster every ``interval`` seconds (each read
    bounded by ``read_timeout``) for every open page, over server-sent events.

    Where to read: ``cluster=`` (a Cluster you opened; the dashboard never closes it) or
    ``url=`` (connected on startup or first request, closed on shutdown; default
    ``$HAZELKIT_URL``). A client is enough: the dashboard hosts nothing.

    Read-only unless ``allow_actions=True``: then ``POST /api/workflows/{id}/{action}``
    (resume, skip, terminate) needs ``Authorization: Bearer <token>``, compared in
    constant time; every refusal is a 403. ConfigurationError for actions without a
    token, a token without actions, or both ``cluster`` and ``url``.

    ``allowed_hosts`` (e.g. ``["127.0.0.1", "localhost"]``): answer only requests whose
    ``Host`` header names one of them (400 otherwise), so that a web page elsewhere
    cannot read a loopback dashboard through DNS rebinding (``hazelkit dashboard`` sets
    it when it listens on loopback). A failure of the cluster answers 503.

    Guarantees: every wait is bounded; an event stream ends when its client goes, when
    the dashboard shuts down or its Cluster closes, and after ``stream_for`` seconds (the
    browser reconnects by itself); no task of the dashboard outlives its Cluster.
    """

    def __init__(
        self,
        cluster: Cluster | None = None,
        *,
        url: str | None = None,
        allow_actions: bool = False,
        token: str | None = None,
        interval: float = 1.0,
        read_timeout: float = 10.0,
        stream_for: float = 300.0,
        allowed_hosts: Sequence[str] | None = None,
    ) -> None:
        _check_options(cluster, url, allow_actions, token, interval)
        self.allow_actions = allow_actions
        self.interval = interval
        self.read_timeout = read_timeout
        self.stream_for = stream_for
        self._actions = Actions(token if allow_actions else None, read_timeout)
        self._url = url
        self._cluster = cluster
        self._owns_cluster = cluster is None
        self._watch: ClusterWatch | None = None
        self._closed = False
        self._opening = asyncio.Lock()
        self.open_streams = 0  #: event streams being served now
        self._viewed = asyncio.Event()
        self._encoded: tuple[int, str] = (0, "")
        middleware = []
        if allowed_hosts is not None:
            middleware.append(Middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts))
        self._app = Starlette(
            routes=self._routes(),
            middleware=middleware,
            exception_handlers={HazelkitError: unavailable},
            lifespan=self._lifespan,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", ()), *SECURITY_HEADERS]
                message = {**message, "headers": headers}
            await send(message)

        await self._app(scope, receive, send_with_headers)

    async def watch(self) -> ClusterWatch:
        """The running reader of the cluster (connecting first when given a URL).
        ClusterClosedError once the dashboard or its Cluster is closed."""
        if self._watch is None:
            async with self._opening:
                if self._closed:
                    raise ClusterClosedError("this dashboard is closed")
                if self._watch is None:
                    if self._cluster is None:
                        self._cluster = await connect(self._url)
                    watch = ClusterWatch(
                        self._cluster, interval=self.interval, read_timeout=self.read_timeout
                    )
                    watch.start()
                    self._watch = watch
        return self._watch

    async def wait_for_viewer(self, timeout: float) -> bool:
        """Wait until a page watches (an event stream is open), at most ``timeout``
        seconds; whether one does."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._viewed.wait()
        return self.open_streams > 0

    async def end_streams(self) -> None:
        """Stop reading the cluster: every event stream ends at once (for shutdown)."""
        if self._watch is not None:
            await self._watch.close()

    async def aclose(self) -> None:
        """Stop reading for good, and close the Cluster if the dashboard opened it
        (idempotent); requests after this answer 503."""
        self._closed = True
        await self.end_streams()
        cluster, self._watch = self._cluster, None
        if self._owns_cluster and cluster is not None:
            self._cluster = None
            await cluster.close()

    @contextlib.asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        await self.watch()
        try:
            yield
        finally:
            await self.aclose()

    def _routes(self) -> list[Route]:
        return [
            Route("/", self._page, methods=["GET"]),
            Route("/static/{name}", self._static, methods=["GET"]),
            Route("/api/snapshot", self._snapshot, methods=["GET"]),
            Route("/api/events", self._events, methods=["GET"]),
            Route("/api/workflows", self._workflows, methods=["GET"]),
            Route("/api/workflows/{id}", self._workflow, methods=["GET"]),
            Route("/api/workflows/{id}/{action}", self._act, methods=["POST"]),
        ]

    async def _page(self, request: Request) -> Response:
        return static_file("index.html")

    async def _static(self, request: Request) -> Response:
        name = request.path_params["name"]
        return error(404, "not found") if name == "index.html" else static_file(name)

    async def _latest(self) -> Frame | None:
        watch = await self.watch()
        return await watch.next_frame(0, self.read_timeout)

    async def _snapshot(self, request: Request) -> Response:
        frame = await self._latest()
        if frame is None:
            return error(503, "no snapshot of the cluster yet")
        return JSONResponse(frame_json(frame, actions=self.allow_actions))

    async def _workflows(self, request: Request) -> Response:
        frame = await self._latest()
        if frame is None:
            return error(503, "no snapshot of the cluster yet")
        query = request.query_params
        try:
            limit = int(query.get("limit", "100"))
        except ValueError:
            return error(400, "limit must be a number")
        rows = workflow_rows(
            frame, search=query.get("search", ""), status=query.get("status", ""),
            type_name=query.get("type", ""), limit=limit,
        )  # fmt: skip
        return JSONResponse(rows)

    async def _workflow(self, request: Request) -> Response:
        workflow_id = request.path_params["id"]
        watch = await self.watch()
        workflows = watch.cluster.workflows

        async def read() -> Response:
            snapshot = await workflows.get(workflow_id)
            history = await workflows.history(workflow_id)
            report = None if watch.frame is None else watch.frame.report
            return JSONResponse(
                {
                    "workflow": workflow_json(report, snapshot),
                    "history": [_transition(t) for t in history],
                }
            )

        return await bounded(self.read_timeout, read)

    async def _act(self, request: Request) -> Response:
        watch = await self.watch()
        return await self._actions.perform(request, watch.cluster)

    async def _events(self, request: Request) -> Response:
        watch = await self.watch()
        return StreamingResponse(
            self._stream(watch),
            media_type="text/event-stream",
            headers={"x-accel-buffering": "no"},
        )

    async def _stream(self, watch: ClusterWatch) -> AsyncIterator[str]:
        """Every new frame as an event named ``frame``, a comment when idle, until the
        client goes (Starlette cancels this), the watch closes, or ``stream_for``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.stream_for
        self.open_streams += 1
        self._viewed.set()
        try:
            yield "retry: 2000\n\n"
            last = 0
            while not watch.closed and (left := deadline - loop.time()) > 0:
                try:
                    frame = await watch.next_frame(last, min(_KEEPALIVE, left))
                except ClusterClosedError:
                    break
                if frame is None:
                    yield ": idle\n\n"
                    continue
                last = frame.number
                yield f"id: {frame.number}\nevent: frame\ndata: {self._encode(frame)}\n\n"
        finally:
            self.open_streams -= 1
            if self.open_streams == 0:
                self._viewed.clear()

    def _encode(self, frame: Frame) -> str:
        """``frame`` as JSON text, encoded once for every stream."""
        number, text = self._encoded
        if number != frame.number:
            text = json.dumps(frame_json(frame, actions=self.allow_actions))
            self._encoded = (frame.number, text)
        return text


def _check_options(
    cluster: Cluster | None, url: str | None, allow_actions: bool, token: str | None,
    interval: float,
) -> None:  # fmt: skip
    if cluster is not None and url is not None:
        raise ConfigurationError("give the dashboard either cluster= or url=, not both")
    if allow_actions and not token:
        raise ConfigurationError(
            "allow_actions needs a token (the dashboard's actions change workflows)"
        )
    if token is not None and not allow_actions:
        raise ConfigurationError("a token is only used with allow_actions=True")
    if not interval > 0:
        raise ConfigurationError(f"interval must be positive, not {interval!r}")


def _transition(transition: Transition) -> dict[str, Any]:
    return {
        "at": transition.at.isoformat(),
        "sequence": transition.sequence,
        "what": transition.what,
        "status": transition.status,
    }
