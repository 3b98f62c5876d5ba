"""Running a Cluster's coroutines from blocking code, through an anyio portal."""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable, Coroutine
from typing import Any, Generic, ParamSpec, TypeVar

from anyio.from_thread import BlockingPortal

from hazelkit._blocking._direct import direct_enabled, run_here
from hazelkit._core._exceptions import ClusterClosedError, HazelkitError
from hazelkit._core._fork import check_same_process, fork_generation
from hazelkit._core._subscription import Subscription

__all__ = ["BlockingIterator", "Runner"]

P = ParamSpec("P")
T = TypeVar("T")


class Runner:
    """Runs coroutines of one Cluster on its portal's event loop, from any thread.

    Its own state says why a call cannot run (``stopped`` once the BlockingCluster closed
    its portal; the loop's thread calling itself; a child process after ``fork()``, where
    the loop's thread does not exist and a call would wait forever), so anyio's errors
    are never read by their message text.
    """

    def __init__(self, portal: BlockingPortal, embedded: Callable[[], bool] | None = None) -> None:
        self.portal = portal
        #: Tells whether the Cluster's backend is (still) the plain embedded grid; None
        #: (or ``HAZELKIT_BLOCKING_DIRECT=0`` at construction) turns direct calls off.
        self._embedded = embedded if direct_enabled() else None
        #: Set once the portal is stopped: every later call raises ClusterClosedError.
        self.stopped = False
        self._loop_thread: int = portal.call(threading.get_ident)
        self._fork_generation = fork_generation()

    @property
    def forked(self) -> bool:
        """True in a child process after ``fork()``: the portal's thread is the parent's."""
        return self._fork_generation != fork_generation()

    def check(self) -> None:
        """Raise the hazelkit error for a call that cannot run: after close, or from
        the loop's own thread (where it would wait for itself); in a child process after
        ``fork()`` (ForkedClusterError)."""
        check_same_process(self._fork_generation, "this BlockingCluster")
        if self.stopped:
            raise ClusterClosedError("this BlockingCluster is closed")
        if threading.get_ident() == self._loop_thread:
            raise HazelkitError(
                "a blocking hazelkit call was made on the cluster's own event loop "
                "(in a watch or listener callback, say), where it would wait for "
                "itself; use the async API there"
            )

    def portal_error(self, error: RuntimeError) -> Exception:
        """The hazelkit error for the portal's RuntimeError: ClusterClosedError if the
        portal stopped meanwhile, else ``error`` itself (a bug, not a state)."""
        return ClusterClosedError("this BlockingCluster is closed") if self.stopped else error

    def __call__(
        self, func: Callable[P, Coroutine[Any, Any, T]], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run ``await func(*args, **kwargs)`` on the loop; ClusterClosedError once the
        BlockingCluster (and so its loop) is closed."""
        self.check()
        call = functools.partial(func, *args, **kwargs) if kwargs else func
        try:
            result: T = self.portal.call(call, *(() if kwargs else args))
        except RuntimeError as error:
            translated = self.portal_error(error)
            if translated is error:
                raise
            raise translated from None
        return result

    def direct(
        self, func: Callable[P, Coroutine[Any, Any, T]], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Like calling the runner, for a call that touches only the grid (no background
        task, listener or asyncio object of the Cluster's loop): on the embedded grid it
        runs in the calling thread (see :mod:`hazelkit._blocking._direct`), elsewhere on
        the loop. Same errors either way (ClusterClosedError, ForkedClusterError)."""
        self.check()
        embedded = self._embedded
        if embedded is None or not embedded() or asyncio.events._get_running_loop() is not None:
            return self(func, *args, **kwargs)
        return run_here(func(*args, **kwargs))


class BlockingIterator(Generic[T]):
    """A blocking iterator over a :class:`~hazelkit._core._subscription.Subscription`."""

    def __init__(self, run: Runner, subscription: Subscription[T]) -> None:
        self._run = run
        self._subscription = subscription

    def __iter__(self) -> BlockingIterator[T]:
        return self

    def __next__(self) -> T:
        try:
            return self._run(self._subscription.get)
        except StopAsyncIteration:
            raise StopIteration from None

    def get(self, timeout: float | None = None) -> T:
        """The next item, waiting up to ``timeout`` seconds (OperationTimeoutError after)."""
        return self._run(self._subscription.get, timeout)

    def close(self) -> None:
        """Stop receiving. Idempotent."""
        self._run(self._subscription.aclose)

    def __enter__(self) -> BlockingIterator[T]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
