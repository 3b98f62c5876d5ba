"""With encryption, a value is bound to where it is stored: moved, it does not decrypt."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest

import hazelkit
from hazelkit import lowlevel
from hazelkit.codec import Codec, Encryption

KEY = os.urandom(32)


@pytest.fixture
async def secret(url: str) -> AsyncIterator[hazelkit.Cluster]:
    async with hazelkit.connect(url, codec=Codec(encryption=Encryption(keys=[KEY]))) as node:
        yield node


async def test_a_map_value_moved_to_another_key_or_map_does_not_decrypt(
    secret: hazelkit.Cluster, name: str
) -> None:
    accounts = secret.map(name)
    await accounts.set("ada", {"balance": 100})
    raw_map = lowlevel.backend(secret).map(name)
    raw = await raw_map.get(secret.codec.encode_key("ada"))
    assert raw is not None
    await raw_map.set(secret.codec.encode_key("mallory"), raw)
    await lowlevel.backend(secret).map(f"{name}-other").set(secret.codec.encode_key("ada"), raw)
    for where, key in ((name, "mallory"), (f"{name}-other", "ada")):
        with pytest.raises(hazelkit.UndecodableError) as moved:
            await secret.map(where).get(key)
        assert isinstance(moved.value.__cause__, hazelkit.DecryptionError)
    assert await accounts.get("ada") == {"balance": 100}  # in its place it still reads


async def test_a_queue_item_moved_to_another_queue_does_not_decrypt(
    secret: hazelkit.Cluster, name: str
) -> None:
    await secret.queue(name).put("job for queue one")
    raw = await lowlevel.backend(secret).queue(name).poll()
    assert raw is not None
    await lowlevel.backend(secret).queue(f"{name}-2").offer(raw)
    with pytest.raises(hazelkit.UndecodableError) as moved:
        await secret.queue(f"{name}-2").get(timeout=5)
    assert isinstance(moved.value.__cause__, hazelkit.DecryptionError)


async def test_encrypted_structures_work_in_place(secret: hazelkit.Cluster, name: str) -> None:
    m = secret.map(name)
    await m.put_all({"a": 1, "b": 2})
    assert sorted(await m.values()) == [1, 2]
    assert sorted(await m.items()) == [("a", 1), ("b", 2)]
    assert await m.compute("a", lambda v: v + 1) == 2
    assert await m.replace_if_same("b", 2, 3)
    assert await secret.atom(name, initial=0).swap(lambda v: v + 5) == 5
    cache = secret.cache(name)
    await cache.set("k", "v")
    assert await cache.get("k") == "v"
    topic = secret.reliable_topic(name)
    subscription = await topic.subscribe()
    await topic.publish("hello")
    assert (await subscription.get(timeout=10)).value == "hello"
    await subscription.aclose()
    async with m.events() as events:
        await m.set("c", 3)
        assert (await events.get(timeout=10)).value == 3
