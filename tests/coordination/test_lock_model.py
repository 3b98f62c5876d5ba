"""A model-based test of Lock against a plain-Python model (embedded grid).

Owners are plain objects standing for tasks, so one Hypothesis run can interleave the
acquisitions and releases of several owners step by step. An owner may also wait (a task
blocked in ``acquire``): a release then hands the lock to the first waiter, locally, and
the model checks that it got a higher token than every holder before it.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

import hazelkit
from hazelkit import LockError, NotLockOwnerError, OperationTimeoutError
from timing import wait_for_waiters

OWNERS = ["a", "b", "c"]


class LockMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.owners = {name: object() for name in OWNERS}
        self.holder: str | None = None
        self.last_token = 0
        #: Owners blocked in acquire, in arrival order, with their tasks.
        self.waiting: list[str] = []
        self.tasks: dict[str, asyncio.Task[int]] = {}

    def run(self, coroutine: Any) -> Any:
        return self.loop.run_until_complete(coroutine)

    @initialize()
    def connect(self) -> None:
        self.cluster = self.run(hazelkit.connect(f"memory://model-{uuid.uuid4().hex}").start())
        self.locks = [self.cluster.lock("model"), self.cluster.lock("model")]

    @rule(owner=st.sampled_from(OWNERS), handle=st.integers(0, 1))
    def acquire(self, owner: str, handle: int) -> None:
        lock = self.locks[handle]
        try:
            token = self.run(lock._acquire(self.owners[owner], 0))
        except LockError:
            assert self.holder == owner
        except OperationTimeoutError:
            assert self.holder not in (None, owner)
        else:
            assert self.holder is None
            assert token > self.last_token
            self.holder, self.last_token = owner, token

    @precondition(lambda self: self.holder is not None)
    @rule(owner=st.sampled_from(OWNERS), handle=st.integers(0, 1))
    def wait(self, owner: str, handle: int) -> None:
        if owner == self.holder or owner in self.waiting:
            return
        lock = self.locks[handle]
        self.tasks[owner] = self.loop.create_task(lock._acquire(self.owners[owner], None))
        self.waiting.append(owner)
        self.run(wait_for_waiters(lock, len(self.waiting)))

    @rule(owner=st.sampled_from(OWNERS), handle=st.integers(0, 1))
    def release(self, owner: str, handle: int) -> None:
        try:
            self.run(self.locks[handle]._release(self.owners[owner]))
        except NotLockOwnerError:
            assert self.holder != owner
        else:
            assert self.holder == owner
            self.holder = None
            if self.waiting:
                self.grant_to_first_waiter()

    def grant_to_first_waiter(self) -> None:
        first = self.waiting.pop(0)
        token = self.run(asyncio.wait_for(asyncio.shield(self.tasks.pop(first)), 10))
        assert token > self.last_token
        self.holder, self.last_token = first, token

    @invariant()
    def agrees_with_the_model(self) -> None:
        if not hasattr(self, "cluster"):
            return
        stats = self.run(self.locks[0].statistics())
        assert stats.locked == (self.holder is not None)
        assert stats.token == (self.last_token if self.holder is not None else None)
        # A take made while tasks wait reserves tokens for hand-offs: the counter may be
        # ahead of the tokens granted, never behind.
        assert stats.last_token >= self.last_token
        assert stats.waiters == len(self.waiting)

    def teardown(self) -> None:
        for task in self.tasks.values():
            task.cancel()
        if self.tasks:
            self.run(asyncio.gather(*self.tasks.values(), return_exceptions=True))
        if hasattr(self, "cluster"):
            self.run(self.cluster.close())
        self.loop.close()


LockMachine.TestCase.settings = settings(max_examples=25, stateful_step_count=15, deadline=None)
TestLockModel = LockMachine.TestCase
