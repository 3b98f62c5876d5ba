"""Noticing a fork(): a Cluster's connection and event loop stay with the parent process.

A child made by ``fork()`` (gunicorn ``--preload``, ``multiprocessing`` with the fork
start method) inherits the parent's Cluster objects, but not the threads and event loops
that ran them: a blocking call would wait forever for a loop thread that does not exist
in the child. ``os.register_at_fork`` counts forks in the child, and every Cluster and
blocking runner compares the count it was started under with the current one.
"""

from __future__ import annotations

import os

from hazelkit._core._exceptions import ForkedClusterError

__all__ = ["check_same_process", "fork_generation"]

_generation = [0]


def _count_fork_in_child() -> None:
    _generation[0] += 1


os.register_at_fork(after_in_child=_count_fork_in_child)


def fork_generation() -> int:
    """How many forks lie between the first process and this one (0 in the first)."""
    return _generation[0]


def check_same_process(generation: int, what: str) -> None:
    """Raise ForkedClusterError if ``what`` was started under another fork generation,
    that is, in a parent of this process."""
    if generation != _generation[0]:
        raise ForkedClusterError(
            f"{what} was connected in a parent process, before fork(), and cannot be used "
            f"in this child process (pid {os.getpid()}): its connection and event loop "
            "stayed with the parent. Connect in the child instead (in gunicorn's "
            "post_fork hook, or in the function a multiprocessing process runs)."
        )
