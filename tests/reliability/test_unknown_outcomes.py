"""A write whose reply is lost: hazelkit names the outcome, and never applies it twice.

Each test loses the reply of one chosen grid write (``inject_faults(...).drop``: the
write is applied, the caller gets IndeterminateOperationError) and checks that what
hazelkit retries by itself is applied exactly once, and that what it cannot resolve is
reported as unknown, never as a failure that is safe to retry.
"""

from __future__ import annotations

import pytest

import hazelkit
from hazelkit._core import _witness as witness
from hazelkit.testing import inject_faults


async def test_a_swap_whose_reply_was_lost_is_applied_once(
    cluster: hazelkit.Cluster, name: str
) -> None:
    atom = cluster.atom(name, initial=0)
    await atom.swap(lambda v: v + 1)
    faults = inject_faults(cluster)
    faults.drop("map.replace_if_same", name="hazelkit.atoms", times=3)
    for _ in range(3):
        await atom.swap(lambda v: v + 1)  # resolved by reading back: no error
    assert await atom.deref() == 4


async def test_a_lost_create_and_a_lost_reset_are_applied_once(
    cluster: hazelkit.Cluster, name: str
) -> None:
    faults = inject_faults(cluster)
    faults.drop("map.put_if_absent", name="hazelkit.atoms")
    atom = cluster.atom(name, initial=0)
    assert await atom.swap(lambda v: v + 10) == 10
    faults.drop("map.replace_if_same", name="hazelkit.atoms")
    await atom.reset(5)
    assert await atom.swap(lambda v: v + 1) == 6


async def test_counter_adds_and_latch_count_downs_survive_lost_replies(
    cluster: hazelkit.Cluster, name: str
) -> None:
    faults = inject_faults(cluster)
    counter = cluster.counter(name)
    faults.drop("map.put_if_absent", name="hazelkit.counters")
    faults.drop("map.replace_if_same", name="hazelkit.counters", times=2)
    for _ in range(5):
        await counter.add(1)
    assert await counter.get() == 5
    latch = cluster.latch(name)
    assert await latch.try_set_count(3)
    faults.drop("map.replace_if_same", times=2)
    await latch.count_down()
    await latch.count_down()
    assert await latch.count() == 1


async def test_a_lock_release_whose_reply_was_lost_is_a_release(
    cluster: hazelkit.Cluster, name: str
) -> None:
    lock = cluster.lock(name, lease=5)
    faults = inject_faults(cluster)
    await lock.acquire()
    faults.drop("map.remove_if_same", name="hazelkit.leases")
    await lock.release()  # no LeaseExpiredError: it was ours and it is gone
    assert not await lock.locked()
    async with cluster.lock(name, lease=5) as token:
        assert token == 2


async def test_a_lock_take_whose_reply_was_lost_grants_each_token_once(
    cluster: hazelkit.Cluster, name: str
) -> None:
    faults = inject_faults(cluster)
    faults.drop("map.put_if_absent", name="hazelkit.leases")
    lock = cluster.lock(name, lease=5)
    async with lock as first:
        assert lock.held
    async with lock as second:
        assert second > first


async def test_map_compute_reports_an_unknown_outcome_and_does_not_retry(
    cluster: hazelkit.Cluster, name: str
) -> None:
    faults = inject_faults(cluster)
    users = cluster.map(name)
    await users.set("n", 1)
    faults.drop("map.replace_if_same", name=name)
    with pytest.raises(hazelkit.IndeterminateOperationError):
        await users.compute("n", lambda v: v + 1)
    assert await users.get("n") == 2  # applied once: it was not retried


async def test_queue_put_and_get_name_their_unknown_outcome(
    cluster: hazelkit.Cluster, name: str
) -> None:
    queue = cluster.queue(name)
    faults = inject_faults(cluster)
    faults.drop("queue.offer", name=name)
    with pytest.raises(hazelkit.IndeterminateOperationError):
        await queue.put("job")
    assert await queue.size() == 1  # it was added: a blind retry would duplicate it
    faults.drop("queue.poll", name=name)
    with pytest.raises(hazelkit.IndeterminateOperationError):
        await queue.get(timeout=5)
    assert await queue.size() == 0  # taken and lost: at most once, and said so


async def test_a_failed_call_that_was_not_sent_is_safe_to_retry(
    cluster: hazelkit.Cluster, name: str
) -> None:
    faults = inject_faults(cluster)
    faults.fail("queue.offer", name=name)
    with pytest.raises(hazelkit.ClusterUnavailableError):
        await cluster.queue(name).put("job")
    await cluster.queue(name).put("job")
    assert await cluster.queue(name).size() == 1


def test_witness_resolution_rules() -> None:
    one, two, mine = b"1" * 8, b"2" * 8, b"m" * 8
    replaced = witness.read(witness.write(b"\x01\x00v", witness.Record(b"\x01\x00u", (one,)), two))
    applied = witness.read(witness.write(b"\x01\x00w", replaced, mine))
    assert witness.resolve(mine, replaced, applied) is witness.Outcome.APPLIED
    other = witness.read(witness.write(b"\x01\x00x", replaced, b"o" * 8))
    assert witness.resolve(mine, replaced, other) is witness.Outcome.NOT_APPLIED
    record = applied
    for n in range(witness.WINDOW):  # ours scrolled out of the window
        record = witness.read(witness.write(b"\x01\x00y", record, bytes([n]) * 8))
    assert witness.resolve(mine, replaced, record) is witness.Outcome.UNKNOWN
    assert witness.read(b"\x01\x00plain") == witness.Record(b"\x01\x00plain")
