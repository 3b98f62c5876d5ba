"""Values written by other clients never break hazelkit's read paths.

Another application writes native Hazelcast values (str, int, list, bytearray, JSON)
into the structures hazelkit reads. Every read path reports them as UndecodableError
with their bytes (or leaves them out with ``partial``), never an AttributeError, never
a lost item, never a dropped neighbour.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

import hazelkit
from hazelkit import lowlevel
from hazelkit._backends.hazelcast._serialization import Blob, BlobSerializer
from hazelkit.testing import LocalCluster

pytestmark = pytest.mark.hazelcast_only

FOREIGN = ["text", 42, [1, "two"], bytearray(b"raw"), "json"]


@pytest.fixture
async def raw(hazelcast_members: LocalCluster) -> AsyncIterator[Any]:
    """A plain hazelcast-python-client on the same cluster: another application (it
    knows hazelkit's Blob type only so it can address hazelkit's keys)."""
    from hazelcast.asyncio import HazelcastClient

    client = await HazelcastClient.create_and_start(
        cluster_name=hazelcast_members.url.split("cluster=")[1],
        cluster_members=hazelcast_members.addresses,
        custom_serializers={Blob: BlobSerializer},
    )
    try:
        yield client
    finally:
        await client.shutdown()


def native(value: Any) -> Any:
    from hazelcast.core import HazelcastJsonValue

    return HazelcastJsonValue('{"a": 1}') if value == "json" else value


async def test_map_reads_report_foreign_values_and_keep_the_others(
    cluster: hazelkit.Cluster, raw: Any, name: str
) -> None:
    users = cluster.map(name)
    await users.set("ada", 1)
    raw_map = await raw.get_map(name)
    for number, value in enumerate(FOREIGN):
        key = Blob(cluster.codec.encode_key(f"foreign-{number}"))
        await raw_map.put(key, native(value))
    await raw_map.put("a foreign key", "and value")
    for number in range(len(FOREIGN)):
        with pytest.raises(hazelkit.UndecodableError, match="not a hazelkit value") as error:
            await users.get(f"foreign-{number}")
        assert error.value.stored_in == name
        assert error.value.data[:1] == b"\x00"  # Hazelcast's own serialized bytes
    with pytest.raises(hazelkit.UndecodableError) as keys:
        await users.keys()
    assert sorted(keys.value.partial) == ["ada"] + [f"foreign-{n}" for n in range(len(FOREIGN))]
    assert len(keys.value.undecodable) == 1
    with pytest.raises(hazelkit.UndecodableError) as items:
        await users.items()
    assert items.value.partial == [("ada", 1)]
    assert len(items.value.undecodable) == len(FOREIGN) + 1
    with pytest.raises(hazelkit.UndecodableError) as values:
        await users.values()
    assert values.value.partial == [1]
    assert await users.size() == len(FOREIGN) + 2  # nothing was removed


async def test_foreign_queue_items_go_to_the_dead_letters_and_none_is_lost(
    cluster: hazelkit.Cluster, raw: Any, name: str
) -> None:
    queue = cluster.queue(name)
    raw_queue = await raw.get_queue(name)
    await queue.put("first")
    for value in FOREIGN:
        await raw_queue.offer(native(value))
    await queue.put("last")
    assert await queue.get(timeout=5) == "first"
    parked = []
    for _ in FOREIGN:
        with pytest.raises(hazelkit.UndecodableError) as error:
            await queue.get(timeout=5)
        parked.append(error.value.data)
    assert await queue.get(timeout=5) == "last"
    assert error.value.stored_in == f"hazelkit.undecodable/{name}"
    assert await lowlevel.backend(cluster).list(error.value.stored_in).items() == parked


async def test_sets_and_lists_report_foreign_items_with_the_others(
    cluster: hazelkit.Cluster, raw: Any, name: str
) -> None:
    await cluster.set(name).add("mine")
    await cluster.list(name).append("mine")
    raw_set, raw_list = await raw.get_set(name), await raw.get_list(name)
    for value in FOREIGN[:3]:
        await raw_set.add(native(value))
        await raw_list.add(native(value))
    await cluster.list(name).append("also mine")
    with pytest.raises(hazelkit.UndecodableError) as in_set:
        await cluster.set(name).items()
    assert in_set.value.partial == ["mine"]
    with pytest.raises(hazelkit.UndecodableError) as in_list:
        await cluster.list(name).items()
    assert in_list.value.partial == ["mine", "also mine"]
    with pytest.raises(hazelkit.UndecodableError):
        await cluster.list(name).get(1)
    assert await cluster.list(name).get(4) == "also mine"


async def test_entry_events_report_a_foreign_write_and_go_on(
    cluster: hazelkit.Cluster, raw: Any, name: str
) -> None:
    users = cluster.map(name)
    key = Blob(cluster.codec.encode_key("k"))
    raw_map = await raw.get_map(name)
    async with users.events("k") as events:
        await users.set("k", 1)
        await raw_map.put(key, "foreign")
        await users.set("k", 2)
        first = await events.get(timeout=10)
        with pytest.raises(hazelkit.UndecodableError):
            await events.get(timeout=10)
        third = await events.get(timeout=10)
    assert (first.value, third.value) == (1, 2)


async def test_a_topic_reports_a_foreign_message_and_goes_on(
    cluster: hazelkit.Cluster, raw: Any, name: str
) -> None:
    topic = cluster.topic(name)
    raw_topic = await raw.get_topic(name)
    async with topic.subscribe() as messages:
        await topic.publish("one")
        await raw_topic.publish("foreign")
        await topic.publish("two")
        received: list[Any] = []
        for _ in range(3):
            try:
                received.append((await messages.get(timeout=10)).value)
            except hazelkit.UndecodableError as error:
                received.append(error.data[:1])
    assert received.count(b"\x00") == 1
    assert [r for r in received if r != b"\x00"] == ["one", "two"]


async def test_a_reliable_topic_delivers_every_good_message_around_a_foreign_one(
    cluster: hazelkit.Cluster, raw: Any, name: str
) -> None:
    topic = cluster.reliable_topic(name)
    await topic.publish("one")
    await (await raw.get_ringbuffer(name)).add("foreign item")
    await topic.publish("two")
    subscription = topic.subscribe("oldest")
    first = await subscription.get(timeout=10)
    with pytest.raises(hazelkit.UndecodableError) as error:
        await subscription.get(timeout=10)
    assert (error.value.sequence, error.value.stored_in) == (1, name)
    assert subscription.next_sequence == 2
    second = await subscription.get(timeout=10)
    assert (first.value, second.value) == ("one", "two")
    await subscription.aclose()
    skipping = topic.subscribe("oldest", on_undecodable="skip")
    values = [(await skipping.get(timeout=10)).value for _ in range(2)]
    assert values == ["one", "two"]
    assert skipping.undecodable == 1
    await skipping.aclose()
    parked = await lowlevel.backend(cluster).list(f"hazelkit.undecodable/{name}").items()
    assert len(parked) == 1
