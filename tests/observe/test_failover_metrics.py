"""Failovers and the time entities had no owner, measured by the node that takes over."""

from __future__ import annotations

import pytest
from telemetry_helpers import Telemetry

import hazelkit
from hazelkit.testing import crash
from sample_workflows import tally

pytestmark = pytest.mark.timeout(120)

LEASE = 3.0


async def test_a_crash_counts_failovers_and_each_waiting_entitys_ownerless_time(
    url: str, name: str, telemetry: Telemetry
) -> None:
    Adder = tally(name)
    entity = {"hazelkit.entity.family": "workflow", "hazelkit.entity.type": Adder.name}
    a, b, sender = [await hazelkit.connect(url) for _ in range(3)]
    try:
        a_node = (await a.workflows.host(Adder, lease=LEASE).start()).node
        await b.workflows.host(Adder, lease=LEASE).start()
        ids = [f"{name}-{n}" for n in range(12)]
        for workflow_id in ids:
            await sender.workflows.start(Adder, workflow_id)
        await crash(a)
        for workflow_id in ids:  # waiting in the inboxes of a's partitions, among others
            await sender.workflows.send(workflow_id, 1)
        for workflow_id in ids:
            snapshot = await sender.workflows.wait(workflow_id, lambda s: s.state == 1, timeout=60)
            assert snapshot.owner != a_node
    finally:
        for cluster in (b, sender):
            await cluster.close()
    failovers = telemetry.points("hazelkit.partition.failovers", entity)
    assert sum(p.value for p in failovers) >= 1  # a held some of the 16 partitions
    gaps = telemetry.points(
        "hazelkit.entity.ownerless.duration", {**entity, "hazelkit.partition.takeover": "failover"}
    )
    assert sum(p.count for p in gaps) >= 1
    assert 0 < max(p.max for p in gaps) < 60
    assert telemetry.metrics()["hazelkit.entity.ownerless.duration"].unit == "s"
