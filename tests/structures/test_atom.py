"""Atom on both backends: Clojure semantics, validators, watches on every node."""

from __future__ import annotations

from typing import Any

import anyio
import anyio.lowlevel
import pytest
from structure_helpers import wait_for

import hazelkit
from hazelkit.testing import inject_faults


async def test_deref_reset_swap(cluster: hazelkit.Cluster, name: str) -> None:
    atom = cluster.atom(name, initial={"count": 0})
    assert await atom.deref() == {"count": 0}
    assert await atom.swap(lambda v, n: {**v, "count": v["count"] + n}, 5) == {"count": 5}
    assert await atom.swap_vals(lambda v: {**v, "x": 1}) == ({"count": 5}, {"count": 5, "x": 1})
    assert await atom.reset(["new"]) == ["new"]
    assert await atom.deref() == ["new"]
    await atom.destroy()
    assert await atom.deref() == {"count": 0}


async def test_swaps_from_many_nodes_all_apply(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str
) -> None:
    atoms = [cluster.atom(name, initial=()), cluster2.atom(name, initial=())]

    async def append(atom: Any, tag: int) -> None:
        for i in range(20):
            await atom.swap(lambda v, item: (*v, item), (tag, i))

    async with anyio.create_task_group() as tg:
        for tag in range(4):
            tg.start_soon(append, atoms[tag % 2], tag)
    final = await atoms[0].deref()
    assert sorted(final) == sorted((tag, i) for tag in range(4) for i in range(20))
    for tag in range(4):  # each task's swaps applied in its own order
        assert [i for t, i in final if t == tag] == list(range(20))


async def test_swaps_through_one_cluster_take_turns_instead_of_racing(
    cluster: hazelkit.Cluster, name: str
) -> None:
    from hazelkit._core import _cas

    faults = inject_faults(cluster)
    counter = cluster.counter(name)

    async def swapper(number: int) -> None:
        atom = cluster.atom(name, initial=0)  # a handle per task: turns are per entry
        for _ in range(10):
            await atom.swap(lambda v: v + 1)
            await counter.add(1)

    async with anyio.create_task_group() as tg:
        for number in range(16):
            tg.start_soon(swapper, number)
    assert await cluster.atom(name, initial=0).deref() == 160
    assert await counter.get() == 160
    # Each swap and add is one compare-and-set (put_if_absent for the first write of an
    # entry): a lost race would have cost another one.
    writes = sum(
        faults.calls(f"map.{write}")
        for write in ("put_if_absent", "replace_if_same", "remove_if_same")
    )
    assert writes == 320  # no swap or add ever lost a race to a local one
    assert not _cas._turns.peek(cluster)  # nothing left behind


async def test_compare_and_set(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str
) -> None:
    atom, other = cluster.atom(name, initial=0), cluster2.atom(name, initial=0)
    assert not await atom.compare_and_set(1, 2)
    assert await atom.compare_and_set(0, 1)  # the initial value counts before any write
    assert not await other.compare_and_set(0, 5)
    assert not await other.compare_and_set(1.0, 5)  # types count
    assert await other.compare_and_set(1, {"b": 1, "a": 2})
    assert await atom.compare_and_set({"a": 2, "b": 1}, "done")
    assert await other.deref() == "done"


async def test_validator_rejections_change_nothing(cluster: hazelkit.Cluster, name: str) -> None:
    atom = cluster.atom(name, initial=0, validator=lambda v: isinstance(v, int) and v >= 0)
    await atom.reset(3)
    with pytest.raises(hazelkit.ValidationError, match="rejected -1"):
        await atom.reset(-1)
    with pytest.raises(hazelkit.ValidationError):
        await atom.swap(lambda v: v - 10)
    with pytest.raises(hazelkit.ValidationError):
        await atom.compare_and_set(3, "three")

    def explode(value: object) -> bool:
        if value == 4:
            raise RuntimeError("validator broke")
        return True

    raising = cluster.atom(name, initial=3, validator=explode)
    with pytest.raises(hazelkit.ValidationError, match="validator broke"):
        await raising.reset(4)
    assert await atom.deref() == 3
    with pytest.raises(hazelkit.ValidationError, match="rejected -5"):
        cluster.atom(name, initial=-5, validator=lambda v: v >= 0)
    with pytest.raises(hazelkit.ArgumentError, match="validator must be callable"):
        cluster.atom(name, validator=3)  # type: ignore[arg-type]

    async def async_validator(value: object) -> bool:
        return True

    # A misuse, not a rejection: ArgumentError, as for an async swap function.
    with pytest.raises(hazelkit.ArgumentError, match="validator must be a plain function"):
        cluster.atom(name, initial=0, validator=async_validator)


