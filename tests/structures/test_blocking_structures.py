"""The blocking facade of the structures: Python's own protocols, on both backends."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator, MutableMapping, MutableSequence, MutableSet

import pytest

import hazelkit
from hazelkit._core._events import EntryEventType, ItemEventType
from hazelkit.blocking import BlockingCluster, connect_blocking


@pytest.fixture
def node(url: str) -> Iterator[BlockingCluster]:
    with connect_blocking(url) as connected:
        yield connected


@pytest.fixture
def node2(url: str) -> Iterator[BlockingCluster]:
    with connect_blocking(url) as connected:
        yield connected


def test_map_is_a_mutable_mapping(node: BlockingCluster, name: str) -> None:
    m = node.map(name)
    assert isinstance(m, MutableMapping)
    m["a"] = 1
    m.update({"b": 2})
    assert dict(m) == {"a": 1, "b": 2}
    assert m.setdefault("a", 5) == 1
    assert m.setdefault("c", 3) == 3
    assert m.pop("c") == 3
    assert m.pop("c", "none") == "none"
    with pytest.raises(KeyError):
        m.pop("c")
    assert m.compute("a", lambda v: v + 10) == 11
    with m.events(key="a") as events:
        m["a"] = 12
        event = events.get(timeout=10)
    assert (event.type, event.value, event.old_value) == (EntryEventType.UPDATED, 12, 11)


def test_set_is_a_mutable_set(node: BlockingCluster, node2: BlockingCluster, name: str) -> None:
    s = node.set(name)
    assert isinstance(s, MutableSet)
    assert s.add(1)
    s |= {2, 3}
    assert 2 in node2.set(name)
    assert set(s) == {1, 2, 3}
    assert s & {1, 9} == {1}
    s.remove(3)
    with pytest.raises(KeyError):
        s.remove(3)
    s.discard(3)
    assert len(s) == 2
    assert s.pop() in (1, 2)
    assert s.isdisjoint({7})
    s.clear()
    assert len(s) == 0


def test_list_is_a_mutable_sequence(node: BlockingCluster, name: str) -> None:
    lst = node.list(name)
    assert isinstance(lst, MutableSequence)
    lst.extend([1, 2, 3])
    lst.append(4)
    lst += [5]
    lst.insert(0, 0)
    assert list(lst) == [0, 1, 2, 3, 4, 5]
    assert lst[-1] == 5
    assert lst[1:3] == [1, 2]
    assert lst[::2] == [0, 2, 4]
    lst[0] = "zero"
    del lst[1]
    assert lst.pop() == 5
    assert lst.index(3) == 2
    assert lst.index(3, 1, 4) == 2
    assert lst.count(2) == 1
    with pytest.raises(ValueError, match="not in list"):
        lst.index(3, 0, 0)  # an empty range, as in list.index
    lst.extend([True, 1.0])  # equality is the List's: 1, 1.0 and True differ
    assert (lst.index(True), lst.index(True, 0, 6), lst.count(1), lst.count(True)) == (4, 4, 0, 1)
    assert (1.0 in lst, 1 in lst, lst.index(1.0, -1)) == (True, False, 5)
    assert (lst.pop(), lst.pop()) == (1.0, True)
    assert 4 in lst
    lst.remove(4)
    with pytest.raises(ValueError, match="not in list"):
        lst.remove(4)
    lst.reverse()
    assert lst.items() == [3, 2, "zero"]
    with pytest.raises(hazelkit.ArgumentError, match="slice"):
        lst[0:1] = [1]
    with pytest.raises(hazelkit.ArgumentError, match="slice"):
        del lst[0:1]


def test_queue_is_like_queue_queue(
    node: BlockingCluster, node2: BlockingCluster, name: str
) -> None:
    q = node.queue(name, capacity=2)
    assert q.maxsize == 2
    assert q.empty()
    q.put("a")
    q.put_nowait("b")
    assert q.full()
    assert q.qsize() == 2
    with pytest.raises(hazelkit.QueueFull):
        q.put_nowait("c")
    with pytest.raises(hazelkit.QueueFull):
        q.put("c", timeout=0.3)
    with pytest.raises(queue.Full):
        q.put("c", block=False)
    consumer = node2.queue(name)
    assert consumer.get() == "a"
    assert consumer.get(block=False) == "b"
    with pytest.raises(hazelkit.QueueEmpty):
        consumer.get_nowait()
    started = time.monotonic()
    with pytest.raises(queue.Empty):
        consumer.get(timeout=0.3)
    assert time.monotonic() - started >= 0.25

    def produce_later() -> None:
        time.sleep(0.3)
        q.put("late")

    producer = threading.Thread(target=produce_later)
    producer.start()
    assert consumer.get(timeout=20) == "late"
    producer.join()
    with consumer.events() as events:
        q.put(1)
        assert events.get(timeout=10).type is ItemEventType.ADDED
    assert consumer.drain() == [1]


def test_multimap(node: BlockingCluster, name: str) -> None:
    mm = node.multimap(name)
    assert mm.put("k", 1)
    assert mm.put("k", 2)
    assert sorted(mm.get("k")) == [1, 2]
    assert len(mm) == 2
    assert mm.remove("k", 1)
    assert mm.remove_all("k") == [2]


def test_atom_counter_and_ids(node: BlockingCluster, node2: BlockingCluster, name: str) -> None:
    atom = node.atom(name, initial=0, validator=lambda v: v < 100)
    seen: list[tuple[int, int]] = []
    atom.add_watch("w", lambda old, new: seen.append((old, new)))
    threads = [
        threading.Thread(
            target=lambda n=n: [n.atom(name, initial=0).swap(lambda v: v + 1) for _ in range(10)]
        )
        for n in (node, node2, node, node2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert atom.deref() == 40
    with pytest.raises(hazelkit.ValidationError):
        atom.reset(100)
    assert atom.compare_and_set(40, 41)
    deadline = time.monotonic() + 10
    while len(seen) < 41 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert [new for _, new in seen] == list(range(1, 42))
    atom.remove_watch("w")

    counter = node.counter(name)
    assert counter.add(5) == 5
    assert node2.counter(name).increment() == 6
    assert counter.get() == 6
    ids = {node.ids(name).new_id(), node2.ids(name).new_id(), node.ids(name).new_id()}
    assert len(ids) == 3


def test_cache_memoizes_plain_functions(
    node: BlockingCluster, node2: BlockingCluster, name: str
) -> None:
    runs: list[int] = []

    def make(n: BlockingCluster) -> object:
        @n.cache(name).memoize(name="slow-double")
        def double(x: int) -> int:
            runs.append(x)
            time.sleep(0.3)
            return 2 * x

        return double

    functions = [make(node), make(node2)]
    results: list[int] = []
    threads = [
        threading.Thread(target=lambda i=i: results.append(functions[i % 2](21)))  # type: ignore[operator]
        for i in range(6)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [42] * 6
    assert runs == [21]
    cache = node.cache(name, near_cache=True)
    cache.set("k", "v")
    assert cache.get("k") == "v"
    assert cache.get_or_compute("k", lambda: "other") == "v"
    assert cache.get_or_compute("new", lambda: "computed") == "computed"

    async def coroutine_function() -> None: ...

    with pytest.raises(hazelkit.ArgumentError, match="plain functions"):
        cache.memoize()(coroutine_function)


def test_every_wrapper_sizes_clears_destroys_and_streams_events(
    node: BlockingCluster, name: str
) -> None:
    structures = {
        "map": (node.map(name), lambda s: s.set("k", 1)),
        "multimap": (node.multimap(name), lambda s: s.put("k", 1)),
        "queue": (node.queue(name), lambda s: s.put(1)),
        "set": (node.set(name), lambda s: s.add(1)),
        "list": (node.list(name), lambda s: s.append(1)),
    }
    for kind, (structure, write) in structures.items():
        assert repr(structure) == f"<{type(structure).__name__} {name!r}>"
        with structure.events(include_values=False) as events:
            write(structure)
            event = events.get(timeout=10)
        assert event.type.value == "added", kind
        assert structure.size() == 1, kind
        if kind != "map":
            assert structure.items() in ([1], [("k", 1)]), kind
        structure.clear()
        assert structure.size() == 0, kind
        write(structure)
        structure.destroy()
        assert structure.size() == 0, kind
