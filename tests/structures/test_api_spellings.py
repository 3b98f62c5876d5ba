"""Decisions about the API's shape, on both backends: an atom reads with ``get`` (or
``deref``); ``set`` is the plain write on Atom, Map and Cache; map keys are equal only
when their type and value are (``1``, ``1.0`` and ``True`` are three keys)."""

from __future__ import annotations

import pytest

import hazelkit


async def test_an_atom_reads_with_get_and_writes_with_set(
    cluster: hazelkit.Cluster, name: str
) -> None:
    atom = cluster.atom(name, initial=0, validator=lambda v: v >= 0)
    assert await atom.get() == await atom.deref() == 0
    assert await atom.set(5) is None
    assert await atom.get() == await atom.deref() == 5
    with pytest.raises(hazelkit.ValidationError):
        await atom.set(-1)
    assert await atom.get() == 5


def test_a_blocking_atom_reads_with_get_and_writes_with_set(url: str, name: str) -> None:
    with hazelkit.connect_blocking(url) as cluster:
        atom = cluster.atom(name, initial="a")
        assert atom.get() == atom.deref() == "a"
        atom.set("b")
        assert atom.get() == atom.deref() == "b"


async def test_set_is_the_plain_write_of_map_and_cache(
    cluster: hazelkit.Cluster, name: str
) -> None:
    users, cache = cluster.map(f"{name}-map"), cluster.cache(f"{name}-cache")
    await users.set("ada", 1)
    await cache.set("ada", 1)
    assert await users.get("ada") == await cache.get("ada") == 1
    # Only the Map's put returns what it replaced.
    assert await users.put("ada", 2) == 1


async def test_map_keys_of_equal_value_but_other_type_are_different_keys(
    cluster: hazelkit.Cluster, name: str
) -> None:
    m = cluster.map(name)
    await m.put(1, "int")
    await m.put(1.0, "float")
    await m.put(True, "bool")
    assert await m.size() == 3
    assert [await m.get(k) for k in (1, 1.0, True)] == ["int", "float", "bool"]
    # Keys that are equal in value and type are one key, however they were made.
    await m.put(int("1"), "int again")
    assert await m.size() == 3
    assert await m.get(1) == "int again"


def test_a_blocking_map_keeps_1_and_true_apart_unlike_a_dict(url: str, name: str) -> None:
    with hazelkit.connect_blocking(url) as cluster:
        m = cluster.map(name)
        m[1] = "int"
        m[True] = "bool"
        assert len({1: "int", True: "bool"}.items()) == 1  # noqa: F601 (a dict merges them ...)
        assert len(m) == 2  # ... a Map does not
        assert m[1] == "int"
        assert m[True] == "bool"
        assert 1.0 not in m
