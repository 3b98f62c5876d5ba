"""The dashboard's HTTP details: its files, security headers, error answers, and how a
call to the cluster becomes an answer."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from importlib import resources

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hazelkit._core._exceptions import ArgumentError, HazelkitError, NoSuchEntityError

__all__ = ["SECURITY_HEADERS", "bounded", "error", "static_file", "unavailable"]

#: What the page may load (only its own files) and how browsers must treat answers.
SECURITY_HEADERS = [
    (b"content-security-policy", b"default-src 'self'; img-src 'self' data:; "
     b"frame-ancestors 'none'; base-uri 'none'; form-action 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
]  # fmt: skip
STATIC = {
    "index.html": "text/html; charset=utf-8",
    "dashboard.js": "text/javascript; charset=utf-8",
    "dashboard.css": "text/css; charset=utf-8",
}


def static_file(name: str) -> Response:
    """One of the files shipped in the package (404 for any other name)."""
    if name not in STATIC:
        return error(404, "not found")
    body = resources.files("hazelkit.dashboard").joinpath("static", name).read_bytes()
    return Response(body, media_type=STATIC[name])


def error(status: int, message: str) -> Response:
    """An error answer: ``{"error": message}``."""
    return JSONResponse({"error": message}, status_code=status)


async def unavailable(request: Request, failure: Exception) -> Response:
    """A HazelkitError no endpoint handled: the cluster cannot be read now (503)."""
    return error(503, str(failure))


async def bounded(timeout: float, work: Callable[[], Awaitable[Response]]) -> Response:
    """``work()`` within ``timeout`` seconds, answering 404 (no such workflow), 400 (a
    bad argument), 504 (too slow) or 503 (another cluster failure) when it fails."""
    try:
        async with asyncio.timeout(timeout):
            return await work()
    except NoSuchEntityError as failure:
        return error(404, str(failure))
    except ArgumentError as failure:
        return error(400, str(failure))
    except TimeoutError:
        return error(504, f"the cluster did not answer within {timeout:g} s")
    except HazelkitError as failure:
        return error(503, str(failure))
