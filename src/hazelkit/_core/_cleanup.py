"""Undo and cleanup steps that must run to their end, even while their caller is cancelled.

A cancelled wait for a lock must leave nothing taken, and a granted lock must never be
dropped because a cancellation arrived while the waiter was tidying up. The helpers
here are the two halves of that rule:

- :func:`finish` and :func:`run_cleanup` run a step as a task owned by the Cluster and
  wait for it shielded from cancellation (for undo steps the caller must see done);
- :func:`cleanup_soon` starts a step in the background without waiting (for tidying up
  once the caller holds something it must not lose: no await, so no cancellation point).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any, TypeVar

import anyio

from hazelkit._core import _lowlevel as lowlevel
from hazelkit._core._exceptions import (
    ClusterClosedError,
    HazelkitError,
    IndeterminateOperationError,
)

if TYPE_CHECKING:
    from collections.abc import Coroutine

    from hazelkit._core._cluster import Cluster

__all__ = ["CLEANUP_TIMEOUT", "cleanup_soon", "finish", "run_cleanup", "spawn_step"]

logger = logging.getLogger("hazelkit")
T = TypeVar("T")

#: How long an undo step may take before a cancelled caller stops waiting for it (the
#: step still runs to its end in the background, owned by the Cluster).
CLEANUP_TIMEOUT = 5.0


def spawn_step(
    cluster: Cluster, step: Coroutine[Any, Any, T], *, name: str
) -> asyncio.Task[tuple[bool, Any]]:
    """Start ``step`` as a task of ``cluster``, its outcome caught as ``(ok, value)``.

    Raises ClusterClosedError once the Cluster is closing; ``step`` is then closed, never
    left un-awaited.
    """
    try:
        return lowlevel.spawn(cluster, _outcome(step), name=name)
    except ClusterClosedError:
        step.close()
        raise


async def finish(cluster: Cluster, step: Coroutine[Any, Any, T], *, name: str) -> T:
    """Run ``step`` to its end even if the caller is cancelled meanwhile; return its result.

    The step runs as a task owned by ``cluster``; the caller waits for it at most
    :data:`CLEANUP_TIMEOUT` seconds, shielded from cancellation. A cancellation that
    arrives meanwhile is re-raised once the step is done (its result is then dropped).
    Raises the step's error, IndeterminateOperationError if the step takes longer (it
    goes on in the background, so whether it happens is not known yet), or
    ClusterClosedError if the Cluster closes first.
    """
    task = spawn_step(cluster, step, name=name)
    cancelled = False
    deadline = time.monotonic() + CLEANUP_TIMEOUT
    with anyio.CancelScope(shield=True):
        while not task.done() and (remaining := deadline - time.monotonic()) > 0:
            try:
                await asyncio.wait({task}, timeout=remaining)
            except asyncio.CancelledError:
                cancelled = True
    if not task.done():
        if cancelled:
            raise asyncio.CancelledError
        raise IndeterminateOperationError(
            f"{name} did not finish within {CLEANUP_TIMEOUT:g} s; it goes on in the"
            " background and may or may not take effect",
            operation=name,
        )
    if task.cancelled():
        raise ClusterClosedError(f"{name} was stopped: the Cluster closed")
    ok, value = task.result()
    if cancelled:
        if not ok:
            logger.warning("%s failed", name, exc_info=value)
        raise asyncio.CancelledError
    if not ok:
        raise value
    result: T = value
    return result


async def run_cleanup(cluster: Cluster, step: Coroutine[Any, Any, object], *, name: str) -> None:
    """Like :func:`finish` for an undo step whose failure only needs logging: the lease
    or entry it undoes lapses on its own. Does nothing once the Cluster is closed."""
    try:
        await finish(cluster, step, name=name)
    except ClusterClosedError:
        return
    except (HazelkitError, OSError):
        logger.warning("%s failed", name, exc_info=True)


def cleanup_soon(cluster: Cluster, step: Coroutine[Any, Any, object], *, name: str) -> None:
    """Run ``step`` in the background, without waiting: failures are logged, and a
    closing Cluster skips it (closing tears listeners down anyway)."""
    try:
        task = spawn_step(cluster, step, name=name)
    except ClusterClosedError:
        return
    task.add_done_callback(lambda done: _log_failure(done, name))


def _log_failure(task: asyncio.Task[tuple[bool, Any]], name: str) -> None:
    if not task.cancelled():
        ok, value = task.result()
        if not ok:
            logger.warning("%s failed", name, exc_info=value)


async def _outcome(step: Coroutine[Any, Any, T]) -> tuple[bool, Any]:
    # Errors travel as values, so that the Cluster does not log an expected failure
    # (a lapsed lease, say) as a crashed background task.
    try:
        return True, await step
    except Exception as error:
        return False, error
