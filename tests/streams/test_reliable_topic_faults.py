"""A reliable topic on two real members with backups, while the member that owns its
ringbuffer is killed: every message arrives exactly once, in order."""

from __future__ import annotations

import os
import uuid
from typing import Any

import anyio
import pytest

import hazelkit
from hazelkit._reliable_reader import ReliableMessage
from hazelkit.testing import LocalCluster

pytestmark = [pytest.mark.slow, pytest.mark.hazelcast_only]

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
MESSAGES = 3000


async def owner_of(cluster: hazelkit.Cluster, local: LocalCluster, name: str) -> int:
    """The index in ``local`` of the member owning the partition of structure ``name``."""
    client: Any = cluster.backend.client  # type: ignore[attr-defined]
    partitions = client.partition_service
    partition = await partitions.get_partition_id(name)
    with anyio.fail_after(20):  # the client learns the partition table a little later
        while (owner := partitions.get_partition_owner(partition)) is None:
            await anyio.sleep(0.1)
    for member in client.cluster_service.get_members():
        if member.uuid == owner:
            address = f"{member.address.host}:{member.address.port}"
            if address in local.addresses:
                return local.addresses.index(address)
    raise AssertionError(f"partition {partition} is owned by {owner}, not a member we know")


async def start(local: LocalCluster) -> None:
    try:
        await anyio.to_thread.run_sync(local.start)
    except hazelkit.ConfigurationError as error:
        if IN_CI:
            pytest.fail(f"Hazelcast members are required in CI: {error}")
        pytest.skip(f"no Hazelcast members available: {error}")


@pytest.mark.timeout(400)
async def test_every_message_exactly_once_in_order_while_a_member_dies() -> None:
    local = LocalCluster(2)  # the test config gives maps and ringbuffers one backup
    try:
        await start(local)
        name = f"rt-fault-{uuid.uuid4().hex[:8]}"
        async with (
            hazelkit.connect(local.url) as publisher_node,
            hazelkit.connect(local.url) as subscriber_node,
        ):
            topic = publisher_node.reliable_topic(name, publish_timeout=120)
            await topic.publish("warm-up")
            victim = await owner_of(publisher_node, local, name)
            received: list[Any] = []
            published = 0

            async with subscriber_node.reliable_topic(name).subscribe() as subscription:

                async def consume() -> None:
                    async for message in subscription:
                        received.append(message)
                        if isinstance(message, ReliableMessage) and message.value == MESSAGES - 1:
                            return

                async def produce() -> None:
                    nonlocal published
                    for i in range(MESSAGES):
                        await topic.publish(i)
                        published = i + 1

                async def kill_midway() -> None:
                    while published < MESSAGES // 3:
                        await anyio.sleep(0.01)
                    await anyio.to_thread.run_sync(local.kill_member, victim)

                with anyio.fail_after(300):
                    async with anyio.create_task_group() as tg:
                        tg.start_soon(consume)
                        tg.start_soon(produce)
                        tg.start_soon(kill_midway)
                duplicates = subscription.duplicates
                lost = subscription.lost

        values = [m.value for m in received if isinstance(m, ReliableMessage)]
        assert values == list(range(MESSAGES)), "every message exactly once, in order"
        assert all(isinstance(m, ReliableMessage) for m in received)
        sequences = [m.sequence for m in received]
        assert sequences == sorted(sequences)
        assert lost == 0
        print(
            f"killed member {victim} (the ringbuffer's owner) after {MESSAGES // 3} messages;"
            f" {duplicates} repeats of retried publishes were dropped"
        )
    finally:
        await anyio.to_thread.run_sync(local.stop)
