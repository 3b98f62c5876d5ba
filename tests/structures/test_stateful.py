"""Model-based tests: Map, Queue and Atom against plain Python models, on both backends.

Each Hypothesis run drives a fresh structure through random operations from two nodes
(two connections to the same grid) and checks every result and the whole state against
a dict, a deque and a plain variable.
"""

from __future__ import annotations

import queue
import uuid
from collections import deque
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

import hazelkit
from hazelkit import Map
from hazelkit.blocking import BlockingCluster, connect_blocking

# No bools or floats among keys: the cluster keeps 1, 1.0 and True apart, a dict does not.
KEYS = st.sampled_from(["a", "b", "", 7, -1, (1, "x"), ("nested", (2, 3))])
VALUES = st.one_of(
    st.none(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.text(max_size=8),
    st.lists(st.integers(0, 9), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(0, 9), max_size=3),
)


@pytest.fixture
def nodes(url: str) -> Iterator[tuple[BlockingCluster, BlockingCluster]]:
    with connect_blocking(url) as one, connect_blocking(url) as two:
        yield one, two


def run(machine: type[RuleBasedStateMachine], backend: str) -> None:
    examples, steps = (50, 30) if backend == "memory" else (25, 25)
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=examples,
            stateful_step_count=steps,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )


class MapMachine(RuleBasedStateMachine):
    nodes: ClassVar[tuple[BlockingCluster, BlockingCluster]]

    def __init__(self) -> None:
        super().__init__()
        name = f"sm-map-{uuid.uuid4().hex[:10]}"
        self.maps = [node.map(name) for node in self.nodes]
        self.model: dict[Any, Any] = {}

    @rule(node=st.integers(0, 1), key=KEYS, value=VALUES)
    def put(self, node: int, key: Any, value: Any) -> None:
        assert self.maps[node].put(key, value) == self.model.get(key)
        self.model[key] = value

    @rule(node=st.integers(0, 1), key=KEYS, value=VALUES)
    def put_if_absent(self, node: int, key: Any, value: Any) -> None:
        assert self.maps[node].put_if_absent(key, value) == self.model.get(key)
        self.model.setdefault(key, value)

    @rule(node=st.integers(0, 1), key=KEYS, value=VALUES)
    def replace(self, node: int, key: Any, value: Any) -> None:
        assert self.maps[node].replace(key, value) == self.model.get(key)
        if key in self.model:
            self.model[key] = value

    @rule(node=st.integers(0, 1), key=KEYS, guess=VALUES, value=VALUES, use_current=st.booleans())
    def replace_if_same(
        self, node: int, key: Any, guess: Any, value: Any, use_current: bool
    ) -> None:
        old = self.model.get(key) if use_current else guess
        expected = key in self.model and _same(self.model[key], old)
        assert self.maps[node].replace_if_same(key, old, value) == expected
        if expected:
            self.model[key] = value

    @rule(node=st.integers(0, 1), key=KEYS, guess=VALUES, use_current=st.booleans())
    def remove_if_same(self, node: int, key: Any, guess: Any, use_current: bool) -> None:
        old = self.model.get(key) if use_current else guess
        expected = key in self.model and _same(self.model[key], old)
        assert self.maps[node].remove_if_same(key, old) == expected
        if expected:
            del self.model[key]

    @rule(node=st.integers(0, 1), key=KEYS)
    def remove(self, node: int, key: Any) -> None:
        assert self.maps[node].remove(key) == self.model.pop(key, None)

    @rule(node=st.integers(0, 1), key=KEYS, delta=st.integers(-5, 5), delete=st.booleans())
    def compute(self, node: int, key: Any, delta: int, delete: bool) -> None:
        def change(value: Any) -> Any:
            if delete:
                return Map.DELETE
            return (value if type(value) is int else 0) + delta

        result = self.maps[node].compute(key, change)
        if delete:
            self.model.pop(key, None)
            assert result is None
        else:
            current = self.model.get(key)
            self.model[key] = (current if type(current) is int else 0) + delta
            assert result == self.model[key]

    @rule(node=st.integers(0, 1), entries=st.dictionaries(KEYS, VALUES, max_size=3))
    def put_all(self, node: int, entries: dict[Any, Any]) -> None:
        self.maps[node].put_all(entries)
        self.model.update(entries)

    @rule(node=st.integers(0, 1), keys=st.lists(KEYS, max_size=4))
    def get_all(self, node: int, keys: list[Any]) -> None:
        expected = {k: self.model[k] for k in keys if k in self.model}
        assert self.maps[node].get_all(keys) == expected

    @invariant()
    def same_entries(self) -> None:
        items = self.maps[0].items_list()
        assert len(items) == len(self.model)
        assert dict(items) == self.model

    def teardown(self) -> None:
        self.maps[0].destroy()


