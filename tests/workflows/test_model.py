"""A model-based test of the workflow runtime on the embedded grid (Hypothesis stateful).

Random steps against a plain-Python model: sends of uniquely numbered messages to a few
workflows (through the sender or any live node), node crashes (``hazelkit.testing.crash``:
no lease released, nothing handed off), new nodes, graceful leaves, and timers set,
cancelled and made due by moving a ManualClock. After every step each workflow must hold
a prefix of what was sent to it (in the sending order, no gap, no repeat) and only timers
that were due, once each; at the end of a run (and at random ``settle`` steps) it must
hold exactly what was sent, and every due timer must have fired exactly once.

Each run has its own embedded grid and its own event loop, on a thread of its own so
leases are renewed between steps too; every step is bounded by a timeout, and every
Cluster is closed in ``teardown`` whatever happened. Leases are short (half a second),
so failover after a crash takes a second or so of real time; timers are an hour long and
fire only when the clock jumps, so no step races the wall clock. Runs are derandomized
and not shrunk (see the settings at the end).
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Coroutine
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

import hazelkit
from hazelkit.testing import ManualClock, crash
from hazelkit.workflows import Context, Workflow, WorkflowStatus
from timing import eventually

pytestmark = pytest.mark.timeout(300)

LEASE = 0.5
PARTITIONS = 4
WORKFLOWS = ("w0", "w1", "w2")
MAX_NODES = 3
HOUR = 3600.0
#: The bound of one step's waits: failover after a crash takes about two leases (the dead
#: node stays preferred until its entry lapses), a loaded machine needs a lot more slack.
STEP = 20.0


class Tally(Workflow):
    """Records every numbered message in ``seen``, every timer set, cancelled and fired."""

    name = "model.tally"

    def initial(self, args: Any) -> Any:
        return {"seen": [], "set": [], "cancelled": [], "fired": []}

    async def handle(self, ctx: Context, state: Any, message: Any) -> Any:
        if "n" in message:
            return {**state, "seen": [*state["seen"], message["n"]]}
        if "set" in message:
            ctx.set_timer(message["set"], after=HOUR)
            return {**state, "set": [*state["set"], message["set"]]}
        ctx.cancel_timer(message["cancel"])
        return {**state, "cancelled": [*state["cancelled"], message["cancel"]]}

    async def on_timer(self, ctx: Context, state: Any, name: str) -> Any:
        return {**state, "fired": [*state["fired"], name]}


class WorkflowMachine(RuleBasedStateMachine):
    """Nodes come and go; the workflows' states must always agree with the model."""

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="model", daemon=True)
        self.thread.start()
        self.url = f"memory://model-{uuid.uuid4().hex[:12]}"
        self.clock = ManualClock()
        self.opened: list[hazelkit.Cluster] = []  # every Cluster, closed in teardown
        self.nodes: list[tuple[hazelkit.Cluster, Any]] = []  # the live nodes and their hosting
        self.sender: hazelkit.Cluster | None = None
        self.number = 0
        self.sent: dict[str, list[int]] = {w: [] for w in WORKFLOWS}
        self.timers = 0
        self.pending: dict[str, set[str]] = {w: set() for w in WORKFLOWS}  # set, not due
        self.due: dict[str, set[str]] = {w: set() for w in WORKFLOWS}  # must fire, once
        self.cancelled: dict[str, set[str]] = {w: set() for w in WORKFLOWS}  # never fire
        self.failed = False

    def run(self, coroutine: Coroutine[Any, Any, Any], timeout: float = STEP) -> Any:
        """Run ``coroutine`` on this run's loop, at most ``timeout`` seconds; a failure
        is noted so that teardown only cleans up."""
        future = asyncio.run_coroutine_threadsafe(asyncio.wait_for(coroutine, timeout), self.loop)
        try:
            return future.result(timeout + 5)
        except BaseException:
            self.failed = True
            future.cancel()
            raise

    async def _connect(self) -> hazelkit.Cluster:
        cluster = await hazelkit.connect(self.url, clock=self.clock)
        self.opened.append(cluster)
        return cluster

    async def _add_node(self) -> None:
        cluster = await self._connect()
        hosting = cluster.workflows.host(Tally, lease=LEASE, partitions=PARTITIONS)
        self.nodes.append((cluster, await hosting.start()))

    def _via(self, index: int) -> hazelkit.Cluster:
        assert self.sender is not None
        clusters = [self.sender, *(cluster for cluster, _ in self.nodes)]
        return clusters[index % len(clusters)]

    async def _state(self, workflow: str) -> Any:
        assert self.sender is not None
        return (await self.sender.workflows.get(workflow)).state

    # -- steps ----------------------------------------------------------------------------

    @initialize()
    def begin(self) -> None:
        async def begin() -> None:
            self.sender = await self._connect()
            for _ in range(2):
                await self._add_node()
            for workflow in WORKFLOWS:
                await self.sender.workflows.start(Tally, workflow)
            for workflow in WORKFLOWS:  # started (the invariant expects them running)
                await self.sender.workflows.wait(workflow, WorkflowStatus.RUNNING, timeout=STEP)

        self.run(begin(), STEP * len(WORKFLOWS) + 5)

    @rule(
        workflow=st.sampled_from(WORKFLOWS), via=st.integers(0, MAX_NODES), count=st.integers(1, 6)
    )
    def send(self, workflow: str, via: int, count: int) -> None:
        async def send() -> None:
            sender = self._via(via)
            for _ in range(count):
                self.number += 1
                await sender.workflows.send(workflow, {"n": self.number}, timeout=STEP / 2)
                self.sent[workflow].append(self.number)

        self.run(send())

    @precondition(lambda self: self.nodes)
    @rule(index=st.integers(0, MAX_NODES - 1))
    def crash_node(self, index: int) -> None:
        cluster, _ = self.nodes.pop(index % len(self.nodes))
        self.run(crash(cluster))

    @precondition(lambda self: self.nodes)
    @rule(workflow=st.sampled_from(WORKFLOWS))
    def crash_owner(self, workflow: str) -> None:
        """Crash the node that just applied the workflow's last message: its cursor may
        lag behind what its workflows committed, so the next owner replays messages
        they applied already (and must skip them)."""

        async def crash_owner() -> None:
            sent = self.sent[workflow]

            async def applied() -> bool:
                return len((await self._state(workflow))["seen"]) >= len(sent)

            await eventually(applied, timeout=STEP, what=f"{workflow} applies {sent}")
            owner = (await self._via(0).workflows.get(workflow)).owner
            for index, (cluster, hosting) in enumerate(self.nodes):
                if hosting.node == owner:
                    del self.nodes[index]
                    await crash(cluster)
                    return

        self.run(crash_owner(), STEP + 5)

    @precondition(lambda self: self.nodes)
    @rule(index=st.integers(0, MAX_NODES - 1))
    def leave(self, index: int) -> None:
        cluster, hosting = self.nodes.pop(index % len(self.nodes))

        async def leave() -> None:
            await hosting.stop()  # hands its partitions off
            await cluster.close()

        self.run(leave())

    @precondition(lambda self: len(self.nodes) < MAX_NODES)
    @rule()
    def add_node(self) -> None:
        self.run(self._add_node())

    @precondition(lambda self: self.nodes)
    @rule(workflow=st.sampled_from(WORKFLOWS))
    def set_timer(self, workflow: str) -> None:
        name = f"t{self.timers}"
        self.timers += 1

        async def set_timer() -> None:
            await self._via(0).workflows.send(workflow, {"set": name})

            async def applied() -> bool:
                return name in (await self._state(workflow))["set"]

            await eventually(applied, timeout=STEP, what=f"timer {name} of {workflow} set")

        self.run(set_timer(), STEP + 5)
        self.pending[workflow].add(name)

    @precondition(lambda self: self.nodes and any(self.pending.values()))
    @rule(data=st.data())
    def cancel_timer(self, data: st.DataObject) -> None:
        workflow = data.draw(st.sampled_from(sorted(w for w in WORKFLOWS if self.pending[w])))
        name = data.draw(st.sampled_from(sorted(self.pending[workflow])))

        async def cancel_timer() -> None:
            await self._via(0).workflows.send(workflow, {"cancel": name})

            async def applied() -> bool:
                return name in (await self._state(workflow))["cancelled"]

            await eventually(applied, timeout=STEP, what=f"timer {name} of {workflow} cancelled")

        self.run(cancel_timer(), STEP + 5)
        self.pending[workflow].discard(name)
        self.cancelled[workflow].add(name)

    @precondition(lambda self: any(self.pending.values()))
    @rule()
    def advance_clock(self) -> None:
        """An hour passes (at once): every timer set so far is due. Node entries lapse
        too, until their next heartbeat: the nodes must not hand work around for it."""

        async def advance() -> None:
            self.clock.advance(HOUR + 1)

        self.run(advance())
        for workflow in WORKFLOWS:
            self.due[workflow] |= self.pending[workflow]
            self.pending[workflow].clear()

    @rule()
    def settle(self) -> None:
        self.run(self._settle(), STEP * len(WORKFLOWS) + 5)

    async def _settle(self) -> None:
        """Send each workflow one more message and wait (bounded) until it is applied and
        every due timer fired, then check the workflow holds exactly what was sent. The
        last message is applied after any replay of those before it (a new owner's
        replay after a crash, say), so a repeat would be seen."""
        if not self.nodes:
            await self._add_node()
        for workflow in WORKFLOWS:
            self.number += 1
            await self._via(0).workflows.send(workflow, {"n": self.number}, timeout=STEP / 2)
            self.sent[workflow].append(self.number)
        for workflow in WORKFLOWS:
            sent, due = self.sent[workflow], self.due[workflow]

            async def caught_up(
                workflow: str = workflow, sent: list[int] = sent, due: set[str] = due
            ) -> bool:
                state = await self._state(workflow)
                return len(state["seen"]) >= len(sent) and set(state["fired"]) >= due

            await eventually(
                caught_up, timeout=STEP, what=f"{workflow} applies {sent} and fires {due}"
            )
            snapshot = await self._via(0).workflows.get(workflow)
            assert snapshot.status is WorkflowStatus.RUNNING, snapshot.error
            assert snapshot.state["seen"] == sent
            assert sorted(snapshot.state["fired"]) == sorted(due)
            assert set(snapshot.timers) == self.pending[workflow]

    # -- invariants -----------------------------------------------------------------------

    @invariant()
    def agrees_with_the_model(self) -> None:
        """Whatever happened, each workflow applied a prefix of what was sent to it, and
        fired only due timers, each once."""
        if self.sender is None or self.failed:
            return

        async def check() -> None:
            for workflow in WORKFLOWS:
                snapshot = await self._via(0).workflows.get(workflow)
                assert snapshot.status is WorkflowStatus.RUNNING, snapshot.error
                seen, fired = snapshot.state["seen"], snapshot.state["fired"]
                assert seen == self.sent[workflow][: len(seen)], (workflow, seen)
                assert len(fired) == len(set(fired)), (workflow, fired)
                assert set(fired) <= self.due[workflow], (workflow, fired)

        self.run(check())

    def teardown(self) -> None:
        try:
            if self.sender is not None and not self.failed:
                self.run(self._settle(), STEP * len(WORKFLOWS) + 5)
        finally:
            self._close_all()

    def _close_all(self) -> None:
        async def close() -> None:
            closing = [asyncio.wait_for(cluster.close(), STEP) for cluster in self.opened]
            await asyncio.gather(*closing, return_exceptions=True)
            current = asyncio.current_task()
            left = [task for task in asyncio.all_tasks() if task is not current]
            for task in left:
                task.cancel()
            if left:
                await asyncio.wait(left, timeout=5)

        try:
            asyncio.run_coroutine_threadsafe(close(), self.loop).result(STEP * MAX_NODES + 15)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
            if not self.thread.is_alive():
                self.loop.close()


WorkflowMachine.TestCase.settings = settings(
    max_examples=15,
    stateful_step_count=12,
    deadline=None,
    derandomize=True,  # the same runs every time: CI never meets a new example by chance
    database=None,
    # No shrinking: a failing run can spend a bounded wait on every step, and shrinking
    # would replay it hundreds of times; the steps of the failing run are printed as found.
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow],
)
TestWorkflowModelInMemory = WorkflowMachine.TestCase
