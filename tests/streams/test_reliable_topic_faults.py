"""A reliable topic on two real members with backups, while the member that owns its
ringbuffer is killed: every message of two publishing nodes arrives exactly once, in
publish order, at a subscriber that began on the empty topic, one that began later, and
one closed after the failure and resumed from its next_sequence."""

from __future__ import annotations

import uuid
from typing import Any

import anyio
import pytest

import hazelkit
from hazelkit._streams._reliable_reader import ReliableMessage, ReliableSubscription
from hazelkit.testing import LocalCluster
from member_helpers import owner_index, start_members

pytestmark = [pytest.mark.slow, pytest.mark.hazelcast_only]

MESSAGES = 1500  # per publisher
PUBLISHERS = 2


@pytest.mark.timeout(400)
async def test_every_message_exactly_once_in_order_while_a_member_dies() -> None:
    local = LocalCluster(2)  # the test config gives maps and ringbuffers one backup
    try:
        await anyio.to_thread.run_sync(start_members, local)
        name = f"rt-fault-{uuid.uuid4().hex[:8]}"
        async with (
            hazelkit.connect(local.url) as node_a,
            hazelkit.connect(local.url) as node_b,
            hazelkit.connect(local.url) as subscriber_node,
        ):
            subscribe = subscriber_node.reliable_topic(name).subscribe
            # One subscriber begins on the empty topic, one after the first message,
            # and one is closed after the failure and resumed from its next_sequence.
            early = await subscribe()
            await node_a.reliable_topic(name, publish_timeout=120).publish("warm-up")
            victim = await owner_index(node_a, local, name)
            late, resumable = await subscribe(), await subscribe()
            streams: dict[str, list[Any]] = {"early": [], "late": [], "resumed": []}
            published, killed = 0, anyio.Event()

            async def produce(node: hazelkit.Cluster, tag: str) -> None:
                nonlocal published
                topic = node.reliable_topic(name, publish_timeout=120)
                for i in range(MESSAGES):
                    await topic.publish((tag, i))
                    published += 1

            async def kill_midway() -> None:
                while published < PUBLISHERS * MESSAGES // 3:
                    await anyio.sleep(0.01)
                await anyio.to_thread.run_sync(local.kill_member, victim)
                killed.set()

            async def resume_after_the_kill() -> None:
                nonlocal resumable
                received = streams["resumed"]
                await consume(resumable, received, stop_after=PUBLISHERS * MESSAGES // 2)
                await killed.wait()
                await resumable.aclose()
                resumable = await subscribe(resumable.next_sequence)
                await consume(resumable, received)

            with anyio.fail_after(300):
                async with anyio.create_task_group() as tg:
                    tg.start_soon(consume, early, streams["early"])
                    tg.start_soon(consume, late, streams["late"])
                    tg.start_soon(resume_after_the_kill)
                    tg.start_soon(produce, node_a, "a")
                    tg.start_soon(produce, node_b, "b")
                    tg.start_soon(kill_midway)
            subscriptions = {"early": early, "late": late, "resumed": resumable}
            report = {key: (sub.duplicates, sub.lost) for key, sub in subscriptions.items()}
            for subscription in subscriptions.values():
                await subscription.aclose()

        assert streams["early"][0].value == "warm-up"
        for key, received in streams.items():
            assert all(isinstance(m, ReliableMessage) for m in received), key
            for tag in ("a", "b"):
                values = [m.value[1] for m in received if m.value[0] == tag]
                assert values == list(range(MESSAGES)), f"{key}: every message of {tag} once"
            assert report[key][1] == 0
        print(
            f"killed member {victim} (the ringbuffer's owner) after {PUBLISHERS * MESSAGES // 3}"
            f" messages; (repeats dropped, lost) per subscriber: {report}"
        )
    finally:
        await anyio.to_thread.run_sync(local.stop)


async def consume(
    subscription: ReliableSubscription[Any], received: list[Any], *, stop_after: int = 0
) -> None:
    """Collect messages until both publishers' last one arrived (or ``stop_after``)."""
    finished: set[str] = set()
    async for message in subscription:
        received.append(message)
        value = message.value if isinstance(message, ReliableMessage) else None
        if isinstance(value, tuple) and value[1] == MESSAGES - 1:
            finished.add(value[0])
        if finished == {"a", "b"} or (stop_after and len(received) >= stop_after):
            return
