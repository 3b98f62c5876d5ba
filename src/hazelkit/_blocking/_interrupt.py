"""Blocking waits that an interrupt (Ctrl-C) really stops, leaving nothing taken.

A plain portal call keeps running on the event loop when the waiting thread is
interrupted: a lock acquired a moment later would belong to the still-living thread and
be renewed for ever. :func:`call_interruptibly` cancels the coroutine instead and, if it
had already taken something (a lock, a permit, a subscription), gives it back with
``undo`` before the interrupt goes on.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from typing import Any, Generic, TypeVar

import anyio

from hazelkit._blocking._runner import Runner
from hazelkit._core._cleanup import CLEANUP_TIMEOUT
from hazelkit._core._exceptions import HazelkitError

__all__ = ["call_interruptibly"]

logger = logging.getLogger("hazelkit")
T = TypeVar("T")


class _Call(Generic[T]):
    """One call on the loop, and who gives back its result if the caller gave up."""

    def __init__(
        self,
        func: Callable[..., Awaitable[T]],
        args: tuple[Any, ...],
        undo: Callable[[T], Awaitable[object]] | None,
    ) -> None:
        self._func = func
        self._args = args
        self._undo = undo
        self._mutex = threading.Lock()
        self._abandoned = False
        self._kept: list[T] = []
        self.done = threading.Event()

    async def run(self) -> T:
        try:
            value = await self._func(*self._args)
            with self._mutex:
                keep = not self._abandoned
                if keep:
                    self._kept.append(value)
            if not keep:  # the caller is gone: nobody else will give it back
                await self.give_back(value)
            return value
        finally:
            self.done.set()

    def abandon(self) -> list[T]:
        """Mark the call abandoned; what it returned before that is the caller's to undo."""
        with self._mutex:
            self._abandoned = True
            return list(self._kept)

    async def give_back(self, value: T) -> None:
        if self._undo is None:
            return
        try:
            with anyio.CancelScope(shield=True), anyio.move_on_after(CLEANUP_TIMEOUT):
                await self._undo(value)
        except HazelkitError:  # a lapsed lease, a closed Cluster: nothing left to give back
            logger.warning("could not give back %r after an interrupt", value, exc_info=True)


def call_interruptibly(
    run: Runner,
    func: Callable[..., Awaitable[T]],
    *args: Any,
    undo: Callable[[T], Awaitable[object]] | None = None,
) -> T:
    """Run ``await func(*args)`` on the loop of ``run`` and return its result.

    If the waiting thread is interrupted (KeyboardInterrupt, or any exception a signal
    handler raises), the coroutine is cancelled; if it had returned a value all the
    same, ``await undo(value)`` gives it back (waiting at most CLEANUP_TIMEOUT seconds
    for it) before the interrupt propagates.
    """
    call = _Call(func, args, undo)
    future = _start(run, call)
    try:
        return future.result()
    except BaseException:
        kept = call.abandon()
        future.cancel()
        call.done.wait(CLEANUP_TIMEOUT)
        for value in kept:
            run(call.give_back, value)
        raise


def _start(run: Runner, call: _Call[T]) -> Future[T]:
    run.check()
    try:
        return run.portal.start_task_soon(call.run)
    except RuntimeError as error:
        translated = run.portal_error(error)
        if translated is error:
            raise
        raise translated from None
