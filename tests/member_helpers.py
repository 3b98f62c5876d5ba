"""Real Hazelcast members in tests: starting them (a failure in CI, a skip elsewhere) and
finding which member owns a partition, so a fault test can kill exactly that one."""

from __future__ import annotations

import os
from typing import Any

import anyio
import pytest

import hazelkit
from hazelkit import lowlevel
from hazelkit.testing import LocalCluster

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def start_members(local: LocalCluster) -> None:
    """Start ``local``; without a JDK or the jar, fail in CI and skip elsewhere."""
    try:
        local.start()
    except hazelkit.ConfigurationError as error:
        local.stop()
        if IN_CI:
            pytest.fail(f"Hazelcast members are required in CI and could not start: {error}")
        pytest.skip(f"no Hazelcast members available: {error}")


async def owner_index(cluster: hazelkit.Cluster, local: LocalCluster, partition_key: Any) -> int:
    """The index in ``local`` of the member owning the partition of ``partition_key`` (a
    structure name, or a serialized map key), as ``cluster``'s client sees it."""
    client: Any = lowlevel.backend(cluster).client  # type: ignore[attr-defined]
    partitions = client.partition_service
    partition = await partitions.get_partition_id(partition_key)
    with anyio.fail_after(20):  # the client learns the partition table a little later
        while (owner := partitions.get_partition_owner(partition)) is None:
            await cluster.map("hazelkit.test-partition-table").get(partition)  # asks a member
            await anyio.sleep(0.1)
    for member in client.cluster_service.get_members():
        address = f"{member.address.host}:{member.address.port}"
        if member.uuid == owner and address in local.addresses:
            return local.addresses.index(address)
    raise AssertionError(f"partition {partition} is owned by {owner}, not a member we know")
