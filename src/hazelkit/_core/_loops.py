"""Event loops besides a Cluster's own on which its grid calls may run.

A Cluster refuses calls from another running loop (WrongEventLoopError): its tasks,
listeners and asyncio objects belong to its own. The blocking facade's direct calls
(:mod:`hazelkit._blocking._direct`) are the exception: they touch only the embedded grid,
which is safe from any thread and loop, and run on a private loop of the calling thread,
registered here.
"""

from __future__ import annotations

import asyncio
import weakref

__all__ = ["allow_grid_calls", "grid_calls_allowed"]

_allowed: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()


def allow_grid_calls(loop: asyncio.AbstractEventLoop) -> None:
    """Let ``loop`` run grid-only calls of any Cluster (for the facade's private loops)."""
    _allowed.add(loop)


def grid_calls_allowed(loop: asyncio.AbstractEventLoop) -> bool:
    """Whether ``loop`` was registered with :func:`allow_grid_calls`."""
    return loop in _allowed
