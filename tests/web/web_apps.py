"""The same small app for FastAPI and for Flask, with the session behaviours under test.

Every route is ``/ACTION?param=...``; :func:`act` holds what each action does to the
session, so both frameworks run exactly the same logic. Also runnable as a subprocess:
``python -m uvicorn --factory web_apps:env_app`` reads its settings from the environment.
"""

from __future__ import annotations

import html
import os
import secrets
from collections.abc import MutableMapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from hazelkit.web import HazelkitSessionInterface, SessionMiddleware, SessionTooLargeError

SECRET = "test-secret-key-0123456789abcdef"


def act(action: str, session: MutableMapping[str, Any], params: dict[str, str]) -> tuple[int, Any]:
    """Apply ``action`` to ``session``: the status and JSON body of the response."""
    key = params.get("key", "k")
    if action == "get":
        return 200, {"value": session.get(key)}
    if action == "set":
        session[key] = params["value"]
        return 200, {"ok": True}
    if action == "append":  # an in-place change of a stored list
        items = session.get(key)
        if items is None:
            session[key] = [params["item"]]
        else:
            items.append(params["item"])
        return 200, {"ok": True}
    if action == "delete":
        del session[key]
        return 200, {"ok": True}
    if action == "all":
        return 200, dict(session)
    if action == "login":
        session.regenerate()  # type: ignore[attr-defined]
        session["user"] = params["user"]
        return 200, {"ok": True}
    if action == "logout":
        session.clear()
        return 200, {"ok": True}
    if action == "big":
        try:
            session["big"] = secrets.token_hex(int(params["size"]) // 2)  # incompressible
        except SessionTooLargeError as error:
            return 413, {"error": str(error)}
        return 200, {"ok": True}
    if action == "static":
        return 200, {"static": True}
    return 404, {"error": f"no action {action}"}


def page(session: MutableMapping[str, Any]) -> str:
    """The browser test's page: who is logged in, and the login and logout forms."""
    user = html.escape(str(session.get("user", "anonymous")))
    return (
        "<!doctype html><title>sessions</title>"
        f'<p id="user">{user}</p>'
        '<form method="post" action="/login?user=ada&next=/page">'
        '<button id="login">log in</button></form>'
        '<form method="post" action="/logout?next=/page">'
        '<button id="logout">log out</button></form>'
    )


def fastapi_app(**session_options: Any) -> FastAPI:
    """The app for FastAPI, with :class:`SessionMiddleware` configured by the options."""
    app = FastAPI()
    session_options.setdefault("allow_memory", True)  # the tests' grids may be embedded
    app.add_middleware(SessionMiddleware, secret_key=SECRET, **session_options)

    @app.get("/page")
    async def show_page(request: Request) -> HTMLResponse:
        return HTMLResponse(page(request.session))

    @app.api_route("/{action}", methods=["GET", "POST"])
    async def run_action(action: str, request: Request) -> Response:
        params = dict(request.query_params)
        status, body = act(action, request.session, params)
        if "next" in params:
            return RedirectResponse(params["next"], status_code=303)
        return JSONResponse(body, status_code=status)

    return app


def flask_app(**session_options: Any) -> Any:
    """The app for Flask, with :class:`HazelkitSessionInterface` configured likewise."""
    import flask

    app = flask.Flask(__name__)
    session_options.setdefault("allow_memory", True)
    # hazelkit's lifetimes, not Flask's (tested in test_session_flask.py), so that both
    # frameworks answer the shared tests alike.
    session_options.setdefault("max_age", 8 * 3600)
    session_options.setdefault("persistent", True)
    app.session_interface = HazelkitSessionInterface(secret_key=SECRET, **session_options)

    @app.get("/page")
    def show_page() -> str:
        return page(flask.session)

    @app.route("/<action>", methods=["GET", "POST"])
    def run_action(action: str) -> Any:
        params = dict(flask.request.args)
        status, body = act(action, flask.session, params)
        if "next" in params:
            return flask.redirect(params["next"], code=303)
        return flask.jsonify(body), status

    return app


def env_app() -> FastAPI:
    """The FastAPI app configured from ``HAZELKIT_URL`` and ``WEB_TEST_MAP`` (for the
    multi-process test)."""
    return fastapi_app(url=os.environ["HAZELKIT_URL"], map_name=os.environ["WEB_TEST_MAP"])
