"""Errors shared by every structure: bad names, closed clusters, unencodable values."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

import hazelkit

# (factory, an operation that writes, an operation that reads)
Operation = Callable[[Any], Awaitable[Any]]
STRUCTURES: dict[str, tuple[Operation, Operation]] = {
    "map": (lambda s: s.set("k", object()), lambda s: s.get("k")),
    "multimap": (lambda s: s.put("k", object()), lambda s: s.get("k")),
    "queue": (lambda s: s.put(object()), lambda s: s.poll()),
    "set": (lambda s: s.add(object()), lambda s: s.items()),
    "list": (lambda s: s.append(object()), lambda s: s.items()),
    "cache": (lambda s: s.set("k", object()), lambda s: s.get("k")),
    "atom": (lambda s: s.reset(object()), lambda s: s.deref()),
    "counter": (lambda s: s.set(object()), lambda s: s.get()),
}


@pytest.mark.parametrize("kind", sorted(STRUCTURES))
async def test_unencodable_values_change_nothing(url: str, name: str, kind: str) -> None:
    write, read = STRUCTURES[kind]
    async with hazelkit.connect(url) as node:
        structure = getattr(node, kind)(name)
        before = await read(structure)
        error = hazelkit.ValidationError if kind == "counter" else hazelkit.EncodeError
        with pytest.raises(error):
            await write(structure)
        assert await read(structure) == before


@pytest.mark.parametrize("kind", [*sorted(STRUCTURES), "ids"])
async def test_a_closed_cluster_refuses_every_structure(url: str, name: str, kind: str) -> None:
    async with hazelkit.connect(url) as node:
        structure = getattr(node, kind)(name)
    read = STRUCTURES[kind][1] if kind in STRUCTURES else (lambda s: s.new_id())
    with pytest.raises(hazelkit.ClusterClosedError):
        await read(structure)


@pytest.mark.parametrize("kind", [*sorted(STRUCTURES), "ids"])
@pytest.mark.parametrize("bad", ["", 42, None, b"bytes"])
async def test_names_must_be_non_empty_strings(
    cluster: hazelkit.Cluster, kind: str, bad: object
) -> None:
    with pytest.raises(hazelkit.ConfigurationError, match="name must be a non-empty str"):
        getattr(cluster, kind)(bad)


async def test_lookups_of_what_is_not_there_raise_hazelkit_errors_with_python_semantics(
    cluster: hazelkit.Cluster, name: str
) -> None:
    """A missing key, item or index raises a HazelkitError that is also the builtin
    error a dict, set or list raises, on both backends."""
    items = cluster.list(name)
    await items.append(1)
    with pytest.raises(hazelkit.IndexOutOfRangeError) as index_error:
        await items.get(5)
    assert isinstance(index_error.value, IndexError)
    with pytest.raises(hazelkit.ItemNotFoundError) as missing_item:
        await items.index(2)
    assert isinstance(missing_item.value, ValueError)
    with pytest.raises(hazelkit.KeyNotFoundError) as missing_set:
        await cluster.set(name).pop()
    assert isinstance(missing_set.value, KeyError)


def test_the_hazelcast_translation_never_lets_a_builtin_error_out() -> None:
    pytest.importorskip("hazelcast")
    from hazelcast import errors as hz

    from hazelkit._backends.hazelcast._errors import translate

    cases = {
        hz.IndexOutOfBoundsError("x"): hazelkit.IndexOutOfRangeError,
        IndexError("x"): hazelkit.IndexOutOfRangeError,
        hz.IllegalArgumentError("x"): hazelkit.InvalidArgumentError,
        ValueError("x"): hazelkit.InvalidArgumentError,
        hz.HazelcastSerializationError("x"): hazelkit.SerializationError,
        hz.HazelcastError("x"): hazelkit.BackendError,
    }
    for error, expected in cases.items():
        translated = translate(error, "get on 'm'")
        assert isinstance(translated, expected), (error, translated)
        assert "get on 'm'" in str(translated)
