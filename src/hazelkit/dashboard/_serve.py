"""Serving a :class:`Dashboard` with uvicorn on this event loop (the loop of its Cluster)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator
from types import TracebackType
from typing import Self

import uvicorn

from hazelkit._core._exceptions import ConfigurationError, HazelkitError
from hazelkit.dashboard._app import Dashboard

__all__ = ["DashboardServer"]

START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


class DashboardServer:
    """uvicorn serving ``dashboard`` on ``host:port`` (port 0: a free one) as a task of
    the running event loop, so the dashboard shares the loop of its Cluster::

        async with DashboardServer(Dashboard(cluster), port=8080) as server:
            print(server.url)
            await server.wait()  # until Ctrl-C (with handle_signals) or cancelled

    ``async with`` returns once it accepts connections (ConfigurationError if it cannot
    listen there; HazelkitError if it did not start within 30 s) and, on exit, ends
    every event stream at once and stops within 10 s. ``handle_signals=True`` lets
    SIGINT and SIGTERM stop it (uvicorn's handling, main thread only).
    """

    def __init__(
        self,
        dashboard: Dashboard,
        *,
        host: str = "127.0.0.1",
        port: int = 8080,
        handle_signals: bool = False,
    ) -> None:
        self.dashboard = dashboard
        self.host = host
        self.port = port
        config = uvicorn.Config(
            dashboard,
            lifespan="on",
            log_config=None,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=int(STOP_TIMEOUT / 2),
        )
        self._server = _Server(config, dashboard, handle_signals)
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        """The dashboard's address (after start)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    async def __aenter__(self) -> Self:
        listener = _listen(self.host, self.port)
        self.port = listener.getsockname()[1]
        self._task = asyncio.create_task(self._serve(listener), name="hazelkit dashboard server")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + START_TIMEOUT
        while not self._server.started:
            if self._task.done():
                await self._task  # raises why it stopped
                raise HazelkitError("the dashboard server stopped while starting")
            if loop.time() > deadline:
                await self.stop()
                raise HazelkitError(f"the dashboard server did not start in {START_TIMEOUT:g} s")
            await asyncio.sleep(0.02)
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def wait(self, timeout: float | None = None) -> bool:
        """Wait until the server stops (a signal, or :meth:`stop`), at most ``timeout``
        seconds (None: no limit); whether it stopped."""
        if self._task is None:
            return True
        done, _ = await asyncio.wait({self._task}, timeout=timeout)
        return bool(done)

    async def stop(self) -> None:
        """Stop serving: streams end at once, the app shuts down (idempotent)."""
        task = self._task
        if task is None:
            return
        self._server.should_exit = True
        await self.dashboard.end_streams()
        done, _ = await asyncio.wait({task}, timeout=STOP_TIMEOUT)
        if not done:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _serve(self, listener: socket.socket) -> None:
        try:
            await self._server.serve(sockets=[listener])
        except SystemExit:
            # uvicorn exits when the app's startup fails; as a task that would end the loop.
            raise HazelkitError("the dashboard failed to start (see the log)") from None
        finally:
            listener.close()


class _Server(uvicorn.Server):
    """uvicorn's server, ending the dashboard's event streams before it waits for open
    connections, and leaving signals alone unless asked."""

    def __init__(self, config: uvicorn.Config, dashboard: Dashboard, signals: bool) -> None:
        super().__init__(config)
        self._dashboard = dashboard
        self._signals = signals

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        await self._dashboard.end_streams()
        await super().shutdown(sockets)

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if self._signals:
            with super().capture_signals():
                yield
        else:
            yield


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        listener.listen(128)
    except OSError as error:
        listener.close()
        raise ConfigurationError(f"the dashboard cannot listen on {host}:{port}: {error}") from None
    listener.setblocking(False)
    return listener
