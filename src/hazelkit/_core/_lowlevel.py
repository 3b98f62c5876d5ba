"""The low-level seam: what hazelkit's capabilities need from a Cluster, and nothing more.

A Cluster's public API is for applications. The features built on it (structures, locks,
streams, the entity runtime, sessions) also need the backend it is connected to, a way to
run background tasks that end when it closes, close steps, and an "is it open" check.
They get them here, through functions of the Cluster, as anyio's ``lowlevel`` serves code
built on anyio. :mod:`hazelkit.lowlevel` publishes the same functions for code outside
hazelkit that builds primitives of its own (and for tests that reach the raw bytes).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

from hazelkit._core._local import ClusterLocal

if TYPE_CHECKING:
    from hazelkit._backends.protocol import Backend
    from hazelkit._core._cluster import Cluster

__all__ = ["ClusterLocal", "backend", "check_open", "on_close", "spawn"]

T = TypeVar("T")


def backend(cluster: Cluster) -> Backend:
    """The backend ``cluster`` is connected to: stores of bytes, the protocol every
    backend implements (``hazelkit._backends.protocol``, not a stable API). Raises
    ClusterClosedError unless it is open."""
    cluster._check_open()
    return cluster._backend


def check_open(cluster: Cluster) -> None:
    """Raise ClusterClosedError unless ``cluster`` is started and not closing."""
    cluster._check_open()


def spawn(cluster: Cluster, coroutine: Coroutine[Any, Any, T], *, name: str) -> asyncio.Task[T]:
    """Run ``coroutine`` as a background task owned by ``cluster``: cancelled (and
    awaited) when it closes; an exception that escapes the task is logged, never lost.
    Raises ClusterClosedError (closing the coroutine) if ``cluster`` is not open."""
    return cluster._spawn(coroutine, name=name)


def on_close(cluster: Cluster, closer: Callable[[], Awaitable[None]]) -> None:
    """Await ``closer()`` when ``cluster`` closes, in reverse order of registration,
    before its background tasks are cancelled. A closer's error is logged."""
    cluster._on_close(closer)
