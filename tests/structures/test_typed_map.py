"""Typed map handles: ``cluster.map(name, KeyType, ValueType)`` converts what it writes and
what it reads into the declared types (msgspec's strict rules), on both backends."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

import hazelkit
from hazelkit import ArgumentError, UndecodableError
from hazelkit.codec import register


@register("tests.typed.User")
@dataclass
class User:
    name: str
    langs: tuple[str, ...] = ()


async def test_a_typed_map_converts_what_it_writes(cluster: hazelkit.Cluster, name: str) -> None:
    users = cluster.map(name, str, User)
    assert (users.key_type, users.value_type) == (str, User)
    await users.put("ada", User("Ada", ("analytical",)))
    await users.put("bob", {"name": "Bob", "langs": ["lisp"]})  # type: ignore[arg-type]
    assert await users.get("ada") == User("Ada", ("analytical",))
    assert await users.get("bob") == User("Bob", ("lisp",))  # stored as a User
    assert await cluster.map(name).get("bob") == User("Bob", ("lisp",))


async def test_a_wrong_key_or_value_is_refused_before_anything_is_written(
    cluster: hazelkit.Cluster, name: str
) -> None:
    counts = cluster.map(name, str, int)
    with pytest.raises(ArgumentError, match=r"holds keys of type str; 1 is not one"):
        await counts.put(1, 1)  # type: ignore[arg-type]
    with pytest.raises(ArgumentError, match=r"holds values of type int"):
        await counts.put("a", "1")  # type: ignore[arg-type]
    with pytest.raises(ArgumentError, match=r"holds values of type int"):
        await counts.put("a", True)  # a bool is not an int here
    assert isinstance(ArgumentError("x"), TypeError)
    assert await counts.size() == 0


async def test_a_declared_float_key_type_makes_1_and_1_0_one_key(
    cluster: hazelkit.Cluster, name: str
) -> None:
    prices = cluster.map(name, float, str)
    await prices.put(1, "one")  # type: ignore[arg-type]  # converted to 1.0
    assert await prices.get(1.0) == "one"
    assert await prices.keys() == [1.0]


async def test_a_stored_value_of_another_type_is_reported_and_left_in_place(
    cluster: hazelkit.Cluster, name: str
) -> None:
    await cluster.map(name).put("eve", {"nick": 3})  # written by an untyped handle
    await cluster.map(name).put("ada", User("Ada"))
    users = cluster.map(name, str, User)
    with pytest.raises(UndecodableError, match=r"not of the declared type User"):
        await users.get("eve")
    with pytest.raises(UndecodableError) as caught:
        await users.items()
    assert caught.value.partial == [("ada", User("Ada"))]
    assert await cluster.map(name).get("eve") == {"nick": 3}  # still there


async def test_a_stored_key_of_another_type_is_reported(
    cluster: hazelkit.Cluster, name: str
) -> None:
    await cluster.map(name).put_all({1: "one", "two": "two"})
    numbers = cluster.map(name, int, str)
    with pytest.raises(UndecodableError, match=r"not of the declared type int") as caught:
        await numbers.keys()
    assert caught.value.partial == [1]


def test_a_blocking_typed_map(url: str, name: str) -> None:
    with hazelkit.connect_blocking(url) as cluster:
        users = cluster.map(name, str, User)
        users["ada"] = User("Ada")
        assert users["ada"] == User("Ada")
        with pytest.raises(ArgumentError):
            users["bob"] = "Bob"  # type: ignore[assignment]
        assert list(users) == ["ada"]


def test_a_type_msgspec_cannot_check_is_refused_at_once(url: str, name: str) -> None:
    with hazelkit.connect_blocking(url) as cluster, pytest.raises(ArgumentError):
        cluster.map(name, str, object())  # type: ignore[call-overload]


def test_typed_handles_need_no_annotation_under_mypy_strict(tmp_path: Path) -> None:
    source = textwrap.dedent(
        """
        from dataclasses import dataclass
        from typing import assert_type

        import hazelkit
        from hazelkit.blocking import BlockingMap


        @dataclass
        class User:
            name: str


        async def typed(cluster: hazelkit.Cluster) -> None:
            users = cluster.map("users", str, User)
            assert_type(users, hazelkit.Map[str, User])
            assert_type(await users.get("ada"), User | None)


        def blocking(cluster: hazelkit.BlockingCluster) -> None:
            assert_type(cluster.map("users", str, User), BlockingMap[str, User])
        """
    )
    script = tmp_path / "typed_handles.py"
    script.write_text(source, encoding="utf-8")
    completed = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path), str(script)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