def _same(a: Any, b: Any) -> bool:
    """Equality as the cluster compares values: equal, and of equal types throughout."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(map(_same, a, b))
    return bool(a == b)


class QueueMachine(RuleBasedStateMachine):
    nodes: ClassVar[tuple[BlockingCluster, BlockingCluster]]
    CAPACITY = 4

    def __init__(self) -> None:
        super().__init__()
        name = f"sm-queue-{uuid.uuid4().hex[:10]}"
        self.queues = [node.queue(name, capacity=self.CAPACITY) for node in self.nodes]
        self.model: deque[Any] = deque()

    @rule(node=st.integers(0, 1), item=VALUES)
    def offer(self, node: int, item: Any) -> None:
        added = self.queues[node].offer(item)
        assert added == (len(self.model) < self.CAPACITY)
        if added:
            self.model.append(item)

    @rule(node=st.integers(0, 1), item=VALUES)
    def put_nowait(self, node: int, item: Any) -> None:
        if len(self.model) == self.CAPACITY:
            with pytest.raises(queue.Full):
                self.queues[node].put_nowait(item)
        else:
            self.queues[node].put_nowait(item)
            self.model.append(item)

    @precondition(lambda self: len(self.model) > 0)
    @rule(node=st.integers(0, 1))
    def get(self, node: int) -> None:
        assert self.queues[node].get(timeout=10) == self.model.popleft()

    @rule(node=st.integers(0, 1))
    def poll(self, node: int) -> None:
        expected = self.model.popleft() if self.model else "empty"
        assert self.queues[node].poll(default="empty") == expected

    @rule(node=st.integers(0, 1))
    def peek(self, node: int) -> None:
        assert self.queues[node].peek("empty") == (self.model[0] if self.model else "empty")

    @rule(node=st.integers(0, 1), most=st.one_of(st.none(), st.integers(0, 5)))
    def drain(self, node: int, most: int | None) -> None:
        count = len(self.model) if most is None else min(most, len(self.model))
        expected = [self.model.popleft() for _ in range(count)]
        assert self.queues[node].drain(most) == expected

    @invariant()
    def same_items(self) -> None:
        assert self.queues[1].items() == list(self.model)
        assert self.queues[0].remaining_capacity() == self.CAPACITY - len(self.model)

    def teardown(self) -> None:
        self.queues[0].destroy()


def _not_negative(value: Any) -> bool:
    return not (isinstance(value, int) and value < 0)


class AtomMachine(RuleBasedStateMachine):
    nodes: ClassVar[tuple[BlockingCluster, BlockingCluster]]

    def __init__(self) -> None:
        super().__init__()
        name = f"sm-atom-{uuid.uuid4().hex[:10]}"
        self.atoms = [node.atom(name, initial=0, validator=_not_negative) for node in self.nodes]
        self.model: Any = 0

    @rule(node=st.integers(0, 1), delta=st.integers(-3, 5))
    def swap(self, node: int, delta: int) -> None:
        def add(value: Any, amount: int) -> Any:
            return (value if type(value) is int else 0) + amount

        proposed = add(self.model, delta)
        if proposed < 0:
            with pytest.raises(hazelkit.ValidationError):
                self.atoms[node].swap(add, delta)
        else:
            assert self.atoms[node].swap(add, delta) == proposed
            self.model = proposed

    @rule(node=st.integers(0, 1), value=VALUES)
    def reset(self, node: int, value: Any) -> None:
        if not _not_negative(value):
            with pytest.raises(hazelkit.ValidationError):
                self.atoms[node].reset(value)
            return
        assert self.atoms[node].reset(value) == value
        self.model = value

    @rule(node=st.integers(0, 1), guess=VALUES, use_current=st.booleans(), value=VALUES)
    def compare_and_set(self, node: int, guess: Any, use_current: bool, value: Any) -> None:
        old = self.model if use_current else guess
        if not _not_negative(value):
            with pytest.raises(hazelkit.ValidationError):
                self.atoms[node].compare_and_set(old, value)
            return
        expected = _same(self.model, old)
        assert self.atoms[node].compare_and_set(old, value) == expected
        if expected:
            self.model = value

    @invariant()
    def same_value(self) -> None:
        assert self.atoms[0].deref() == self.model
        assert self.atoms[1].deref() == self.model

    def teardown(self) -> None:
        self.atoms[0].destroy()


@pytest.mark.parametrize("machine", [MapMachine, QueueMachine, AtomMachine])
def test_against_the_model(
    machine: type[RuleBasedStateMachine],
    nodes: tuple[BlockingCluster, BlockingCluster],
    backend: str,
) -> None:
    bound = type(machine.__name__, (machine,), {"nodes": nodes})
    run(bound, backend)
