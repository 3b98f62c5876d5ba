"""Membership and connection state against real Hazelcast members joining, leaving and dying."""

from __future__ import annotations

from collections.abc import Iterator

import anyio
import pytest

import hazelkit
from hazelkit import ClusterState
from hazelkit.testing import LocalCluster

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]


@pytest.fixture
def members() -> Iterator[LocalCluster]:
    with LocalCluster(1) as local:
        yield local


async def test_hazelcast_membership_events(members: LocalCluster) -> None:
    async with hazelkit.connect(members.url) as cluster:
        assert [m.address for m in cluster.members()] == members.addresses
        async with cluster.membership_events() as events:
            added = members.add_member()
            joined = await events.get(timeout=60)
            assert joined.joined
            assert joined.member.address == added.address
            assert len(cluster.members()) == 2
            members.stop_member(1)
            left = await events.get(timeout=60)
            assert left.left
            assert left.member.address == added.address
            assert len(cluster.members()) == 1


async def test_losing_every_member_disconnects_and_recovers(members: LocalCluster) -> None:
    async with hazelkit.connect(members.url, connect_timeout=60, operation_timeout=5) as cluster:
        await cluster.map("m").put("k", "v")
        async with cluster.lifecycle_events() as events:
            members.kill_member(0)
            event = await events.get(timeout=60)
            assert event.state is ClusterState.DISCONNECTED
            assert cluster.state is ClusterState.DISCONNECTED
            with pytest.raises((hazelkit.ClusterUnavailableError, hazelkit.OperationTimeoutError)):
                with anyio.fail_after(30):
                    await cluster.map("m").get("k")
            members.restart_member(0)
            event = await events.get(timeout=90)
            assert event.state is ClusterState.RUNNING
        # The only member died, so its data is gone, but the connection works again.
        assert await cluster.map("m").get("k") is None


async def test_a_wrong_cluster_name_says_so_within_the_connect_timeout(
    members: LocalCluster,
) -> None:
    wrong = members.url.replace("cluster=", "cluster=not-")
    started = anyio.current_time()
    with pytest.raises(hazelkit.ClusterUnavailableError, match="check the cluster name"):
        await hazelkit.connect(wrong, connect_timeout=2)
    assert anyio.current_time() - started < 2 + 0.5


async def test_a_refused_connection_says_so_within_the_connect_timeout() -> None:
    started = anyio.current_time()
    with pytest.raises(hazelkit.ClusterUnavailableError, match="ConnectionRefusedError"):
        await hazelkit.connect("hazelcast://127.0.0.1:1?cluster=x", connect_timeout=1)
    assert anyio.current_time() - started < 1 + 0.5