async def test_failing_or_bad_swaps_change_nothing(cluster: hazelkit.Cluster, name: str) -> None:
    atom = cluster.atom(name, initial=[1])

    def boom(value: object) -> object:
        raise KeyError("boom")

    async def coroutine(value: object) -> object:
        return value

    with pytest.raises(KeyError, match="boom"):
        await atom.swap(boom)
    with pytest.raises(hazelkit.ArgumentError, match="plain function"):
        await atom.swap(coroutine)
    with pytest.raises(hazelkit.ArgumentError, match="needs a function"):
        await atom.swap("not callable")  # type: ignore[arg-type]
    with pytest.raises(hazelkit.EncodeError):
        await atom.swap(lambda v: object())
    with pytest.raises(hazelkit.EncodeError):
        await atom.reset(object())
    assert await atom.deref() == [1]


async def test_watches_fire_on_every_node_that_added_one(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str
) -> None:
    seen: dict[str, list[tuple[Any, Any]]] = {"one": [], "two": [], "async": []}
    one, two = cluster.atom(name, initial=0), cluster2.atom(name, initial=0)
    await one.add_watch("w", lambda old, new: seen["one"].append((old, new)))
    await two.add_watch("w", lambda old, new: seen["two"].append((old, new)))

    async def async_watch(old: Any, new: Any) -> None:
        await anyio.lowlevel.checkpoint()
        seen["async"].append((old, new))

    await two.add_watch("a", async_watch)
    await one.swap(lambda v: v + 1)
    await two.reset(10)
    await one.swap(lambda v: v * 2)
    expected = [(0, 1), (1, 10), (10, 20)]
    await wait_for(lambda: all(len(s) == 3 for s in seen.values()))
    assert seen == {"one": expected, "two": expected, "async": expected}

    await two.remove_watch("w")
    await two.remove_watch("missing")
    await one.reset(7)
    await wait_for(lambda: len(seen["async"]) == 4 and len(seen["one"]) == 4)
    assert len(seen["two"]) == 3
    await one.remove_watch("w")
    await two.remove_watch("a")
    await one.reset(8)
    await anyio.sleep(0.3)
    assert len(seen["one"]) == 4
    assert len(seen["async"]) == 4


async def test_watches_see_the_old_value_of_a_destroyed_atom(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, name: str
) -> None:
    seen: list[tuple[Any, Any]] = []
    await cluster.atom(name, initial="initial").add_watch("w", lambda *change: seen.append(change))
    await cluster2.atom(name, initial="initial").reset({"held": 1})
    await cluster2.atom(name, initial="initial").destroy()
    await wait_for(lambda: len(seen) == 2)
    assert seen == [("initial", {"held": 1}), ({"held": 1}, "initial")]
    assert await cluster.atom(name, initial="initial").deref() == "initial"


async def test_a_failing_watch_does_not_stop_the_others(
    cluster: hazelkit.Cluster, name: str, caplog: pytest.LogCaptureFixture
) -> None:
    atom = cluster.atom(name, initial=0)
    seen: list[int] = []

    def broken(old: int, new: int) -> None:
        raise RuntimeError("watch broke")

    await atom.add_watch("broken", broken)
    await atom.add_watch("good", lambda old, new: seen.append(new))
    await atom.reset(1)
    await atom.reset(2)
    await wait_for(lambda: seen == [1, 2])
    assert "watch broke" in caplog.text
    with pytest.raises(hazelkit.ArgumentError, match="callable"):
        await atom.add_watch("x", "nope")  # type: ignore[arg-type]


async def test_closed_cluster(url: str, name: str) -> None:
    async with hazelkit.connect(url) as node:
        atom = node.atom(name, initial=1)
        await atom.add_watch("w", lambda old, new: None)
        await atom.reset(2)
    with pytest.raises(hazelkit.ClusterClosedError):
        await atom.swap(lambda v: v + 1)
    with pytest.raises(hazelkit.ClusterClosedError):
        await atom.deref()
