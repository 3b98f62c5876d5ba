"""The blocking facade's locks, latches, semaphores and topics: owned by threads."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

import hazelkit
from hazelkit import LockError, NotLockOwnerError, OperationTimeoutError
from hazelkit._reliable_reader import ReliableMessage
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

    def worker() -> None:
        nonlocal inside, most
        lock = blocking.lock(name, lease=5)
        for _ in range(5):
            with lock:
                with guard:
                    inside += 1
                    most = max(most, inside)
                time.sleep(0.005)
                with guard:
                    inside -= 1

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert most == 1
    assert blocking.lock(name).statistics().last_token == 15


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
