"""A Cluster belongs to one process and one event loop, and says so when misused.

Each misuse (a child process after fork(), a second event loop, a closed Cluster) fails
at once with its own hazelkit error, on both backends, instead of hanging or failing deep
inside the Hazelcast client.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

import pytest

import hazelkit
from hazelkit import lowlevel

#: How long a test waits for a forked child to report (it should take milliseconds).
CHILD_TIMEOUT = 30.0


def _report_in_child(write: int, attempt: Callable[[], object]) -> None:
    """In a forked child: run ``attempt`` and write the name of what it raised, then exit
    without running the parent's exit handlers."""
    try:
        attempt()
        outcome = "no error"
    except BaseException as error:  # the child reports everything to the parent
        outcome = f"{type(error).__name__}: {error}"
    os.write(write, outcome.encode())
    os._exit(0)


def _fork_and_report(attempt: Callable[[], object]) -> str:
    """Fork; the child runs ``attempt``; the parent returns what it reported."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        _report_in_child(write, attempt)
    os.close(write)
    try:
        return _read_from_child(read, pid)
    finally:
        os.close(read)


def _read_from_child(read: int, pid: int) -> str:
    deadline = time.monotonic() + CHILD_TIMEOUT
    while time.monotonic() < deadline:
        done, _status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.read(read, 4096).decode()
        time.sleep(0.01)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    raise AssertionError(f"the forked child did not finish within {CHILD_TIMEOUT} s (it hung)")


forking = pytest.mark.filterwarnings(
    # The test process runs helper threads; the child touches none of them.
    "ignore:This process .* is multi-threaded:DeprecationWarning"
)


@forking
def test_a_blocking_cluster_used_after_fork_says_to_connect_in_the_child(url: str) -> None:
    with hazelkit.connect_blocking(url) as cluster:
        cluster.map("m")["k"] = 1
        outcome = _fork_and_report(lambda: cluster.map("m").get("k"))
        assert outcome.startswith("ForkedClusterError: ")
        assert "Connect in the child" in outcome
        # The parent's cluster is untouched by the child.
        assert cluster.map("m")["k"] == 1


@forking
def test_closing_a_blocking_cluster_in_the_child_leaves_the_parent_connected(url: str) -> None:
    with hazelkit.connect_blocking(url) as cluster:
        outcome = _fork_and_report(cluster.close)
        assert outcome == "no error"
        cluster.map("m")["k"] = 2
        assert cluster.map("m")["k"] == 2


def _use_in_process(cluster: hazelkit.BlockingCluster, conn: Connection) -> None:
    try:
        cluster.map("m").get("k")
        conn.send("no error")
    except hazelkit.HazelkitError as error:
        conn.send(type(error).__name__)
    conn.close()
    # End here rather than in multiprocessing's interpreter shutdown: the child was forked
    # from a test process with many threads, and flushing a stream whose lock one of them
    # held at the moment of fork() can hang the child's exit (seen under the full suite).
    # What this test checks is what hazelkit raised in the child, reported above.
    os._exit(0)


@forking
def test_a_blocking_cluster_passed_to_a_multiprocessing_fork_child_fails_clearly(
    url: str,
) -> None:
    context = multiprocessing.get_context("fork")
    parent_end, child_end = context.Pipe()
    with hazelkit.connect_blocking(url) as cluster:
        process = context.Process(target=_use_in_process, args=(cluster, child_end))
        process.start()
        try:
            assert parent_end.poll(CHILD_TIMEOUT), "the child hung"
            assert parent_end.recv() == "ForkedClusterError"
        finally:
            process.join(CHILD_TIMEOUT)
            if process.is_alive():
                process.kill()
        assert process.exitcode == 0


@forking
async def test_an_async_cluster_used_after_fork_says_to_connect_in_the_child(url: str) -> None:
    async with hazelkit.connect(url) as cluster:
        outcome = _fork_and_report(lambda: lowlevel.check_open(cluster))
        assert outcome.startswith("ForkedClusterError: ")
        assert "before fork()" in outcome
        await cluster.map("m").put("k", 1)


def _run_on_another_loop(work: Callable[[], Any]) -> BaseException | None:
    """Run the coroutine function ``work`` on a new event loop in a new thread and return
    what it raised."""
    raised: list[BaseException | None] = [None]

    def target() -> None:
        try:
            asyncio.run(work())
        except BaseException as error:  # reported to the test
            raised[0] = error

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(CHILD_TIMEOUT)
    assert not thread.is_alive(), "the call on the other loop hung"
    return raised[0]


async def test_a_cluster_used_from_another_event_loop_refuses_clearly(url: str, name: str) -> None:
    async with hazelkit.connect(url) as cluster:
        await cluster.map(name).put("k", 1)

        async def use() -> None:
            await cluster.map(name).get("k")

        error = _run_on_another_loop(use)
        assert isinstance(error, hazelkit.WrongEventLoopError)
        assert isinstance(error, RuntimeError)
        assert "another event loop" in str(error)
        # The Cluster still works on its own loop.
        assert await cluster.map(name).get("k") == 1


async def test_closing_from_another_event_loop_refuses_and_leaves_it_open(url: str) -> None:
    async with hazelkit.connect(url) as cluster:
        error = _run_on_another_loop(cluster.close)
        assert isinstance(error, hazelkit.WrongEventLoopError)
        assert not cluster.closed
        lowlevel.check_open(cluster)


async def test_awaiting_a_closed_cluster_says_it_is_closed(url: str) -> None:
    cluster = await hazelkit.connect(url)
    await cluster.close()
    with pytest.raises(hazelkit.ClusterClosedError, match="is closed: connect a new one"):
        await cluster


async def test_entering_a_closed_cluster_says_it_is_closed(url: str) -> None:
    async with hazelkit.connect(url) as cluster:
        pass
    with pytest.raises(hazelkit.ClusterClosedError, match="is closed: connect a new one"):
        async with cluster:
            pytest.fail("a closed Cluster was entered")


async def test_entering_a_started_cluster_uses_it(url: str, name: str) -> None:
    cluster = await hazelkit.connect(url)
    async with cluster:
        await cluster.map(name).put("k", 1)
    assert cluster.closed
