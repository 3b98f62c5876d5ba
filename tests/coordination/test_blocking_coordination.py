"""The blocking facade's locks, latches, semaphores and topics: owned by threads."""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Iterator

import anyio
import pytest

import hazelkit
from hazelkit import LockError, NotLockOwnerError, OperationTimeoutError
from hazelkit._blocking._interrupt import call_interruptibly
from hazelkit._streams._reliable_reader import ReliableMessage
from hazelkit.blocking import BlockingCluster


@pytest.fixture
def blocking(url: str) -> Iterator[BlockingCluster]:
    with hazelkit.connect_blocking(url) as cluster:
        yield cluster


def test_lock_belongs_to_the_thread(blocking: BlockingCluster, name: str) -> None:
    lock = blocking.lock(name)
    with lock as token:
        assert token >= 1
        assert lock.held
        assert lock.token == token
        assert lock.locked()
        with pytest.raises(LockError, match="not reentrant"):
            lock.acquire(timeout=0)
        errors: list[BaseException] = []

        def other_thread() -> None:
            try:
                assert not lock.held
                with pytest.raises(NotLockOwnerError):
                    lock.release()
                with pytest.raises(OperationTimeoutError):
                    lock.acquire(timeout=0.2)
            except BaseException as error:
                errors.append(error)

        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join(30)
        assert errors == []
        stats = lock.statistics()
        assert stats.held_here
        assert stats.token == token
    assert not lock.locked()


def test_threads_take_turns(blocking: BlockingCluster, name: str) -> None:
    inside = 0
    most = 0
    guard = threading.Lock()
    tokens: list[int] = []

    def worker() -> None:
        nonlocal inside, most
        lock = blocking.lock(name, lease=5)
        for _ in range(5):
            with lock as token:
                with guard:
                    inside += 1
                    most = max(most, inside)
                    tokens.append(token)
                time.sleep(0.005)
                with guard:
                    inside -= 1

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert most == 1
    assert len(tokens) == len(set(tokens)) == 15
    assert tokens == sorted(tokens)  # in the order the holders held it
    # Local hand-offs use tokens reserved at a take, so the counter may be ahead.
    assert blocking.lock(name).statistics().last_token >= tokens[-1]


def test_latch_and_semaphore(blocking: BlockingCluster, name: str) -> None:
    latch = blocking.latch(name)
    assert latch.try_set_count(2)
    threading.Thread(target=lambda: (latch.count_down(), latch.count_down())).start()
    latch.wait(timeout=20)
    assert latch.count() == 0
    sem = blocking.semaphore(name, 2)
    with sem as first:
        second = sem.acquire()
        assert second.token > first.token
        assert sem.available() == 0
        with pytest.raises(OperationTimeoutError):
            sem.acquire(timeout=0)
        second.release()
        assert sem.statistics().held_here == 1
    assert sem.available() == 2


def test_topics_as_blocking_iterators(blocking: BlockingCluster, name: str) -> None:
    topic = blocking.topic(name)
    with topic.subscribe() as messages:
        topic.publish("hello")
        topic.publish_all(["a", "b"])
        assert [messages.get(timeout=10).value for _ in range(3)] == ["hello", "a", "b"]
    reliable = blocking.reliable_topic(name + "-r")
    assert reliable.publish_all([1, 2, 3]) == 2
    with reliable.subscribe("oldest") as subscription:
        got = [next(subscription) for _ in range(3)]
        assert all(isinstance(m, ReliableMessage) for m in got)
        assert [m.value for m in got] == [1, 2, 3]  # type: ignore[union-attr]
        assert subscription.next_sequence == 3
        assert reliable.send(4) == 3
        assert subscription.get(timeout=10).value == 4  # type: ignore[union-attr]
    assert reliable.tail() == 3


class Interrupted(Exception):
    """What the test's signal handler raises in the main thread (a stand-in for Ctrl-C)."""


@contextlib.contextmanager
def interrupt_main_after(delay: float) -> Iterator[None]:
    """Raise Interrupted in the main thread after ``delay`` seconds (as Ctrl-C would)."""
    assert threading.current_thread() is threading.main_thread()

    def handler(signum: int, frame: object) -> None:
        raise Interrupted

    previous = signal.signal(signal.SIGUSR1, handler)
    target = threading.main_thread().ident
    assert target is not None
    timer = threading.Timer(delay, signal.pthread_kill, (target, signal.SIGUSR1))
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        timer.join()
        signal.signal(signal.SIGUSR1, previous)


def test_an_interrupted_acquire_leaves_nothing_taken(blocking: BlockingCluster, name: str) -> None:
    holding, release_now = threading.Event(), threading.Event()

    def holder() -> None:
        with blocking.lock(name), blocking.semaphore(name, 1):
            holding.set()
            release_now.wait(30)

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        assert holding.wait(30)
        lock, sem = blocking.lock(name, lease=5), blocking.semaphore(name, 1, lease=5)
        for acquire in (lock.acquire, sem.acquire):
            with pytest.raises(Interrupted), interrupt_main_after(0.5):
                acquire(timeout=20)
    finally:
        release_now.set()
        thread.join(30)
    time.sleep(1.5)  # a waiter left running would have taken them by now
    assert not lock.locked()
    assert not lock.held
    assert sem.available() == 1
    assert lock.statistics().waiters == 0
    with lock:  # no "already held by this thread"
        assert lock.held


def test_an_interrupt_gives_back_what_was_granted_meanwhile(blocking: BlockingCluster) -> None:
    returned: list[str] = []
    given_back: list[str] = []

    async def grant_regardless() -> str:
        with anyio.CancelScope(shield=True):  # granted although the caller gave up
            await anyio.sleep(1.0)
        returned.append("token")
        return "token"

    async def undo(value: str) -> None:
        given_back.append(value)

    with pytest.raises(Interrupted), interrupt_main_after(0.3):
        call_interruptibly(blocking._run, grant_regardless, undo=undo)
    assert returned == given_back == ["token"]


def test_an_interrupted_next_takes_no_message(blocking: BlockingCluster, name: str) -> None:
    topic = blocking.reliable_topic(name)
    with topic.subscribe() as subscription:
        with pytest.raises(Interrupted), interrupt_main_after(0.3):
            next(subscription)
        topic.publish("first")
        assert subscription.get(timeout=10).value == "first"  # type: ignore[union-attr]


def test_a_blocking_wait_on_the_clusters_own_loop_is_a_clear_error(
    blocking: BlockingCluster, name: str
) -> None:
    lock = blocking.lock(name)
    with pytest.raises(hazelkit.HazelkitError, match="own event loop"):
        blocking.portal.call(lambda: lock.acquire(timeout=0))
    assert not lock.locked()
