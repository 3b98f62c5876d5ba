"""A Cluster is a component like any other (both backends)."""

from __future__ import annotations

from typing import Any

import pytest

import hazelkit
from hazelkit.components import ComponentState, System, using

pytestmark = pytest.mark.timeout(60)


class Users:
    """Depends on the cluster; writes to it when it starts."""

    cluster: hazelkit.Cluster

    def __init__(self, name: str) -> None:
        self.name = name

    async def start(self) -> None:
        await self.cluster.map(self.name).put("ada", 1)

    async def count(self) -> int:
        return await self.cluster.map(self.name).size()


async def test_the_system_starts_the_cluster_injects_it_and_closes_it(url: str, name: str) -> None:
    cluster = hazelkit.connect(url)
    users = Users(name)
    system = System({"cluster": cluster, "users": using(users, "cluster")})
    async with system:
        assert users.cluster is cluster
        assert cluster.state is hazelkit.ClusterState.RUNNING
        assert await users.count() == 1
        health = (await system.health()).components["cluster"]
        assert (health.healthy, health.detail) == (True, "running")
    assert cluster.state is hazelkit.ClusterState.CLOSED
    assert system.states == {"cluster": ComponentState.STOPPED, "users": ComponentState.STOPPED}


async def test_a_failed_start_closes_the_cluster_again(url: str) -> None:
    class Broken:
        cluster: Any

        async def start(self) -> None:
            raise RuntimeError("no schema")

    cluster = hazelkit.connect(url)
    with pytest.raises(hazelkit.ComponentError, match="'app' failed to start"):
        await System({"cluster": cluster, "app": using(Broken(), "cluster")}).start()
    assert cluster.state is hazelkit.ClusterState.CLOSED
