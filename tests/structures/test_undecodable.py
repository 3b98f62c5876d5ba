"""Values a node cannot decode are never lost by taking them, on both backends.

The ``sender`` node knows the type ``Job``; the ``taker`` node does not (as when a
type is registered only in some processes), so every ``Job`` is undecodable there.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pytest

import hazelkit
from hazelkit.codec import Codec, TypeRegistry


@dataclasses.dataclass(frozen=True)
class Job:
    n: int


@pytest.fixture
async def sender(url: str) -> AsyncIterator[hazelkit.Cluster]:
    registry = TypeRegistry()
    registry.register(Job, name="test-undecodable.Job")
    async with hazelkit.connect(url, codec=Codec(registry=registry)) as connected:
        yield connected


@pytest.fixture
async def taker(url: str) -> AsyncIterator[hazelkit.Cluster]:
    async with hazelkit.connect(url) as connected:
        yield connected


def undecodable(error: pytest.ExceptionInfo[hazelkit.SerializationError]) -> None:
    """The error says why (an UnknownTypeError is its cause) and carries the bytes."""
    assert isinstance(error.value.__cause__, hazelkit.UnknownTypeError)
    data = error.value.data
    assert isinstance(data, bytes)
    assert data


async def test_queue_get_and_poll_park_the_item_and_go_on(
    sender: hazelkit.Cluster, taker: hazelkit.Cluster, name: str
) -> None:
    await sender.queue(name).put(Job(1))
    await sender.queue(name).put("plain")
    queue = taker.queue(name)
    with pytest.raises(hazelkit.UndecodableError, match=r"hazelkit\.undecodable/") as error:
        await queue.get(timeout=5)
    undecodable(error)
    assert error.value.stored_in == f"hazelkit.undecodable/{name}"
    assert await queue.get(timeout=5) == "plain"  # the next item is not blocked
    await sender.queue(name).put(Job(2))
    with pytest.raises(hazelkit.SerializationError):
        await queue.poll()
    assert await queue.size() == 0
    # Nothing is lost: a node that knows the type finds both in the dead letters.
    assert await sender.queue(name).dead_letters.items() == [Job(1), Job(2)]
    assert queue.dead_letters.name == f"hazelkit.undecodable/{name}"


async def test_queue_drain_returns_the_good_items_and_parks_the_others(
    sender: hazelkit.Cluster, taker: hazelkit.Cluster, name: str
) -> None:
    for item in ("a", Job(1), "b", Job(2), "c"):
        await sender.queue(name).put(item)
    assert await taker.queue(name).drain() == ["a", "b", "c"]
    assert await sender.queue(name).dead_letters.items() == [Job(1), Job(2)]


async def test_list_pop_puts_the_item_back(
    sender: hazelkit.Cluster, taker: hazelkit.Cluster, name: str
) -> None:
    await sender.list(name).extend(["a", Job(1), "c"])
    with pytest.raises(hazelkit.UndecodableError) as error:
        await taker.list(name).pop(1)
    undecodable(error)
    assert error.value.stored_in == name
    assert await sender.list(name).items() == ["a", Job(1), "c"]
    assert await taker.list(name).pop() == "c"
    # An item this node cannot decode equals nothing, and does not stop a search.
    assert await taker.list(name).index("a") == 0
    assert not await taker.list(name).contains("missing")


async def test_set_pop_takes_a_member_it_can_decode(
    sender: hazelkit.Cluster, taker: hazelkit.Cluster, name: str
) -> None:
    await sender.set(name).add_all([Job(1), "plain", Job(2)])
    assert await taker.set(name).pop() == "plain"
    with pytest.raises(hazelkit.UndecodableError) as error:
        await taker.set(name).pop()  # only undecodable members left: nothing taken
    assert isinstance(error.value.__cause__, hazelkit.UnknownTypeError)
    assert error.value.stored_in == name
    assert sorted(j.n for j in await sender.set(name).items()) == [1, 2]


async def test_map_pop_and_remove_leave_the_value(
    sender: hazelkit.Cluster, taker: hazelkit.Cluster, name: str
) -> None:
    await sender.map(name).set("k", Job(1))
    with pytest.raises(hazelkit.UndecodableError) as error:
        await taker.map(name).pop("k")
    assert isinstance(error.value.__cause__, hazelkit.UnknownTypeError)
    with pytest.raises(hazelkit.UndecodableError, match="left in"):
        await taker.map(name).remove("k")
    assert await sender.map(name).get("k") == Job(1)
    assert await taker.map(name).pop("missing", "default") == "default"
    await sender.map(name).set("plain", 1)
    assert await taker.map(name).remove("plain") == 1
    assert await taker.map(name).remove("plain") is None


async def test_map_put_and_replace_say_the_write_happened(
    sender: hazelkit.Cluster, taker: hazelkit.Cluster, name: str
) -> None:
    await sender.map(name).set("k", Job(1))
    with pytest.raises(hazelkit.SerializationError, match="was stored") as error:
        await taker.map(name).put("k", "new")
    undecodable(error)
    assert error.value.stored_in is None
    assert await taker.map(name).get("k") == "new"
    await sender.map(name).set("k", Job(2))
    with pytest.raises(hazelkit.SerializationError, match="was stored") as error:
        await taker.map(name).replace("k", "newer")
    assert sender.codec.decode(error.value.data) == Job(2)
    assert await taker.map(name).get("k") == "newer"


async def test_multimap_remove_all_puts_the_values_back(
    sender: hazelkit.Cluster, taker: hazelkit.Cluster, name: str
) -> None:
    await sender.multimap(name).put("k", Job(1))
    await sender.multimap(name).put("k", "plain")
    with pytest.raises(hazelkit.UndecodableError) as error:
        await taker.multimap(name).remove_all("k")
    undecodable(error)
    assert sorted(map(repr, await sender.multimap(name).get("k"))) == ["'plain'", "Job(n=1)"]
