"""Workflows on one or two nodes: the API and its guarantees, on both backends."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from definitions import counter, order

import hazelkit
from hazelkit import lowlevel
from hazelkit.testing import inject_faults
from hazelkit.workflows import Workflow, WorkflowSnapshot, WorkflowStatus, on

LEASE = 3.0


def total_is(total: int) -> Callable[[WorkflowSnapshot], bool]:
    """A wait() condition: the counter's total is ``total``."""
    return lambda s: isinstance(s.state, dict) and s.state.get("total") == total


async def test_start_send_and_read_from_another_cluster(
    node: hazelkit.Cluster, cluster: hazelkit.Cluster, name: str
) -> None:
    Counter = counter(name)
    async with node.workflows.host(Counter, lease=LEASE):
        handle = await cluster.workflows.start(Counter, f"{name}-1", 10)
        for value in (1, 2, 3):
            await cluster.workflows.send(handle.id, value)
        await handle.send("done")
        assert await handle.result(timeout=20) == 16
        snapshot = await cluster.workflows.get(handle.id)
    assert snapshot.status is WorkflowStatus.COMPLETED
    assert snapshot.state == {"total": 16, "seen": [1, 2, 3]}
    assert snapshot.messages_applied == 4
    assert snapshot.type == Counter.name
    assert snapshot.owner is not None
    assert snapshot.epoch >= 1
    history = await cluster.workflows.history(handle.id)
    assert [t.what for t in history] == ["started", "message", "message", "message", "message"]
    assert history[-1].status == "completed"


async def test_start_by_name_is_idempotent_and_refuses_another_type(
    node: hazelkit.Cluster, name: str
) -> None:
    Counter, Order = counter(name), order(name)
    async with node.workflows.host(Counter, Order, lease=LEASE):
        await node.workflows.start(Counter.name, f"{name}-1", 5)
        await node.workflows.start(Counter, f"{name}-1", 99)  # exists: nothing changes
        with pytest.raises(hazelkit.ConfigurationError, match="exists already"):
            await node.workflows.start(Order, f"{name}-1")
        await node.workflows.send(f"{name}-1", 1)
        snapshot = await node.workflows.wait(f"{name}-1", lambda s: s.messages_applied == 1)
    assert snapshot.state["total"] == 6


async def test_a_send_retried_with_the_same_key_is_applied_once(
    node: hazelkit.Cluster, name: str
) -> None:
    Counter = counter(name)
    async with node.workflows.host(Counter, lease=LEASE):
        await node.workflows.start(Counter, f"{name}-1")
        for _ in range(3):
            await node.workflows.send(f"{name}-1", 7, key="payment-42")
        await node.workflows.send(f"{name}-1", 1)
        snapshot = await node.workflows.wait(f"{name}-1", total_is(8))
    assert snapshot.state["seen"] == [7, 1]


async def test_a_send_whose_reply_was_lost_is_applied_once(
    node: hazelkit.Cluster, cluster: hazelkit.Cluster, name: str
) -> None:
    Counter = counter(name)
    faults = inject_faults(cluster)
    async with node.workflows.host(Counter, lease=LEASE):
        await cluster.workflows.start(Counter, f"{name}-1")
        faults.drop("ringbuffer.add", times=2)
        await cluster.workflows.send(f"{name}-1", 5)  # stored, reply lost, stored again
        await cluster.workflows.send(f"{name}-1", 1)
        snapshot = await node.workflows.wait(
            f"{name}-1", lambda s: (s.state or {}).get("total", 0) >= 6
        )
    assert snapshot.state["seen"] == [5, 1]


async def test_sending_to_a_workflow_never_started_is_a_clear_error(
    node: hazelkit.Cluster, name: str
) -> None:
    with pytest.raises(hazelkit.NoSuchEntityError, match="start it first"):
        await node.workflows.send(f"{name}-nobody", 1)
    with pytest.raises(hazelkit.NoSuchEntityError):
        await node.workflows.get(f"{name}-nobody")


async def test_a_state_machine_with_a_timer(node: hazelkit.Cluster, name: str) -> None:
    Order = order(name)
    async with node.workflows.host(Order, lease=LEASE):
        handle = await node.workflows.start(Order, f"{name}-o", 30)
        await handle.send("pay")
        await handle.send({"type": "anything"})
        paid = await handle.wait(lambda s: (s.state or {}).get("reminded") is True, timeout=20)
        assert paid.state["ignored"] == 1
        await handle.send("ship")
        assert await handle.result(timeout=20) == 30


