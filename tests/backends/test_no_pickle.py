"""Nothing hazelkit sends is pickled, and nothing from the cluster is ever unpickled."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import pytest

import hazelkit
from hazelkit import lowlevel
from hazelkit._backends.hazelcast import HazelcastBackend
from hazelkit._backends.hazelcast._serialization import Blob, BlobSerializer
from hazelkit.testing import LocalCluster


def _mark(path: str) -> None:
    Path(path).write_text("the pickle payload ran")


class Evil:
    """Unpickling this writes a file: proof that code from the data ran."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (_mark, (self.path,))


class _PickleTripwire:
    """Stands in for the pickle module inside the Hazelcast client's serializer."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def dumps(self, *args: Any, **kwargs: Any) -> bytes:
        self.calls.append("dumps")
        raise AssertionError("hazelcast client tried to pickle a value")

    def loads(self, *args: Any, **kwargs: Any) -> Any:
        self.calls.append("loads")
        raise AssertionError("hazelcast client tried to unpickle a value")


@pytest.fixture
async def hz(hazelcast_members: LocalCluster) -> AsyncIterator[hazelkit.Cluster]:
    async with hazelkit.connect(hazelcast_members.url) as cluster:
        yield cluster


async def test_nothing_is_pickled_or_unpickled_in_normal_use(
    hz: hazelkit.Cluster, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hazelcast.serialization.serializer as client_serializer

    tripwire = _PickleTripwire()
    monkeypatch.setattr(client_serializer, "pickle", tripwire)
    value = {"when": __import__("datetime").datetime.now(), "id": uuid.uuid4(), "t": (1, 2)}
    users = hz.map(name)
    events: list[Any] = []
    registration = await lowlevel.backend(hz).map(name).listen(events.append)
    await users.put("k", value, ttl=60)
    assert await users.get("k") == value
    assert await users.replace_if_same("k", value, {"v": 2})
    assert await users.items() == [("k", {"v": 2})]
    await lowlevel.backend(hz).multimap(name).put(b"k", b"v")
    await lowlevel.backend(hz).queue(name).offer(b"item")
    assert await lowlevel.backend(hz).queue(name).poll() == b"item"
    await lowlevel.backend(hz).set(name).add(b"member")
    await lowlevel.backend(hz).list(name).append(b"element")
    await lowlevel.backend(hz).ringbuffer(name).add(b"logged")
    messages: list[Any] = []
    await lowlevel.backend(hz).topic(name).listen(messages.append)
    await lowlevel.backend(hz).topic(name).publish(b"news")
    with anyio.fail_after(10):
        while len(events) < 2 or not messages:
            await anyio.sleep(0.05)
    await registration.close()
    assert tripwire.calls == []


async def test_raw_bytes_or_other_objects_cannot_reach_the_client_pickler(
    hz: hazelkit.Cluster, name: str
) -> None:
    backend = lowlevel.backend(hz)
    assert isinstance(backend, HazelcastBackend)
    proxy = await backend.client.get_map(name)
    for unknown in (b"plain bytes", Evil("/nonexistent"), object()):
        with pytest.raises(Exception, match="refuses to send"):
            await proxy.put(Blob(b"k"), unknown)
    assert await proxy.size() == 0


async def test_pickled_values_from_the_cluster_are_refused(
    hz: hazelkit.Cluster, hazelcast_members: LocalCluster, name: str, tmp_path: Path
) -> None:
    """Another client (without hazelkit's guard) stores pickled objects; hazelkit must
    refuse to decode them, and the payload must never run."""
    from hazelcast.asyncio import HazelcastClient

    marker = tmp_path / "pwned"
    address = hazelcast_members.addresses[0]
    cluster_name = hazelcast_members.url.split("cluster=")[1]
    raw = await HazelcastClient.create_and_start(
        cluster_name=cluster_name,
        cluster_members=[address],
        custom_serializers={Blob: BlobSerializer},
    )
    try:
        raw_map = await raw.get_map(name)
        await raw_map.put(Blob(hz.codec.encode_key("k")), Evil(str(marker)))
        raw_queue = await raw.get_queue(name)
        await raw_queue.offer(Evil(str(marker)))
    finally:
        await raw.shutdown()

    with pytest.raises(hazelkit.UndecodableError, match="never unpickles") as read:
        await hz.map(name).get("k")
    assert read.value.stored_in == name  # left where it was
    with pytest.raises(hazelkit.UndecodableError, match="never unpickles") as bulk:
        await hz.map(name).values()
    assert bulk.value.partial == []
    # Taking it from the queue neither unpickles nor loses it: it is parked.
    with pytest.raises(hazelkit.UndecodableError, match="never unpickles") as taken:
        await hz.queue(name).get(timeout=5)
    assert taken.value.stored_in == f"hazelkit.undecodable/{name}"
    assert await lowlevel.backend(hz).list(taken.value.stored_in).items() == [taken.value.data]
    assert not marker.exists()
    # The refused value is still there, untouched: nothing was lost by refusing it.
    assert await hz.map(name).size() == 1
