"""A model-based test of Lock used from two nodes of one embedded grid, in turns.

Each node remembers the fencing counter it last wrote and starts its next take from it
(see ``hazelkit._coordination._fence``); when the other node took the lock meanwhile that
guess is stale. Hypothesis interleaves the nodes' acquisitions and releases and checks
against a plain-Python model that the lock has one holder at a time, that each token is
higher than every token before it, and what each node's statistics say.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

import hazelkit
from hazelkit import LockError, NotLockOwnerError, OperationTimeoutError

OWNERS = ["a", "b"]
NODES = [0, 1]


class TwoNodeLockMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.owners = {name: object() for name in OWNERS}
        #: (node, owner) holding the lock, or None.
        self.holder: tuple[int, str] | None = None
        self.last_token = 0
        self.clusters: list[hazelkit.Cluster] = []

    def run(self, coroutine: Any) -> Any:
        return self.loop.run_until_complete(coroutine)

    @initialize()
    def connect(self) -> None:
        url = f"memory://nodes-model-{uuid.uuid4().hex}"
        self.clusters = [self.run(hazelkit.connect(url).start()) for _ in NODES]
        self.locks = [cluster.lock("model") for cluster in self.clusters]

    @rule(node=st.sampled_from(NODES), owner=st.sampled_from(OWNERS))
    def acquire(self, node: int, owner: str) -> None:
        try:
            token = self.run(self.locks[node]._acquire(self.owners[owner], 0))
        except LockError:
            assert self.holder == (node, owner)
        except OperationTimeoutError:
            assert self.holder not in (None, (node, owner))
        else:
            assert self.holder is None
            assert token > self.last_token
            self.holder, self.last_token = (node, owner), token

    @precondition(lambda self: self.holder is not None)
    @rule()
    def release(self) -> None:
        assert self.holder is not None
        node, owner = self.holder
        self.run(self.locks[node]._release(self.owners[owner]))
        self.holder = None

    @rule(node=st.sampled_from(NODES), owner=st.sampled_from(OWNERS))
    def release_without_holding(self, node: int, owner: str) -> None:
        if self.holder == (node, owner):
            return
        with pytest.raises(NotLockOwnerError):
            self.run(self.locks[node]._release(self.owners[owner]))

    @invariant()
    def every_node_agrees_with_the_model(self) -> None:
        for node, lock in enumerate(getattr(self, "locks", [])):
            stats = self.run(lock.statistics())
            assert stats.locked == (self.holder is not None)
            assert stats.token == (self.last_token if self.holder is not None else None)
            assert stats.held_here == (self.holder is not None and self.holder[0] == node)
            assert stats.last_token == self.last_token  # no waiters: nothing reserved

    def teardown(self) -> None:
        for cluster in self.clusters:
            self.run(cluster.close())
        self.loop.close()


TwoNodeLockMachine.TestCase.settings = settings(
    max_examples=40, stateful_step_count=25, deadline=None
)
TestTwoNodeLockModel = TwoNodeLockMachine.TestCase
