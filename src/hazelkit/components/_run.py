"""Running a System as a service: until SIGTERM or SIGINT, then a graceful stop."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from hazelkit.components._system import System

__all__ = ["run"]

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


async def run(system: System, *, signals: Iterable[signal.Signals] = STOP_SIGNALS) -> None:
    """Start ``system``, wait for one of ``signals`` (SIGTERM and SIGINT), stop it.

    ``asyncio.run(hazelkit.components.run(system))`` is a service's whole ``main``.
    The signals are handled by the event loop from before the start (a signal during
    the start stops the System as soon as it has started) until the stop is over; the
    handlers that were there before are put back afterwards. The stop is bounded by
    the System's stop timeouts; a second signal does not cut it short. Raises what
    :meth:`System.start` and :meth:`System.stop` raise. Call it from the main thread.
    """
    received = asyncio.Event()
    with _handling(list(signals), received.set):
        async with system:
            await received.wait()


@contextlib.contextmanager
def _handling(signals: list[signal.Signals], callback: Callable[[], None]) -> Iterator[None]:
    loop = asyncio.get_running_loop()
    previous = {number: signal.getsignal(number) for number in signals}
    installed: list[signal.Signals] = []
    try:
        for number in signals:
            _install(loop, number, callback)
            installed.append(number)
        yield
    finally:
        for number in installed:
            _uninstall(loop, number, previous[number])


def _install(
    loop: asyncio.AbstractEventLoop, number: signal.Signals, callback: Callable[[], None]
) -> None:
    try:
        loop.add_signal_handler(number, callback)
    except NotImplementedError:  # an event loop without signal support (Windows)
        signal.signal(number, lambda _n, _f: loop.call_soon_threadsafe(callback))


def _uninstall(loop: asyncio.AbstractEventLoop, number: signal.Signals, previous: Any) -> None:
    with contextlib.suppress(NotImplementedError):
        loop.remove_signal_handler(number)
    if previous is not None:  # None: a handler not installed from Python, left as it is
        signal.signal(number, previous)
