"""Workflows subscribed to reliable topics: positions kept in the state, exactly once
through failover, repeats dropped, losses reported (both backends)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from definitions import listener

import hazelkit
from hazelkit.testing import crash, inject_faults
from hazelkit.workflows import WorkflowSnapshot, WorkflowStatus

LEASE = 3.0
pytestmark = pytest.mark.timeout(120)


def got(expected: list[Any]) -> Callable[[WorkflowSnapshot], bool]:
    return lambda s: isinstance(s.state, dict) and s.state["got"] == expected


@pytest.fixture
async def nodes(url: str) -> AsyncIterator[list[hazelkit.Cluster]]:
    clusters = [await hazelkit.connect(url) for _ in range(3)]
    try:
        yield clusters
    finally:
        for cluster in clusters:
            await cluster.close()


async def subscribed(sender: hazelkit.Cluster, workflow_id: str, topic: str, **start: Any) -> None:
    await sender.workflows.send(workflow_id, {"subscribe": topic, **start})
    await sender.workflows.wait(workflow_id, lambda s: topic in s.topics)


async def test_a_subscription_applies_each_message_once_in_order_from_latest(
    nodes: list[hazelkit.Cluster], name: str
) -> None:
    node, _, sender = nodes
    Listener = listener(name)
    topic = sender.reliable_topic(f"{name}-news")
    await topic.publish("before")
    async with node.workflows.host(Listener, lease=LEASE):
        await sender.workflows.start(Listener, f"{name}-l")
        await subscribed(sender, f"{name}-l", f"{name}-news")
        for value in range(5):
            await topic.publish(value)
        await sender.workflows.wait(f"{name}-l", got([0, 1, 2, 3, 4]), timeout=30)
        await sender.workflows.send(f"{name}-l", {"unsubscribe": f"{name}-news"})
        await sender.workflows.wait(f"{name}-l", lambda s: not s.topics)
        await topic.publish("after")
        await sender.workflows.send(f"{name}-l", {"noop": True})
        done = await sender.workflows.wait(f"{name}-l", lambda s: s.messages_applied >= 8)
    assert done.state["got"] == [0, 1, 2, 3, 4]


async def test_oldest_starts_at_the_head(nodes: list[hazelkit.Cluster], name: str) -> None:
    node, _, sender = nodes
    Listener = listener(name)
    topic = sender.reliable_topic(f"{name}-log")
    for value in ("a", "b"):
        await topic.publish(value)
    async with node.workflows.host(Listener, lease=LEASE):
        await sender.workflows.start(Listener, f"{name}-l")
        await sender.workflows.send(f"{name}-l", {"subscribe": f"{name}-log", "start": "oldest"})
        await sender.workflows.wait(f"{name}-l", got(["a", "b"]), timeout=30)


async def test_the_position_survives_a_crash_and_nothing_is_applied_twice(
    nodes: list[hazelkit.Cluster], name: str
) -> None:
    first, second, sender = nodes
    Listener = listener(name)
    topic = sender.reliable_topic(f"{name}-orders")
    await first.workflows.host(Listener, lease=LEASE).start()
    await sender.workflows.start(Listener, f"{name}-l")
    await subscribed(sender, f"{name}-l", f"{name}-orders")
    for value in range(10):
        await topic.publish(value)
    await sender.workflows.wait(f"{name}-l", got(list(range(10))), timeout=30)
    await crash(first)
    for value in range(10, 20):
        await topic.publish(value)
    await second.workflows.host(Listener, lease=LEASE).start()
    await sender.workflows.wait(f"{name}-l", got(list(range(20))), timeout=60)


async def test_the_repeat_of_a_retried_publish_is_applied_once(
    nodes: list[hazelkit.Cluster], name: str
) -> None:
    node, _, sender = nodes
    Listener = listener(name)
    faults = inject_faults(sender)
    topic = sender.reliable_topic(f"{name}-payments")
    async with node.workflows.host(Listener, lease=LEASE):
        await sender.workflows.start(Listener, f"{name}-l")
        await subscribed(sender, f"{name}-l", f"{name}-payments")
        faults.drop("ringbuffer.add", name=f"{name}-payments")  # stored, then retried
        faults.drop("ringbuffer.add_all", name=f"{name}-payments")
        await topic.publish("pay 10")
        await topic.publish("pay 20")
        assert await topic.tail() >= 2  # at least one repeat is stored
        await sender.workflows.wait(f"{name}-l", got(["pay 10", "pay 20"]), timeout=30)
        await sender.workflows.send(f"{name}-l", {"noop": True})
        snapshot = await sender.workflows.wait(f"{name}-l", lambda s: s.messages_applied >= 3)
    assert snapshot.state["got"] == ["pay 10", "pay 20"]


async def test_overwritten_messages_pause_the_workflow_naming_the_range(
    nodes: list[hazelkit.Cluster], name: str
) -> None:
    node, _, sender = nodes
    Listener = listener(name)
    topic = sender.reliable_topic(f"{name}-small", capacity=4)
    await topic.publish("x")
    hosting = await node.workflows.host(Listener, lease=LEASE).start()
    await sender.workflows.start(Listener, f"{name}-l")
    await subscribed(sender, f"{name}-l", f"{name}-small")
    await hosting.stop()  # nobody reads while the topic overwrites
    for value in range(10):
        await topic.publish(value)
    async with node.workflows.host(Listener, lease=LEASE):
        paused = await sender.workflows.wait(f"{name}-l", WorkflowStatus.PAUSED, timeout=30)
        assert "overwritten" in (paused.error or "")
        await sender.workflows.resume(f"{name}-l")
        resumed = await sender.workflows.wait(f"{name}-l", got([6, 7, 8, 9]), timeout=30)
    assert resumed.status is WorkflowStatus.RUNNING


async def test_a_loss_handler_lets_the_workflow_go_on(
    nodes: list[hazelkit.Cluster], name: str
) -> None:
    node, _, sender = nodes
    Listener = listener(name, tolerate_loss=True)
    topic = sender.reliable_topic(f"{name}-small", capacity=4)
    await topic.publish("x")
    hosting = await node.workflows.host(Listener, lease=LEASE).start()
    await sender.workflows.start(Listener, f"{name}-l")
    await subscribed(sender, f"{name}-l", f"{name}-small")
    await hosting.stop()
    for value in range(10):
        await topic.publish(value)
    async with node.workflows.host(Listener, lease=LEASE):
        done = await sender.workflows.wait(f"{name}-l", got([6, 7, 8, 9]), timeout=30)
    assert done.state["lost"] == [[1, 6]]


async def test_a_failing_topic_message_pauses_and_skip_moves_past_it(
    nodes: list[hazelkit.Cluster], name: str
) -> None:
    node, _, sender = nodes
    Listener = listener(name)
    topic = sender.reliable_topic(f"{name}-t")
    async with node.workflows.host(Listener, lease=LEASE):
        await sender.workflows.start(Listener, f"{name}-l")
        await subscribed(sender, f"{name}-l", f"{name}-t")
        for value in (1, "poison", 2):
            await topic.publish(value)
        await sender.workflows.wait(f"{name}-l", WorkflowStatus.PAUSED, timeout=30)
        await sender.workflows.skip(f"{name}-l", "bad message")
        await sender.workflows.wait(f"{name}-l", got([1, 2]), timeout=30)