async def test_timers_fire_once_and_survive_in_the_record(
    node: hazelkit.Cluster, name: str
) -> None:
    Counter = counter(name)
    async with node.workflows.host(Counter, lease=LEASE):
        await node.workflows.start(Counter, f"{name}-t")
        await node.workflows.send(f"{name}-t", {"timer": "a", "after": 0.2})
        await node.workflows.send(f"{name}-t", {"timer": "b", "after": 0.4})
        pending = await node.workflows.wait(f"{name}-t", lambda s: len(s.timers) == 2)
        assert set(pending.timers) == {"a", "b"}
        fired = await node.workflows.wait(
            f"{name}-t", lambda s: len((s.state or {}).get("fired", [])) == 2, timeout=20
        )
    assert fired.state["fired"] == ["a", "b"]
    assert fired.timers == {}


async def test_a_poison_message_pauses_only_its_workflow_until_skipped(
    node: hazelkit.Cluster, name: str
) -> None:
    Counter = counter(name)
    async with node.workflows.host(Counter, lease=LEASE):
        await node.workflows.start(Counter, f"{name}-bad")
        await node.workflows.start(Counter, f"{name}-good")
        await node.workflows.send(f"{name}-bad", 1)
        await node.workflows.send(f"{name}-bad", "boom")
        await node.workflows.send(f"{name}-bad", 2)  # held behind the poison message
        await node.workflows.send(f"{name}-good", 3)
        # Paused at "boom"; message 2 is held by the commit after the one that paused.
        paused = await node.workflows.wait(
            f"{name}-bad", lambda s: s.status is WorkflowStatus.PAUSED and s.held == 2
        )
        assert "boom" in (paused.error or "")
        good = await node.workflows.wait(f"{name}-good", total_is(3))
        assert good.status is WorkflowStatus.RUNNING
        await node.workflows.skip(f"{name}-bad", "bad input")
        resumed = await node.workflows.wait(f"{name}-bad", total_is(3))
    assert resumed.status is WorkflowStatus.RUNNING
    assert resumed.state["seen"] == [1, 2]
    history = [t.what for t in await node.workflows.history(f"{name}-bad")]
    assert any(what.startswith("paused") for what in history)
    assert any("skipped" in what and "bad input" in what for what in history)


async def test_an_undecodable_message_pauses_its_workflow_with_the_bytes_kept(
    node: hazelkit.Cluster, name: str
) -> None:
    Counter = counter(name)
    async with node.workflows.host(Counter, lease=LEASE):
        await node.workflows.start(Counter, f"{name}-u")
        client = node.workflows._client
        await client.deliver(f"{name}-u", "k1", "msg", b"\x00not hazelkit", timeout=5)
        paused = await node.workflows.wait(f"{name}-u", WorkflowStatus.PAUSED)
        assert "undecodable" in (paused.error or "")
        await node.workflows.skip(f"{name}-u", "foreign bytes")
        await node.workflows.send(f"{name}-u", 4)
        running = await node.workflows.wait(f"{name}-u", total_is(4))
    assert running.status is WorkflowStatus.RUNNING


async def test_terminate_and_fail_end_a_workflow(node: hazelkit.Cluster, name: str) -> None:
    Counter = counter(name)
    async with node.workflows.host(Counter, lease=LEASE):
        await node.workflows.start(Counter, f"{name}-x")
        await node.workflows.terminate(f"{name}-x", "no longer needed")
        with pytest.raises(hazelkit.EntityFailedError, match="no longer needed") as failed:
            await node.workflows.result(f"{name}-x", timeout=20)
        assert failed.value.status == "terminated"
        await node.workflows.send(f"{name}-x", 1)  # ignored after the end
        snapshot = await node.workflows.wait(f"{name}-x", lambda s: s.last_sequence >= 2)
    assert snapshot.state == {"total": 0, "seen": []}


async def test_the_outbox_sends_and_publishes_after_the_commit(
    node: hazelkit.Cluster, name: str
) -> None:
    Counter = counter(name)
    topic = node.reliable_topic(f"{name}-events")
    subscription = await topic.subscribe()
    async with node.workflows.host(Counter, lease=LEASE):
        await node.workflows.start(Counter, f"{name}-a")
        await node.workflows.start(Counter, f"{name}-b")
        await node.workflows.send(f"{name}-a", {"send": f"{name}-b", "value": 9})
        await node.workflows.send(f"{name}-a", {"publish": f"{name}-events", "value": "hi"})
        b = await node.workflows.wait(f"{name}-b", total_is(9))
        message = await subscription.get(timeout=20)
    await subscription.aclose()
    assert b.state["seen"] == [9]
    assert message.value == "hi"
    a = await node.workflows.get(f"{name}-a")
    assert a.messages_applied == 2


