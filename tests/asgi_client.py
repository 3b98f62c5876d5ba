"""An httpx client for an ASGI app in this process, with the app's lifespan run around it
as a server runs it (startup before the first request, shutdown after the last).

Starlette's TestClient would do the same but runs each app in a portal thread of its own
and, on Starlette 1.x, warns unless ``httpx2`` is installed; this needs only httpx.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

LIFESPAN_TIMEOUT = 30.0


@asynccontextmanager
async def asgi_client(
    app: Any, base_url: str = "http://testserver"
) -> AsyncIterator[httpx.AsyncClient]:
    """Run ``app``'s lifespan startup, yield a client of it, then run its shutdown.

    Raises RuntimeError with the app's message if its startup fails."""
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    task = asyncio.create_task(app(scope, inbox.get, outbox.put))
    try:
        await _step(inbox, outbox, task, "startup")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            yield client
        await _step(inbox, outbox, task, "shutdown")
    finally:
        if not task.done():
            task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def _step(
    inbox: asyncio.Queue[Any], outbox: asyncio.Queue[Any], app: asyncio.Task[Any], step: str
) -> None:
    """Send the lifespan ``step`` and wait for the app's answer, or for the app's error."""
    await inbox.put({"type": f"lifespan.{step}"})
    answer = asyncio.ensure_future(outbox.get())
    done, _ = await asyncio.wait(
        {answer, app}, timeout=LIFESPAN_TIMEOUT, return_when="FIRST_COMPLETED"
    )
    if answer not in done:
        answer.cancel()
        if app in done:
            app.result()  # the app's own error
        raise RuntimeError(f"the app's lifespan {step} did not answer")
    message = answer.result()
    if message["type"] != f"lifespan.{step}.complete":
        raise RuntimeError(f"the app's lifespan {step} failed: {message.get('message', '')}")
