"""Setting sessions up: where the store lives, Flask's own configuration, failing fast at
start-up, one time budget per request during an outage, and the typed accessors."""

from __future__ import annotations

import datetime
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import flask
import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from web_apps import SECRET

import hazelkit
from hazelkit import ClusterUnavailableError, ConfigurationError, HazelkitError
from hazelkit.testing import inject_faults
from hazelkit.web import (
    HazelkitSessionInterface,
    SessionMiddleware,
    SessionTimeoutError,
    flask_session,
    session_of,
)

BUDGET = 2.5  # seconds for the store per request (timeout=)
SLOW_LOAD = 2.0  # a load this slow leaves 0.5 s of the budget for the save


def asgi(**options: Any) -> SessionMiddleware:
    return SessionMiddleware(Starlette(), secret_key=SECRET, **options)


def flask_interface(**options: Any) -> HazelkitSessionInterface:
    return HazelkitSessionInterface(secret_key=SECRET, **options)


MAKERS: list[Callable[..., Any]] = [asgi, flask_interface]


@pytest.fixture
def no_hazelkit_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HAZELKIT_URL", raising=False)


@pytest.mark.usefixtures("no_hazelkit_url")
@pytest.mark.parametrize("make", MAKERS, ids=["asgi", "flask"])
def test_the_store_must_be_named(make: Callable[..., Any]) -> None:
    with pytest.raises(ConfigurationError, match=r"where the sessions live.*HAZELKIT_URL"):
        make()


@pytest.mark.usefixtures("no_hazelkit_url")
@pytest.mark.parametrize("make", MAKERS, ids=["asgi", "flask"])
def test_an_embedded_store_needs_allow_memory(
    make: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ConfigurationError, match=r"embedded grid.*allow_memory=True"):
        make(url="memory://sessions")
    monkeypatch.setenv("HAZELKIT_URL", "memory://sessions")
    with pytest.raises(ConfigurationError, match=r"embedded grid.*allow_memory=True"):
        make()
    make(allow_memory=True)  # told: accepted


