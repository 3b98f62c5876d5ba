"""Running an embedded-grid call in the calling thread, without the hop to the loop thread.

A blocking call normally hands its coroutine to the Cluster's event loop thread and waits
(an anyio portal call, some 80-100 µs of thread hand-offs). On the embedded grid that
hop is the whole cost: a Map ``get`` is a dictionary lookup under the grid's lock. The
grid is built to be used from several threads and event loops at once (one re-entrant
lock around every critical section; waiters woken on their own loop), so a call that
only reads and writes the grid may run in the calling thread instead.

Which calls may: those that touch nothing bound to the Cluster's loop (no background
task, no listener, no asyncio primitive of the Cluster). The blocking facade names them
(:meth:`Runner.direct <hazelkit._blocking._runner.Runner.direct>`): the Map's data
operations. Such a call runs on this thread's own private event loop, set as the
running loop while its coroutine is driven: it usually completes without ever
suspending (then no loop iteration happens at all); a pause it takes (a backoff after a
lost compare-and-set race) is finished on that private loop, in this thread.

``HAZELKIT_BLOCKING_DIRECT=0`` (read when a BlockingCluster connects) turns this off, so
every call hops to the loop thread as before (``hazelkit bench blocking`` measures both).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Coroutine, Generator
from typing import Any, TypeVar

from hazelkit._core._loops import allow_grid_calls

__all__ = ["DIRECT_ENV", "direct_enabled", "run_here"]

T = TypeVar("T")

#: The environment variable that turns direct calls off (``0``, ``false``, ``no``, ``off``).
DIRECT_ENV = "HAZELKIT_BLOCKING_DIRECT"
_OFF = {"0", "false", "no", "off"}


def direct_enabled() -> bool:
    """Whether :data:`DIRECT_ENV` allows direct calls (they are on unless it says off)."""
    return os.environ.get(DIRECT_ENV, "1").strip().lower() not in _OFF


class _PrivateLoop:
    """One thread's private event loop, closed when the thread's storage is dropped."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        allow_grid_calls(self.loop)

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # at interpreter exit modules may be gone
            self.loop.close()


class _ThreadLoops(threading.local):
    private: _PrivateLoop | None = None


_loops = _ThreadLoops()


def _private_loop() -> asyncio.AbstractEventLoop:
    private = _loops.private
    if private is None:
        private = _loops.private = _PrivateLoop()
    return private.loop


def run_here(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` to its end in the calling thread and return its result.

    The caller makes sure no event loop runs in this thread. The coroutine is driven
    directly while it completes without waiting (bare ``sleep(0)`` yields are simply
    resumed: other tasks of this thread do not exist); if it waits on a future, it is
    finished on this thread's private loop. Its exception, if any, propagates.
    """
    loop = _private_loop()
    asyncio.events._set_running_loop(loop)
    try:
        pending: Any = None
        while pending is None:
            try:
                pending = coroutine.send(None)
            except StopIteration as stop:
                result: T = stop.value
                return result
    finally:
        asyncio.events._set_running_loop(None)
    return _finish(loop, coroutine, pending)


def _finish(loop: asyncio.AbstractEventLoop, coroutine: Coroutine[Any, Any, T], pending: Any) -> T:
    """Finish a coroutine suspended on ``pending`` (a future of ``loop``) on ``loop``."""
    task = loop.create_task(_Resumed(coroutine, pending).wait())
    try:
        result: T = loop.run_until_complete(task)
        return result
    except BaseException:
        if not task.done():  # interrupted (Ctrl-C): cancel it, leaving nothing running
            task.cancel()
            with contextlib.suppress(BaseException):
                loop.run_until_complete(task)
        raise


class _Resumed:
    """Drives a coroutine that is suspended on ``pending`` from inside a task."""

    def __init__(self, coroutine: Coroutine[Any, Any, Any], pending: Any) -> None:
        self._coroutine = coroutine
        self._pending = pending

    def __await__(self) -> Generator[Any, Any, Any]:
        coroutine, pending = self._coroutine, self._pending
        while True:
            try:
                try:
                    sent = yield pending
                except BaseException as error:  # a cancellation thrown into the task
                    pending = coroutine.throw(error)
                else:
                    pending = coroutine.send(sent)
            except StopIteration as stop:
                return stop.value

    async def wait(self) -> Any:
        return await self
