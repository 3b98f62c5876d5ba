"""How many grid calls an uncontended Lock costs: pinned, so the fast path cannot regress.

The figures are the ones argued in :mod:`hazelkit._coordination._lease` (the decision
record on round trips): a first acquire of a name on a Cluster reads the fencing
counter, later ones use the counter bytes that Cluster last saw.
"""

from __future__ import annotations

import inspect
import math
from collections import Counter

import hazelkit
from hazelkit._backends.protocol import MapStore
from hazelkit._coordination._fence import REMEMBERED_COUNTERS, CounterMemory
from hazelkit._coordination._lease import LEASE_MAP, MIN_LEASE
from hazelkit.testing import Faults, inject_faults
from timing import eventually

MAP_CALLS = sorted(
    f"map.{method}"
    for method, function in inspect.getmembers(MapStore, inspect.isfunction)
    if not method.startswith("_")
)


def grid_calls(faults: Faults) -> Counter[str]:
    """Every map call counted so far, by operation (zero counts left out)."""
    return Counter({op: n for op in MAP_CALLS if (n := faults.calls(op))})


async def one_pair(lock: hazelkit.Lock) -> int:
    async with lock as token:
        assert lock.held
    return token


async def test_an_uncontended_pair_after_the_first_costs_three_calls(
    cluster: hazelkit.Cluster, name: str
) -> None:
    faults = inject_faults(cluster)
    first = await one_pair(cluster.lock(name))
    cold = grid_calls(faults)
    assert cold == {"map.get": 1, "map.put_if_absent": 2, "map.remove_if_same": 1}
    second = await one_pair(cluster.lock(name))  # another handle: the counter is shared
    warm = grid_calls(faults) - cold
    assert warm == {"map.put_if_absent": 1, "map.replace_if_same": 1, "map.remove_if_same": 1}
    assert second == first + 1
    assert faults.calls("map.listen") == 0  # no waiter, no listener
    assert faults.calls("map.get", name=LEASE_MAP) == 1  # the counter, read once


async def test_a_counter_moved_by_another_node_is_read_until_left_alone(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str
) -> None:
    faults = inject_faults(cluster)
    lock = cluster.lock(name)
    tokens = [await one_pair(lock), await one_pair(cluster2.lock(name))]
    costs = []
    for _ in range(3):
        before = grid_calls(faults)
        tokens.append(await one_pair(lock))
        costs.append(grid_calls(faults) - before)
    stale, reread, guessed = costs
    # The guess went stale: a failed swap and a removal, then a take from a read.
    assert stale == {
        "map.put_if_absent": 2,
        "map.replace_if_same": 2,
        "map.remove_if_same": 2,
        "map.get": 1,
    }
    # Not trusted again until a read finds the counter where this Cluster left it.
    assert reread == {
        "map.get": 1,
        "map.put_if_absent": 1,
        "map.replace_if_same": 1,
        "map.remove_if_same": 1,
    }
    assert guessed == {"map.put_if_absent": 1, "map.replace_if_same": 1, "map.remove_if_same": 1}
    assert tokens == sorted(set(tokens))  # every token once, growing holder after holder


async def test_nodes_taking_turns_read_the_counter_and_skip_the_read_back(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str
) -> None:
    faults = inject_faults(cluster)
    mine, theirs = cluster.lock(name), cluster2.lock(name)
    tokens = [await one_pair(mine), await one_pair(theirs), await one_pair(mine)]
    for _ in range(3):
        tokens.append(await one_pair(theirs))
        before = grid_calls(faults)
        tokens.append(await one_pair(mine))
        assert grid_calls(faults) - before == {
            "map.get": 1,
            "map.put_if_absent": 1,
            "map.replace_if_same": 1,
            "map.remove_if_same": 1,
        }
    assert tokens == sorted(set(tokens))


async def test_a_take_slower_than_its_lease_reads_its_record_back(
    cluster: hazelkit.Cluster, name: str
) -> None:
    faults = inject_faults(cluster)
    lock = cluster.lock(name, lease=MIN_LEASE)
    await one_pair(lock)
    reads = faults.calls("map.get", name=LEASE_MAP)
    # Applied only after the holder's window (ceil(lease) - 1 s from the start) is over.
    faults.delay("map.put_if_absent", math.ceil(MIN_LEASE) - 1 + 0.2, name=LEASE_MAP)
    token = await lock.acquire()
    assert faults.calls("map.get", name=LEASE_MAP) == reads + 1  # the record, read back
    assert faults.calls("map.replace_if_same", name=LEASE_MAP) == 1  # the guess held
    await eventually(lambda: lock.held, what="the lease renewed")
    assert lock.token == token
    await lock.release()
    assert not await lock.locked()


async def test_a_swap_whose_reply_was_lost_is_followed_by_a_read(
    cluster: hazelkit.Cluster, name: str
) -> None:
    faults = inject_faults(cluster)
    lock = cluster.lock(name)
    first = await one_pair(lock)
    reads = faults.calls("map.get", name=LEASE_MAP)
    faults.drop("map.replace_if_same", name=LEASE_MAP)  # the guessed swap: applied, reply lost
    second = await one_pair(lock)
    assert faults.calls("map.get", name=LEASE_MAP) == reads + 1  # the counter, read again
    assert second == first + 2  # the token of the lost reply is skipped, never granted
    assert not await lock.locked()


def test_a_cluster_remembers_a_bounded_number_of_counters() -> None:
    memory = CounterMemory()
    keys = [f"fence-{n}".encode() for n in range(REMEMBERED_COUNTERS + 1)]
    for key in keys:
        memory.read(key, b"1")
    assert memory.guess(keys[0]) is None  # the oldest was forgotten
    assert memory.guess(keys[-1]) == b"1"
    memory.advanced(keys[-1], b"2")
    assert memory.guess(keys[-1]) == b"2"
    memory.read(keys[-1], b"5")  # another node moved it
    assert memory.guess(keys[-1]) is None
    memory.advanced(keys[-1], b"6")
    memory.read(keys[-1], b"6")  # left where this Cluster left it: trusted again
    assert memory.guess(keys[-1]) == b"6"
