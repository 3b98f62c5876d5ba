"""Waiting for a lease (a lock, a permit): bounded, retried, and safe to cancel.

:func:`wait_for_grant` calls an *attempt* until it takes something, woken early by a
:class:`~._waiting.KeyWatch` and re-checking every poll interval regardless. It
keeps three promises:

- *Bounded*: every grid call, not only the pauses between them, ends by the timeout
  (plus :data:`ATTEMPT_GRACE` for an attempt under way), even when a failing member
  makes one call hang for the client's whole operation timeout.
- *Retried*: an attempt that fails because the grid is briefly unreachable (a member
  failing over) is tried again until the timeout; without one, until attempts have
  failed for :data:`GIVE_UP_AFTER` seconds in a row.
- *Cancellation-safe*: a cancelled or timed-out wait leaves nothing taken, and once an
  attempt took something nothing awaits any more, so a cancellation arriving then
  cannot drop the grant (it reaches the caller's next await instead).

Waiting tasks of one Cluster take turns (see :class:`~._waiting.KeyWatch`): one
polls the grid, the rest queue locally in arrival order, and a newcomer queues behind
them instead of trying first. So a lock contended by many tasks of one process costs
the grid one waiter's calls, not one per task; across processes nothing is fair.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Generic, TypeVar

from hazelkit._coordination._waiting import WAITER_TTL
from hazelkit._core._cleanup import cleanup_soon, run_cleanup
from hazelkit._core._exceptions import (
    ClusterUnavailableError,
    HazelkitError,
    IndeterminateOperationError,
    OperationTimeoutError,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from hazelkit._coordination._waiting import Announcement, KeyWatch, WaiterRegistry
    from hazelkit._core._cluster import Cluster

__all__ = ["ATTEMPT_GRACE", "GIVE_UP_AFTER", "wait_for_grant"]

logger = logging.getLogger("hazelkit")
T = TypeVar("T")

#: How long past its timeout a wait lets an attempt under way finish before cutting it
#: off (an attempt cut off leaves nothing taken).
ATTEMPT_GRACE = 0.5
#: Without a timeout, how long attempts may fail in a row (the grid unreachable) before
#: the wait gives up and raises the last error.
GIVE_UP_AFTER = 60.0
#: Errors after which an attempt is tried again: the grid is briefly unreachable.
# A take whose reply was lost undoes its record and tries again: a token may be skipped,
# never granted twice.
_TRANSIENT = (ClusterUnavailableError, IndeterminateOperationError, OperationTimeoutError)


class _Attempts(Generic[T]):
    """Calls ``attempt``; a transient failure counts as "not granted", up to a point."""

    def __init__(self, attempt: Callable[[], Awaitable[T | None]], deadline: float | None):
        self._attempt = attempt
        self.deadline = deadline
        self.last_error: HazelkitError | None = None
        self._failing_since: float | None = None

    async def once(self) -> T | None:
        try:
            result = await self._attempt()
        except _TRANSIENT as error:
            now = asyncio.get_running_loop().time()
            if self._failing_since is None:
                self._failing_since = now
            if self.deadline is None and now - self._failing_since > GIVE_UP_AFTER:
                raise
            logger.info("an attempt to acquire failed; trying again", exc_info=True)
            self.last_error = error
            return None
        self._failing_since = None
        return result

    def remaining(self) -> float | None:
        if self.deadline is None:
            return None
        return self.deadline - asyncio.get_running_loop().time()


async def wait_for_grant(
    cluster: Cluster,
    attempt: Callable[[], Awaitable[T | None]],
    *,
    watch: KeyWatch,
    waiters: WaiterRegistry,
    owner: object,
    timeout: float | None,
    poll: float,
    what: str,
) -> T:
    """Call ``attempt`` until it returns something, re-checking at least every ``poll``
    seconds and whenever ``watch`` sees a change (see the module for the promises).

    Raises OperationTimeoutError after ``timeout`` seconds (None: no limit; 0: a single
    attempt, with no listener and no waiter announced). ``attempt`` must leave nothing
    behind when it returns None, fails, or is cancelled.
    """
    loop = asyncio.get_running_loop()
    deadline = None if timeout is None else loop.time() + timeout
    attempts = _Attempts(attempt, deadline)
    cutoff = None if deadline is None else deadline + ATTEMPT_GRACE
    try:
        async with asyncio.timeout_at(cutoff) as scope:
            # A newcomer tries at once, unless tasks of this Cluster queue already: then
            # it is surely taken, and it queues behind them.
            result = None if timeout != 0 and watch.queued() else await attempts.once()
            if result is None and timeout != 0:
                result = await _wait(cluster, attempts, watch, waiters, owner, poll)
    except TimeoutError:
        if not scope.expired():
            raise
        result = None
    if result is None:
        error = OperationTimeoutError(f"{what} was not acquired within {timeout:g} s")
        raise error from attempts.last_error
    return result


async def _wait(
    cluster: Cluster,
    attempts: _Attempts[T],
    watch: KeyWatch,
    waiters: WaiterRegistry,
    owner: object,
    poll: float,
) -> T | None:
    """Wait as a listening waiter (announced to other nodes once it has waited a
    moment); None when the deadline passed."""
    waiter = waiters.new_waiter()
    announcement: Announcement | None = None
    try:
        await watch.start()
        announcement = waiters.announce_later(waiter, owner)
        result = None
        if await _take_turn(attempts, watch, waiters, waiter):
            try:
                result = await _poll(attempts, watch, waiters, waiter, poll)
            finally:
                watch.stop_waiting()
                watch.end_turn()  # synchronous: nothing awaits after a grant
    except BaseException:
        # Nothing granted: tidy up before the error goes on, so the waiter is gone.
        watch.stop_waiting()
        await run_cleanup(cluster, _leave(watch, announcement), name="stop waiting")
        raise
    watch.stop_waiting()
    if announcement is not None:
        announcement.stop()
    if result is None:
        await run_cleanup(cluster, _leave(watch, announcement), name="stop waiting")
    else:  # granted: no await from here on (see the module)
        cleanup_soon(cluster, _leave(watch, announcement), name="stop waiting")
    return result


async def _take_turn(
    attempts: _Attempts[T], watch: KeyWatch, waiters: WaiterRegistry, waiter: str
) -> bool:
    """Queue behind this Cluster's other waiters; False if the deadline passed first.

    The place in the queue is kept for the whole wait (one pending acquire), while the
    announcement is refreshed every ``WAITER_TTL / 3`` so other nodes keep counting
    this waiter. Giving up (deadline, cancellation) takes no turn, or hands back one
    granted meanwhile, without awaiting.
    """
    queued = asyncio.ensure_future(watch.take_turn())
    granted = False
    try:
        while True:
            remaining = attempts.remaining()
            if remaining is not None and remaining <= 0:
                return False
            step = WAITER_TTL / 3 if remaining is None else min(WAITER_TTL / 3, remaining)
            done, _ = await asyncio.wait({queued}, timeout=step)
            if done:
                queued.result()
                granted = True
                return True
            await waiters.refresh(waiter)
    finally:
        if not granted:
            queued.cancel()  # still queued: leaves the queue (passing on a turn just given)
            if queued.done() and not queued.cancelled() and queued.exception() is None:
                watch.end_turn()  # it had the turn already: hand it on


async def _poll(
    attempts: _Attempts[T], watch: KeyWatch, waiters: WaiterRegistry, waiter: str, poll: float
) -> T | None:
    loop = asyncio.get_running_loop()
    refreshed = loop.time()
    while True:
        watch.clear()
        result = await attempts.once()
        remaining = attempts.remaining()
        if result is not None or (remaining is not None and remaining <= 0):
            return result
        await watch.wait(poll if remaining is None else min(poll, remaining))
        if loop.time() - refreshed > WAITER_TTL / 3:
            refreshed = loop.time()
            await waiters.refresh(waiter)


async def _leave(watch: KeyWatch, announcement: Announcement | None) -> None:
    try:
        await watch.close()
    finally:
        if announcement is not None:
            await announcement.withdraw()
