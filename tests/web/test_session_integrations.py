"""What is particular to each integration: the ASGI middleware's cluster ownership,
lifespan and WebSocket sessions; the Flask interface's use of the app's secret keys."""

from __future__ import annotations

import json
import uuid
from typing import Any

import flask
import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from web_apps import SECRET
from web_servers import serve_asgi

import hazelkit
from hazelkit import ClusterClosedError, ConfigurationError, HazelkitError
from hazelkit.web import HazelkitSessionInterface, SessionMiddleware


async def login(request: Request) -> JSONResponse:
    request.session["user"] = request.query_params["user"]
    return JSONResponse({"ok": True})


async def whoami(request: Request) -> JSONResponse:
    return JSONResponse({"user": request.session.get("user")})


async def socket(websocket: WebSocket) -> None:
    await websocket.accept()
    user = websocket.session.get("user")
    try:
        websocket.session["user"] = "eve"
    except HazelkitError as error:
        await websocket.send_json({"user": user, "error": str(error)})
    await websocket.close()


def starlette_app() -> Starlette:
    routes = [Route("/login", login), Route("/whoami", whoami), WebSocketRoute("/ws", socket)]
    return Starlette(routes=routes)


async def test_asgi_with_a_cluster_the_app_manages(cluster: hazelkit.Cluster, name: str) -> None:
    app = SessionMiddleware(
        starlette_app(), secret_key=SECRET, cluster=cluster, map_name=name, allow_memory=True
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        await client.get("/login", params={"user": "ada"})
        assert (await client.get("/whoami")).json() == {"user": "ada"}
    await app.aclose()  # not the middleware's cluster: left open
    assert await cluster.map(name).size() == 1


async def test_asgi_with_an_unstarted_cluster_says_so(name: str) -> None:
    unstarted = hazelkit.connect(f"memory://{name}")
    app = SessionMiddleware(
        starlette_app(), secret_key=SECRET, cluster=unstarted, allow_memory=True
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        with pytest.raises(ClusterClosedError, match="not started"):
            await client.get("/whoami")


async def test_asgi_connects_at_startup_and_closes_at_shutdown(url: str, name: str) -> None:
    app = SessionMiddleware(
        starlette_app(), secret_key=SECRET, url=url, map_name=name, allow_memory=True
    )
    with serve_asgi(app) as base_url:
        owned = app._cluster
        assert owned is not None  # connected by the lifespan, before any request
        assert owned.state is hazelkit.ClusterState.RUNNING
        async with httpx.AsyncClient(base_url=base_url) as client:
            assert (await client.get("/whoami")).json() == {"user": None}
    assert owned.state is hazelkit.ClusterState.CLOSED
    assert app._cluster is None


def test_asgi_startup_fails_when_the_grid_is_unreachable() -> None:
    unreachable = "hazelcast://127.0.0.1:9?cluster=none&connect_timeout=0.5"
    app = SessionMiddleware(starlette_app(), secret_key=SECRET, url=unreachable)
    with pytest.raises(RuntimeError, match="did not start"), serve_asgi(app):
        pass


async def test_websocket_sessions_are_read_only(cluster: hazelkit.Cluster, name: str) -> None:
    app = SessionMiddleware(
        starlette_app(), secret_key=SECRET, cluster=cluster, map_name=name, allow_memory=True
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        logged_in = await client.get("/login", params={"user": "ada"})
    cookie = logged_in.headers["set-cookie"].split(";")[0].encode()
    sent: list[dict[str, Any]] = []
    incoming = [{"type": "websocket.connect"}, {"type": "websocket.disconnect", "code": 1000}]

    async def receive() -> dict[str, Any]:
        return incoming.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "websocket", "path": "/ws", "raw_path": b"/ws", "root_path": "",
        "query_string": b"", "headers": [(b"cookie", cookie)], "scheme": "ws",
        "server": ("app", 80), "client": ("127.0.0.1", 1), "subprotocols": [],
        "asgi": {"version": "3.0"},
    }  # fmt: skip
    await app(scope, receive, send)  # type: ignore[arg-type]
    [reply] = [json.loads(m["text"]) for m in sent if m["type"] == "websocket.send"]
    assert reply["user"] == "ada"
    assert "read-only" in reply["error"]


def flask_whoami_app(**config: Any) -> flask.Flask:
    app = flask.Flask(__name__)
    app.config.update(config)
    app.session_interface = HazelkitSessionInterface(
        url=f"memory://{uuid.uuid4().hex}", allow_memory=True
    )

    @app.get("/login")
    def flask_login() -> dict[str, bool]:
        flask.session["user"] = flask.request.args["user"]
        flask.session.modified = True  # accepted, as with Flask's own sessions
        return {"ok": True}

    @app.get("/whoami")
    def flask_who() -> dict[str, Any]:
        return {"user": flask.session.get("user")}

    return app


def test_flask_signs_with_the_app_secret_key_and_its_fallbacks() -> None:
    old, new = "old-flask-key-0123456789", "new-flask-key-0123456789"
    app = flask_whoami_app(SECRET_KEY=old)
    try:
        client = app.test_client()
        client.get("/login?user=ada")
        app.config.update(SECRET_KEY=new, SECRET_KEY_FALLBACKS=[old])
        app.session_interface.config = None  # type: ignore[attr-defined]  # re-read keys
        assert client.get("/whoami").json == {"user": "ada"}
    finally:
        app.session_interface.close()  # type: ignore[attr-defined]


def test_flask_without_any_secret_key_is_refused() -> None:
    app = flask_whoami_app(TESTING=True)
    try:
        with pytest.raises(ConfigurationError, match="needs a secret_key"):
            app.test_client().get("/whoami")
    finally:
        app.session_interface.close()  # type: ignore[attr-defined]
