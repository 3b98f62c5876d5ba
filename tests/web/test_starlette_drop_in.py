"""hazelkit's SessionMiddleware as a drop-in for ``starlette.middleware.sessions``.

The behaviours of Starlette's own session-middleware tests, written against hazelkit's
middleware the way a Starlette app is written: ``Middleware(SessionMiddleware, ...)``
with Starlette's option names (``session_cookie``, ``https_only``, ``max_age``,
``path``, ``domain``) and handlers that treat ``request.session`` as the ``dict`` it
is (``JSONResponse({"session": request.session})``, ``update``, ``pop``). What differs
by design: the store is named (here an embedded grid, ``allow_memory=True``) and a
secret key has at least 16 bytes.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route
from web_apps import SECRET

from asgi_client import asgi_client
from hazelkit import ConfigurationError
from hazelkit.web import Session, SessionMiddleware


def view_session(request: Request) -> JSONResponse:
    return JSONResponse({"session": request.session})


async def update_session(request: Request) -> JSONResponse:
    request.session.update(await request.json())
    return JSONResponse({"session": request.session})


async def clear_session(request: Request) -> JSONResponse:
    request.session.clear()
    return JSONResponse({"session": request.session})


async def dict_methods(request: Request) -> JSONResponse:
    session = request.session
    assert isinstance(session, dict)
    assert isinstance(session, Session)
    popped = session.pop("gone", None)
    session.setdefault("counter", 0)
    session |= {"counter": session["counter"] + 1}
    last = session.popitem() if "drop-last" in request.query_params else None
    return JSONResponse({"popped": popped, "last": last, "copy": session.copy()})


ROUTES = [
    Route("/view_session", endpoint=view_session),
    Route("/update_session", endpoint=update_session, methods=["POST"]),
    Route("/clear_session", endpoint=clear_session, methods=["POST"]),
    Route("/dict_methods", endpoint=dict_methods, methods=["POST"]),
]


def starlette_app(**options: Any) -> Starlette:
    """Starlette's usage, with hazelkit's middleware and a named embedded store."""
    options = {"secret_key": SECRET, "url": f"memory://{uuid.uuid4().hex}", **options}
    middleware = [Middleware(SessionMiddleware, allow_memory=True, **options)]
    return Starlette(routes=ROUTES, middleware=middleware)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(starlette_app(max_age=14 * 24 * 3600)) as test_client:
        yield test_client


def cookie_attribute(set_cookie: str, name: str) -> str | None:
    match = re.search(rf";\s*{name}=([^;]*)", set_cookie, re.IGNORECASE)
    return None if match is None else match.group(1)


async def view(client: httpx.AsyncClient, origin: str = "") -> Any:
    return (await client.get(f"{origin}/view_session")).json()


async def update(client: httpx.AsyncClient, data: Any, origin: str = "") -> httpx.Response:
    return await client.post(f"{origin}/update_session", json=data)


async def clear(client: httpx.AsyncClient, origin: str = "") -> Any:
    return (await client.post(f"{origin}/clear_session")).json()


async def test_view_update_and_clear_as_in_starlette(client: httpx.AsyncClient) -> None:
    assert await view(client) == {"session": {}}
    response = await update(client, {"some": "data"})
    assert response.json() == {"session": {"some": "data"}}
    max_age = cookie_attribute(response.headers["set-cookie"], "Max-Age")
    assert max_age is not None
    assert 14 * 24 * 3600 - 5 <= int(max_age) <= 14 * 24 * 3600
    assert await view(client) == {"session": {"some": "data"}}
    assert await clear(client) == {"session": {}}
    assert await view(client) == {"session": {}}


async def test_the_session_is_a_dict_and_every_method_is_saved(
    client: httpx.AsyncClient,
) -> None:
    await update(client, {"gone": 1, "kept": "yes"})
    body = (await client.post("/dict_methods")).json()
    assert body == {"popped": 1, "last": None, "copy": {"kept": "yes", "counter": 1}}
    assert await view(client) == {"session": {"kept": "yes", "counter": 1}}
    body = (await client.post("/dict_methods", params={"drop-last": "1"})).json()
    assert body["last"] == ["counter", 2]
    assert await view(client) == {"session": {"kept": "yes"}}


async def test_https_only_keeps_the_cookie_off_plain_http() -> None:
    async with asgi_client(starlette_app(https_only=True)) as client:
        response = await update(client, {"some": "data"}, "http://testserver")
        assert response.json() == {"session": {"some": "data"}}
        assert "secure" in response.headers["set-cookie"].lower()
        assert await view(client, "http://testserver") == {"session": {}}
        await update(client, {"some": "data"}, "https://testserver")
        assert await view(client, "https://testserver") == {"session": {"some": "data"}}
        assert await clear(client, "https://testserver") == {"session": {}}
        assert await view(client, "https://testserver") == {"session": {}}


async def test_cookie_path_of_a_mounted_app() -> None:
    app = Starlette(routes=[Mount("/second_app", app=starlette_app(path="/second_app"))])
    async with asgi_client(app) as client:
        response = await update(client, {"some": "data"}, "/second_app")
        assert response.status_code == 200
        assert cookie_attribute(response.headers["set-cookie"], "Path") == "/second_app"


async def test_an_invalid_cookie_gives_an_empty_session(client: httpx.AsyncClient) -> None:
    await update(client, {"some": "data"})
    client.cookies.clear()
    client.cookies.set("session", "invalid")
    assert await view(client) == {"session": {}}


async def test_max_age_none_makes_a_browser_session_cookie() -> None:
    async with asgi_client(starlette_app(max_age=None, session_cookie="sid")) as client:
        response = await update(client, {"some": "data"})
        assert response.json() == {"session": {"some": "data"}}
        set_cookie = response.headers["set-cookie"]
        assert set_cookie.startswith("sid=")
        assert cookie_attribute(set_cookie, "Max-Age") is None
        assert await view(client) == {"session": {"some": "data"}}
        client.cookies.delete("sid")
        assert await view(client) == {"session": {}}


async def test_domain_cookie() -> None:
    async with asgi_client(starlette_app(domain=".example.com")) as client:
        response = await update(client, {"some": "data"})
        assert cookie_attribute(response.headers["set-cookie"], "Domain") == ".example.com"


async def test_a_short_secret_key_is_refused_with_the_remedy() -> None:
    app = starlette_app(secret_key="example")
    with pytest.raises(ConfigurationError, match=r"at least 16 bytes.*token_urlsafe"):
        async with asgi_client(app):
            pass
