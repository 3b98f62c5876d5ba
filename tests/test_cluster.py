"""Connecting, lifecycle, membership and errors of the Cluster, on both backends."""

from __future__ import annotations

import socket
import time

import anyio
import pytest

import hazelkit
from hazelkit import ClusterState, lowlevel


async def test_states_and_lifecycle_stream(url: str) -> None:
    cluster = hazelkit.connect(url)
    assert cluster.state is ClusterState.STARTING
    with pytest.raises(hazelkit.ClusterClosedError, match="not started"):
        cluster.map("m")._store  # noqa: B018
    await cluster
    assert cluster.state is ClusterState.RUNNING
    events = cluster.lifecycle_events()
    await cluster.close()
    assert cluster.state is ClusterState.CLOSED
    seen = [event.state async for event in events]
    assert seen == [ClusterState.CLOSING, ClusterState.CLOSED]
    await cluster.close()  # idempotent


async def test_closed_cluster_refuses_work(url: str) -> None:
    async with hazelkit.connect(url) as cluster:
        users = cluster.map("users")
    with pytest.raises(hazelkit.ClusterClosedError, match="closed"):
        await users.get("k")


async def test_cannot_start_twice(url: str) -> None:
    async with hazelkit.connect(url) as cluster:
        with pytest.raises(hazelkit.HazelkitError, match="already started"):
            await cluster.start()


async def test_members(cluster: hazelkit.Cluster, backend: str) -> None:
    members = cluster.members()
    assert members
    assert all(m.uuid and m.address for m in members)
    if backend == "memory":
        assert [m.local for m in members] == [True]


async def test_embedded_membership_events(name: str) -> None:
    # Embedded nodes are members; Hazelcast membership is tested in test_cluster_hazelcast.
    url = f"memory://{name}"
    async with hazelkit.connect(url) as first:
        async with first.membership_events() as events:
            async with hazelkit.connect(url) as second:
                joined = await events.get(timeout=5)
                assert joined.joined
                assert {m.uuid for m in first.members()} == {m.uuid for m in second.members()}
                assert len(first.members()) == 2
            left = await events.get(timeout=5)
            assert left.left
            assert left.member == joined.member
        assert len(first.members()) == 1


async def test_embedded_grids_are_separate_and_vanish_with_last_member() -> None:
    async with hazelkit.connect("memory://grid-a") as a, hazelkit.connect("memory://grid-b") as b:
        await a.map("m").put("k", "a")
        assert await b.map("m").get("k") is None
    async with hazelkit.connect("memory://grid-a") as again:
        assert await again.map("m").get("k") is None


async def test_default_url_is_embedded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HAZELKIT_URL", raising=False)
    async with hazelkit.connect() as cluster:
        assert cluster.url == "memory://default"
    monkeypatch.setenv("HAZELKIT_URL", "memory://from-env")
    async with hazelkit.connect() as cluster:
        assert cluster.url == "memory://from-env"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_unreachable_cluster_fails_within_timeout() -> None:
    url = f"hazelcast://127.0.0.1:{_closed_port()}?cluster=nobody"
    started = time.monotonic()
    with pytest.raises(hazelkit.ClusterUnavailableError, match=r"127\.0\.0\.1"):
        await hazelkit.connect(url, connect_timeout=1.0)
    assert time.monotonic() - started < 10


async def test_wrong_cluster_name_fails_within_timeout(hazelcast_members) -> None:
    url = hazelcast_members.url.split("?")[0] + "?cluster=not-this-one"
    started = time.monotonic()
    with pytest.raises(hazelkit.ClusterUnavailableError):
        await hazelkit.connect(url, connect_timeout=1.0)
    assert time.monotonic() - started < 10


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("redis://localhost", "unknown cluster URL scheme 'redis'"),
        ("localhost:5701", "not a cluster URL"),
        ("hazelcast://", "names no member address"),
        ("hazelcast://host:notaport", "bad port"),
        ("hazelcast://host:70000", "bad port"),
        ("hazelcast://::1:5701", "must be in brackets"),
        ("hazelcast://h:5701?cluster=", "empty cluster name"),
        ("hazelcast://h:5701?colour=red", "unknown query parameter 'colour'"),
        ("hazelcast://h:5701?connect_timeout=soon", "not a number"),
        ("hazelcast://h:5701?tls=maybe", "not true or false"),
        ("hazelcast://h:5701/path", "unexpected path"),
        ("memory://grid?x=1", "takes only a grid name"),
        ("memory://u:secret@grid", "takes only a grid name"),
        ("hazelcast://host:²", "bad port"),
        ("hazelcast://[::1", "malformed cluster URL"),
        ("hazelcast://h:5701?connect_timeout=inf", "finite"),
        ("hazelcast://h:5701?operation_timeout=nan", "finite"),
    ],
)
def test_bad_urls_are_clear_errors(url: str, fragment: str) -> None:
    with pytest.raises(hazelkit.ConfigurationError, match=fragment.replace("?", r"\?")):
        hazelkit.connect(url)


def test_bad_options_are_clear_errors() -> None:
    with pytest.raises(hazelkit.ConfigurationError, match="unknown connect option"):
        hazelkit.connect("memory://x", colour="red")
    with pytest.raises(hazelkit.ConfigurationError, match="connect_timeout must be a positive"):
        hazelkit.connect("memory://x", connect_timeout=0)
    with pytest.raises(hazelkit.ConfigurationError, match="connect_timeout must be a positive"):
        hazelkit.connect("memory://x", connect_timeout=True)
    with pytest.raises(hazelkit.ConfigurationError, match="tls must be"):
        hazelkit.connect("hazelcast://h", tls="yes")
    with pytest.raises(hazelkit.ConfigurationError, match="smart_routing"):
        hazelkit.connect("hazelcast://h", smart_routing="no")


def test_scheme_is_case_insensitive() -> None:
    assert hazelkit.connect("MEMORY://grid").url == "memory://grid"


def test_secrets_never_appear_in_url_errors() -> None:
    with pytest.raises(hazelkit.ConfigurationError) as error:
        hazelkit.connect("memory://u:secret@grid")
    assert "secret" not in str(error.value)


def test_passwords_never_appear_in_errors_or_repr() -> None:
    with pytest.raises(hazelkit.ConfigurationError) as error:
        hazelkit.connect("hazelcast://alice:s3cret@h:bad")
    assert "s3cret" not in str(error.value)
    cluster = hazelkit.connect("hazelcast://alice:s3cret@h:5701?cluster=c")
    assert "s3cret" not in repr(cluster)
    assert "s3cret" not in cluster.url
    assert cluster.options.username == "alice"
    assert cluster.options.password == "s3cret"


def test_urls_parse_addresses_and_options() -> None:
    options = hazelkit.connect(
        "hazelcast://a,b:5702,[::1]:5703?cluster=prod&connect_timeout=2.5&smart_routing=false"
    ).options
    assert options.addresses == ("a:5701", "b:5702", "[::1]:5703")
    assert options.cluster_name == "prod"
    assert options.connect_timeout == 2.5
    assert options.smart_routing is False


async def test_background_tasks_end_with_the_cluster(url: str) -> None:
    async with hazelkit.connect(url) as cluster:
        task = lowlevel.spawn(cluster, anyio.sleep(3600), name="sleeper")
    assert task.cancelled()
    with pytest.raises(hazelkit.ClusterClosedError):
        lowlevel.spawn(cluster, anyio.sleep(1), name="too late")