@pytest.mark.parametrize("make", MAKERS, ids=["asgi", "flask"])
def test_a_hazelcast_url_from_the_environment_is_the_store(
    make: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HAZELKIT_URL", "hazelcast://127.0.0.1:5701?cluster=dev")
    make()  # nothing connects before the app starts


# -- Flask: the app's configuration, failing fast --------------------------------------------


@pytest.fixture
def flask_app() -> Iterator[flask.Flask]:
    app = flask.Flask(__name__)
    app.config.update(
        SECRET_KEY=SECRET,
        SESSION_COOKIE_NAME="sid",
        SESSION_COOKIE_DOMAIN="example.com",
        SESSION_COOKIE_PATH="/app",
        SESSION_COOKIE_HTTPONLY=False,
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_SAMESITE="Strict",
        PERMANENT_SESSION_LIFETIME=datetime.timedelta(hours=1),
    )
    interface = HazelkitSessionInterface(url=f"memory://{uuid.uuid4().hex}", allow_memory=True)

    @app.get("/app/login")
    def login() -> dict[str, bool]:
        flask.session.permanent = True
        flask.session["user"] = "ada"
        return {"ok": True}

    @app.get("/app/whoami")
    def whoami() -> dict[str, Any]:
        return {"user": flask.session.get("user")}

    interface.init_app(app)
    yield app
    interface.close()


def cookie_attributes(set_cookie: str) -> dict[str, str]:
    name_value, *attributes = (part.strip() for part in set_cookie.split(";"))
    found = {"name": name_value.split("=", 1)[0]}
    for attribute in attributes:
        key, _, value = attribute.partition("=")
        found[key.lower()] = value
    return found


def test_flask_honours_the_app_cookie_configuration(flask_app: flask.Flask) -> None:
    client = flask_app.test_client()
    response = client.get("/app/login", base_url="https://example.com")
    attributes = cookie_attributes(response.headers["Set-Cookie"])
    assert attributes["name"] == "sid"
    assert attributes["domain"].lstrip(".") == "example.com"
    assert attributes["path"] == "/app"
    assert "httponly" not in attributes
    assert "secure" in attributes
    assert attributes["samesite"].lower() == "strict"
    assert 3600 - 5 <= int(attributes["max-age"]) <= 3600  # PERMANENT_SESSION_LIFETIME
    whoami = client.get("/app/whoami", base_url="https://example.com")
    assert whoami.json == {"user": "ada"}


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_flask_init_app_fails_fast_when_the_cluster_is_unreachable() -> None:
    url = f"hazelcast://127.0.0.1:{closed_port()}?cluster=dev&connect_timeout=2"
    interface = HazelkitSessionInterface(secret_key=SECRET, url=url)
    app = flask.Flask(__name__)
    started = time.monotonic()
    with pytest.raises(ClusterUnavailableError):
        interface.init_app(app)
    assert time.monotonic() - started < 20  # the connect timeout, not a hang
    interface.close()


# -- one time budget per request ---------------------------------------------------------------


def flask_budget_app(cluster: hazelkit.blocking.BlockingCluster) -> flask.Flask:
    app = flask.Flask(__name__)
    app.config.update(SECRET_KEY=SECRET, TESTING=True)
    interface = HazelkitSessionInterface(
        cluster=cluster, allow_memory=True, map_name="budget", timeout=BUDGET
    )
    interface.init_app(app)

    @app.get("/visit")
    def visit() -> dict[str, int]:
        flask.session["visits"] = flask.session.get("visits", 0) + 1
        return {"visits": flask.session["visits"]}

    return app


def test_flask_waits_one_budget_for_load_and_save_together() -> None:
    with hazelkit.connect_blocking(f"memory://{uuid.uuid4().hex}") as cluster:
        faults = inject_faults(cluster.async_cluster)  # before the store's first use
        client = flask_budget_app(cluster).test_client()
        assert client.get("/visit").json == {"visits": 1}
        faults.delay("map.get", SLOW_LOAD)
        faults.hang("map.replace_if_same")
        started = time.monotonic()
        with pytest.raises(SessionTimeoutError, match="budget"):
            client.get("/visit")
        elapsed = time.monotonic() - started
        assert faults.calls("map.get") == 1  # the slow load ...
        assert faults.calls("map.replace_if_same") == 1  # ... and the hung save
        faults.release()
        # One budget: about BUDGET, where a budget per step would take SLOW_LOAD + BUDGET.
        assert BUDGET - 0.1 <= elapsed < SLOW_LOAD + BUDGET - 0.1
        assert client.get("/visit").json == {"visits": 2}  # nothing half-saved


async def visit(request: Request) -> JSONResponse:
    request.session["visits"] = request.session.get("visits", 0) + 1
    return JSONResponse({"visits": request.session["visits"]})


async def test_asgi_waits_one_budget_for_load_and_save_together() -> None:
    async with hazelkit.connect(f"memory://{uuid.uuid4().hex}") as cluster:
        faults = inject_faults(cluster)  # before the store's first use
        app = SessionMiddleware(
            Starlette(routes=[Route("/visit", visit)]),
            secret_key=SECRET,
            cluster=cluster,
            allow_memory=True,
            timeout=BUDGET,
        )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
            assert (await client.get("/visit")).json() == {"visits": 1}
            faults.delay("map.get", SLOW_LOAD)
            faults.hang("map.replace_if_same")
            started = time.monotonic()
            with pytest.raises(SessionTimeoutError, match="budget"):
                await client.get("/visit")
            elapsed = time.monotonic() - started
            assert faults.calls("map.get") == 1  # the slow load ...
            assert faults.calls("map.replace_if_same") == 1  # ... and the hung save
            faults.release()
            assert BUDGET - 0.1 <= elapsed < SLOW_LOAD + BUDGET - 0.1
            assert (await client.get("/visit")).json() == {"visits": 2}


# -- typed accessors -------------------------------------------------------------------------


def test_session_of_says_when_the_middleware_is_missing() -> None:
    scope = {"type": "http", "session": {}}
    with pytest.raises(HazelkitError, match=r"add hazelkit\.web\.SessionMiddleware"):
        session_of(scope)


def test_flask_session_says_when_the_interface_is_missing() -> None:
    app = flask.Flask(__name__)
    app.config["SECRET_KEY"] = SECRET
    with (
        app.test_request_context("/"),
        pytest.raises(HazelkitError, match="HazelkitSessionInterface"),
    ):
        flask_session()