async def test_list_finds_workflows_by_type_and_status(node: hazelkit.Cluster, name: str) -> None:
    Counter, Order = counter(name), order(name)
    async with node.workflows.host(Counter, Order, lease=LEASE):
        for number in range(3):
            await node.workflows.start(Counter, f"{name}-c{number}")
        await node.workflows.start(Order, f"{name}-o")
        await node.workflows.send(f"{name}-c0", "done")
        await node.workflows.wait(f"{name}-c0")
        counters = [s.id async for s in node.workflows.list(type=Counter)]
        done = [s.id async for s in node.workflows.list(type=Counter, status="completed")]
    assert sorted(counters) == [f"{name}-c0", f"{name}-c1", f"{name}-c2"]
    assert done == [f"{name}-c0"]


async def test_a_newer_definition_migrates_an_older_state(url: str, name: str) -> None:
    type_name = f"{name}.versioned"

    class V1(Workflow):
        name = type_name
        version = 1

        def initial(self, args: object) -> object:
            return {"n": 0}

        async def handle(self, ctx: object, state: dict, message: int) -> dict:  # type: ignore[type-arg]
            return {"n": state["n"] + message}

    class V2(Workflow):
        name = type_name
        version = 2

        def initial(self, args: object) -> object:
            return {"count": 0}

        def migrate(self, from_version: int, state: dict) -> dict:  # type: ignore[type-arg]
            return {"count": state["n"]}

        async def handle(self, ctx: object, state: dict, message: int) -> dict:  # type: ignore[type-arg]
            return {"count": state["count"] + message}

    async with hazelkit.connect(url) as old, hazelkit.connect(url) as new:
        async with old.workflows.host(V1, lease=LEASE):
            await old.workflows.start(V1, f"{name}-v")
            await old.workflows.send(f"{name}-v", 5)
            await old.workflows.wait(f"{name}-v", lambda s: s.state == {"n": 5})
        async with new.workflows.host(V2, lease=LEASE):
            await new.workflows.send(f"{name}-v", 1)
            upgraded = await new.workflows.wait(f"{name}-v", lambda s: s.version == 2)
    assert upgraded.state == {"count": 6}


def test_definitions_are_checked_when_written() -> None:
    with pytest.raises(hazelkit.ConfigurationError, match="needs a name"):

        class Nameless(Workflow):
            async def handle(self, ctx: object, state: object, message: object) -> object:
                return state

    with pytest.raises(hazelkit.ConfigurationError, match="no handler"):

        class Idle(Workflow):
            name = "t.idle"

    with pytest.raises(hazelkit.ConfigurationError, match="both"):

        class Twice(Workflow):
            name = "t.twice"
            state_field = "s"

            @on("a", "x")
            async def one(self, ctx: object, state: object, message: object) -> object:
                return state

            @on("a", "x")
            async def two(self, ctx: object, state: object, message: object) -> object:
                return state

    with pytest.raises(hazelkit.ConfigurationError, match=r"no handler for states \['b'\]"):

        class Missing(Workflow):
            name = "t.missing"
            state_field = "s"
            states = frozenset({"a", "b", "end"})
            final = frozenset({"end"})

            @on("a")
            async def one(self, ctx: object, state: object, message: object) -> object:
                return state


async def test_the_runtime_keeps_its_records_in_named_maps(
    node: hazelkit.Cluster, name: str
) -> None:
    Counter = counter(name)
    async with node.workflows.host(Counter, lease=LEASE):
        await node.workflows.start(Counter, f"{name}-m")
        await node.workflows.wait(f"{name}-m", WorkflowStatus.RUNNING)
    raw = (
        await lowlevel.backend(node)
        .map("hazelkit.workflows")
        .get(node.codec.encode_key(f"{name}-m"))
    )
    assert raw is not None


def test_the_blocking_facade_runs_workflows(url: str, name: str) -> None:
    Counter = counter(name)
    with hazelkit.connect_blocking(url) as cluster, cluster.workflows.host(Counter, lease=LEASE):
        handle = cluster.workflows.start(Counter, f"{name}-b", 1)
        cluster.workflows.send(handle.id, 2)
        cluster.workflows.send(handle.id, "done")
        assert cluster.workflows.result(handle.id, timeout=20) == 3
        assert cluster.workflows.get(handle.id).status is WorkflowStatus.COMPLETED
        assert [s.id for s in cluster.workflows.list(type=Counter)] == [handle.id]
        assert cluster.workflows.history(handle.id)[-1].status == "completed"
