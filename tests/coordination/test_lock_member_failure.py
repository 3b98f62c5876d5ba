"""A lock contended by tasks on two nodes while the member holding its lease record is
killed (real Hazelcast, two members, one backup): still one holder at a time, tokens
still strictly increasing, and every task gets its turns."""

from __future__ import annotations

import itertools
import os
import random
import time
import uuid
from typing import Any

import anyio
import pytest

import hazelkit
from hazelkit._backends.hazelcast._serialization import Blob
from hazelkit._lease import LEASE_MAP
from hazelkit.testing import LocalCluster

pytestmark = [pytest.mark.slow, pytest.mark.hazelcast_only]

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
LEASE = 3.0
DURATION = 20.0  # of contention; the member dies a third of the way in


async def owner_of_key(cluster: hazelkit.Cluster, local: LocalCluster, key: bytes) -> int:
    """The index in ``local`` of the member owning the partition of map key ``key``."""
    client: Any = cluster.backend.client  # type: ignore[attr-defined]
    partitions = client.partition_service
    partition = await partitions.get_partition_id(Blob(key))
    with anyio.fail_after(20):  # the client learns the partition table a little later
        while (owner := partitions.get_partition_owner(partition)) is None:
            await cluster.backend.map(LEASE_MAP).get(key)
            await anyio.sleep(0.1)
    for member in client.cluster_service.get_members():
        if member.uuid == owner:
            return local.addresses.index(f"{member.address.host}:{member.address.port}")
    raise AssertionError(f"partition {partition} is owned by {owner}, not a member we know")


@pytest.mark.timeout(400)
async def test_a_lock_excludes_and_fences_while_a_member_dies() -> None:
    local = LocalCluster(2)  # the test config gives maps one backup
    try:
        try:
            await anyio.to_thread.run_sync(local.start)
        except hazelkit.ConfigurationError as error:
            if IN_CI:
                pytest.fail(f"Hazelcast members are required in CI: {error}")
            pytest.skip(f"no Hazelcast members available: {error}")
        name = f"lock-fault-{uuid.uuid4().hex[:8]}"
        async with hazelkit.connect(local.url) as a, hazelkit.connect(local.url) as b:
            record = a.codec.encode_key(("lease", "lock", name, 0))
            victim = await owner_of_key(a, local, record)
            inside = 0
            overlaps = 0
            entries: list[tuple[int, int]] = []
            release_errors: list[str] = []
            stop = time.monotonic() + DURATION

            async def worker(node: hazelkit.Cluster, number: int) -> None:
                nonlocal inside, overlaps
                lock = node.lock(name, lease=LEASE)
                while time.monotonic() < stop:
                    token = await lock.acquire(timeout=60)
                    inside += 1
                    overlaps += inside > 1
                    entries.append((token, number))
                    await anyio.sleep(random.random() * 0.03)
                    inside -= 1
                    try:
                        await lock.release()
                    except hazelkit.HazelkitError as error:
                        # During the failover a release may fail or find its lease
                        # lapsed; the lease then lapses on its own.
                        release_errors.append(repr(error))

            async def kill_a_third_of_the_way_in() -> None:
                await anyio.sleep(DURATION / 3)
                await anyio.to_thread.run_sync(local.kill_member, victim)
                killed_at.append(len(entries))

            killed_at: list[int] = []
            with anyio.fail_after(300):
                async with anyio.create_task_group() as tg:
                    tg.start_soon(kill_a_third_of_the_way_in)
                    for number, node in enumerate([a, b] * 3):
                        tg.start_soon(worker, node, number)
            last_token = (await a.lock(name).statistics()).last_token

        tokens = [token for token, _ in entries]
        print(
            f"{len(entries)} turns, member {victim} (the lease record's owner) killed after"
            f" {killed_at[0]}; last token {last_token}; failed releases: {release_errors}"
        )
        assert overlaps == 0, "one holder at a time"
        assert all(x < y for x, y in itertools.pairwise(tokens)), "tokens increase"
        assert last_token == tokens[-1]
        assert len(entries) > killed_at[0] + 6, "turns went on after the member died"
        assert {number for _, number in entries[killed_at[0] :]} == set(range(6))
    finally:
        await anyio.to_thread.run_sync(local.stop)
