"""Agents: serial actions by name, exactly once, error modes, restart, watches, await."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

import hazelkit
from hazelkit.testing import crash

LEASE = 3.0
pytestmark = pytest.mark.timeout(90)


@hazelkit.action("test-agents.add")
def add(value: dict[str, int], item: str, count: int) -> dict[str, int]:
    return {**value, item: value.get(item, 0) + count}


@hazelkit.action("test-agents.append")
async def append(value: list[Any], item: Any) -> list[Any]:
    await asyncio.sleep(0)
    return [*value, item]


@hazelkit.action("test-agents.boom")
def boom(value: Any) -> Any:
    raise RuntimeError("boom")


@hazelkit.action("test-agents.non-negative")
def non_negative(value: dict[str, int]) -> bool:
    return all(count >= 0 for count in value.values())


SEEN_ERRORS: list[str] = []


@hazelkit.action("test-agents.on-error")
def on_error(agent: str, error: Exception) -> None:
    SEEN_ERRORS.append(f"{agent}: {error}")


@hazelkit.action("test-agents.forward")
async def forward(value: int, target: str) -> int:
    # Sent from inside an action: held until this action commits, delivered once.
    await hazelkit_cluster_of_test[0].agent(target, initial=[]).send(append, value)
    return value + 1


hazelkit_cluster_of_test: list[hazelkit.Cluster] = []


@pytest.fixture
async def node(url: str) -> AsyncIterator[hazelkit.Cluster]:
    async with hazelkit.connect(url) as connected, connected.agents.host(lease=LEASE):
        yield connected


async def test_actions_run_in_order_exactly_once(
    node: hazelkit.Cluster, cluster: hazelkit.Cluster, name: str
) -> None:
    stock = cluster.agent(name, initial={})
    for count in range(1, 11):
        await stock.send(add, "apples", count)
    await stock.send("test-agents.add", "pears", 2)  # by name as well
    await stock.await_(timeout=20)
    assert await stock.deref() == {"apples": 55, "pears": 2}
    assert await cluster.agent(name).deref() == {"apples": 55, "pears": 2}  # any handle


async def test_deref_before_the_first_action_is_the_initial_value(
    cluster: hazelkit.Cluster, name: str
) -> None:
    assert await cluster.agent(name, initial=[1]).deref() == [1]


async def test_an_unregistered_function_is_refused_at_once(
    cluster: hazelkit.Cluster, name: str
) -> None:
    def local(value: Any) -> Any:
        return value

    with pytest.raises(hazelkit.ArgumentError, match="not a registered action"):
        await cluster.agent(name).send(local)


async def test_fail_mode_stops_the_agent_with_its_actions_kept_until_restart(
    node: hazelkit.Cluster, name: str
) -> None:
    log = node.agent(name, initial=[])
    await log.send(append, 1)
    await log.send(boom)
    await log.send(append, 2)  # kept, not applied while the agent is failed
    await log.await_(timeout=20)
    assert "boom" in (await log.error() or "")
    assert await log.deref() == [1]
    await log.restart([100])  # drops the failed action, runs those queued after it
    await log.send(append, 3)
    await log.await_(timeout=20)
    assert await log.deref() == [100, 2, 3]
    assert await log.error() is None


async def test_restart_can_clear_the_queued_actions(node: hazelkit.Cluster, name: str) -> None:
    log = node.agent(name, initial=[])
    await log.send(boom)
    await log.send(append, 1)
    await log.await_(timeout=20)
    await log.restart([], clear_actions=True)
    await log.send(append, 2)
    await log.await_(timeout=20)
    assert await log.deref() == [2]


async def test_an_unknown_action_name_fails_only_its_agent(
    node: hazelkit.Cluster, name: str
) -> None:
    broken, fine = node.agent(f"{name}-a", initial=[]), node.agent(f"{name}-b", initial=[])
    await broken.send("test-agents.nobody-registered-this")
    await fine.send(append, 1)
    await broken.await_(timeout=20)
    await fine.await_(timeout=20)
    assert "nobody-registered-this" in (await broken.error() or "")
    assert await fine.deref() == [1]


async def test_continue_mode_calls_the_error_handler_and_goes_on(
    node: hazelkit.Cluster, name: str
) -> None:
    log = node.agent(name, initial=[], error_mode="continue", error_handler="test-agents.on-error")
    await log.send(append, 1)
    await log.send(boom)
    await log.send(append, 2)
    await log.await_(timeout=20)
    assert await log.deref() == [1, 2]
    assert await log.error() is None
    assert "boom" in (await log.last_error() or "")
    assert any(entry.startswith(name) for entry in SEEN_ERRORS)


async def test_a_validator_failure_is_an_error_of_that_action(
    node: hazelkit.Cluster, name: str
) -> None:
    stock = node.agent(name, initial={}, validator=non_negative)
    await stock.send(add, "apples", 2)
    await stock.send(add, "apples", -5)
    await stock.await_(timeout=20)
    assert "rejected" in (await stock.error() or "")
    assert await stock.deref() == {"apples": 2}


async def test_watches_see_every_change_on_every_node(
    node: hazelkit.Cluster, cluster: hazelkit.Cluster, name: str
) -> None:
    changes: list[tuple[Any, Any]] = []
    watched = cluster.agent(name, initial=[])
    await watched.add_watch("log", lambda old, new: changes.append((old, new)))
    writer = node.agent(name, initial=[])
    await writer.send(append, 1)
    await writer.send(append, 2)
    async with asyncio.timeout(20):
        while len(changes) < 2:
            await asyncio.sleep(0.05)
    assert changes == [([], [1]), ([1], [1, 2])]
    await watched.remove_watch("log")


async def test_sends_from_inside_an_action_are_held_until_it_commits(
    node: hazelkit.Cluster, name: str
) -> None:
    hazelkit_cluster_of_test[:] = [node]
    counter = node.agent(f"{name}-counter", initial=0)
    for _ in range(3):
        await counter.send(forward, f"{name}-log")
    await counter.await_(timeout=20)
    log = node.agent(f"{name}-log", initial=[])
    async with asyncio.timeout(20):
        while len(await log.deref()) < 3:
            await asyncio.sleep(0.05)
    assert await counter.deref() == 3
    assert await log.deref() == [0, 1, 2]


async def test_actions_from_many_senders_are_each_applied_once_through_a_crash(
    url: str, name: str
) -> None:
    first, second = await hazelkit.connect(url), await hazelkit.connect(url)
    senders = [await hazelkit.connect(url) for _ in range(3)]
    try:
        await first.agents.host(lease=LEASE).start()
        await second.agents.host(lease=LEASE).start()

        async def send(number: int, sender: hazelkit.Cluster) -> None:
            handle = sender.agent(name, initial=[])
            for item in range(20):
                await handle.send(append, (number, item))
                if number == 0 and item == 10:
                    await crash(first)
            await handle.await_(timeout=60)

        await asyncio.gather(*(send(n, s) for n, s in enumerate(senders)))
        final = await senders[0].agent(name, initial=[]).deref()
        assert sorted(final) == sorted((n, i) for n in range(3) for i in range(20))
        for number in range(3):  # each sender's actions in its own order
            assert [i for n, i in final if n == number] == list(range(20))
    finally:
        for cluster in (first, second, *senders):
            await cluster.close()


async def test_closing_a_node_gives_its_agents_back_at_once(url: str, name: str) -> None:
    first, second, client = [await hazelkit.connect(url) for _ in range(3)]
    try:
        await first.agents.host(lease=30.0).start()  # alone: it owns every agent
        log = client.agent(name, initial=[])
        await log.send(append, 1)
        await log.await_(timeout=20)
        await first.close()  # a graceful leave: its leases are released...
        closed = time.monotonic()
        await second.agents.host(lease=30.0).start()  # ...so no 30 s lease to wait out
        await log.send(append, 2)
        await log.await_(timeout=20)
        assert time.monotonic() - closed < 15.0
        assert await log.deref() == [1, 2]
    finally:
        for cluster in (first, second, client):
            await cluster.close()


def test_agents_and_singletons_from_blocking_code(url: str, name: str) -> None:
    started: list[int] = []

    async def job(token: int) -> None:
        started.append(token)
        await asyncio.Event().wait()

    with hazelkit.connect_blocking(url) as cluster, cluster.host_agents(lease=LEASE):
        log = cluster.agent(name, initial=[])
        log.send(append, "a")
        log.send("test-agents.append", "b")
        log.await_(timeout=20)
        assert log.deref() == ["a", "b"]
        with cluster.singleton(name, job, lease=LEASE) as singleton:
            for _ in range(200):  # bounded: up to 10 s
                if singleton.running_here:
                    break
                time.sleep(0.05)
            assert singleton.running_here
            assert singleton.status().running
        assert started
