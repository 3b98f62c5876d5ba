"""inject_faults: chosen grid calls fail, lose their reply, stall or hang, and are counted."""

from __future__ import annotations

import asyncio

import pytest

import hazelkit
from hazelkit.testing import inject_faults


async def test_a_failed_call_is_not_applied(cluster: hazelkit.Cluster, name: str) -> None:
    faults = inject_faults(cluster)
    faults.fail("map.set", name=name)
    with pytest.raises(hazelkit.ClusterUnavailableError, match="not applied"):
        await cluster.map(name).set("k", 1)
    assert await cluster.map(name).get("k") is None
    await cluster.map(name).set("k", 2)  # the rule ran out
    assert await cluster.map(name).get("k") == 2


async def test_a_dropped_reply_was_applied_and_says_so(
    cluster: hazelkit.Cluster, name: str
) -> None:
    faults = inject_faults(cluster)
    faults.drop("map.set", name=name)
    with pytest.raises(hazelkit.IndeterminateOperationError, match="applied"):
        await cluster.map(name).set("k", 1)
    assert await cluster.map(name).get("k") == 1


async def test_a_hung_call_ends_with_the_callers_timeout_or_on_release(
    cluster: hazelkit.Cluster, name: str
) -> None:
    faults = inject_faults(cluster)
    faults.hang("map.set", name=name, times=2)
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.2):
            await cluster.map(name).set("k", 1)
    assert await cluster.map(name).get("k") is None
    hung = asyncio.ensure_future(cluster.map(name).set("k", 2))
    await asyncio.sleep(0.1)
    assert not hung.done()
    faults.release()
    await asyncio.wait_for(hung, 5)
    assert await cluster.map(name).get("k") == 2


async def test_a_delayed_call_is_applied_after_the_pause(
    cluster: hazelkit.Cluster, name: str
) -> None:
    faults = inject_faults(cluster)
    faults.delay("map.set", 0.3, name=name)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await cluster.map(name).set("k", 1)
    assert loop.time() - started >= 0.3
    assert await cluster.map(name).get("k") == 1


async def test_calls_are_counted_per_operation_and_name(
    cluster: hazelkit.Cluster, name: str
) -> None:
    faults = inject_faults(cluster)
    other = f"{name}-other"
    for value in range(3):
        await cluster.map(name).set("k", value)
    await cluster.map(other).set("k", 0)
    assert faults.calls("map.set", name=name) == 3
    assert faults.calls("map.set") == 4
    assert faults.calls("map.get") == 0


async def test_lost_events_are_not_delivered(cluster: hazelkit.Cluster, name: str) -> None:
    faults = inject_faults(cluster)
    faults.lose_events("map", name=name)
    async with cluster.map(name).events() as events:
        # One key: Hazelcast orders events per partition, not across keys.
        await cluster.map(name).set("k", 1)
        await cluster.map(name).set("k", 2)
        event = await events.get(timeout=10)
    assert event.value == 2  # the event of the first write was lost


async def test_a_custom_error_and_a_rule_for_one_name_only(
    cluster: hazelkit.Cluster, name: str
) -> None:
    faults = inject_faults(cluster)
    faults.fail("queue.offer", name=name, error=hazelkit.OperationTimeoutError("slow"))
    await cluster.queue(f"{name}-other").put(1)  # another name: untouched
    with pytest.raises(hazelkit.OperationTimeoutError, match="slow"):
        await cluster.queue(name).put(1)


async def test_bad_plans_are_refused_with_a_clear_error(cluster: hazelkit.Cluster) -> None:
    faults = inject_faults(cluster)
    assert inject_faults(cluster) is faults
    with pytest.raises(hazelkit.ConfigurationError, match=r"unknown operation 'map\.nope'"):
        faults.fail("map.nope")
    with pytest.raises(hazelkit.ConfigurationError, match="unknown operation"):
        faults.fail("cache.get")
    with pytest.raises(hazelkit.ConfigurationError, match="times"):
        faults.fail("map.get", times=0)
    with pytest.raises(hazelkit.ConfigurationError, match="kind"):
        faults.lose_events("atom")
