"""Migrations: in order, each once across concurrent nodes, recorded; a node that does
not know what was applied refuses (both backends)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

import hazelkit
from hazelkit.components import ComponentState, Migrations, System, using

pytestmark = pytest.mark.timeout(90)

Step = Callable[[hazelkit.Cluster], Awaitable[None]]


def recording(log: list[str], name: str, *, fails: bool = False) -> Step:
    async def step(cluster: hazelkit.Cluster) -> None:
        log.append(name)
        await asyncio.sleep(0.05)  # other nodes arrive meanwhile
        if fails:
            raise RuntimeError(f"{name} broke")

    return step


def three(log: list[str]) -> list[tuple[str, Step]]:
    return [(n, recording(log, n)) for n in ("001-create", "002-index", "003-backfill")]


async def test_ten_nodes_at_the_same_moment_apply_each_migration_once_in_order(
    nodes: list[hazelkit.Cluster], name: str
) -> None:
    log: list[str] = []
    sets = [Migrations(three(log), name=name) for _ in nodes]
    ran = await asyncio.gather(*(m.apply(c) for m, c in zip(sets, nodes, strict=True)))
    assert log == ["001-create", "002-index", "003-backfill"]
    assert sorted(n for applied in ran for n in applied) == sorted(log)
    assert await sets[0].applied(nodes[0]) == log
    assert await sets[1].apply(nodes[1]) == []  # nothing pending any more


async def test_a_new_migration_is_applied_after_the_ones_applied_before(
    cluster: hazelkit.Cluster, name: str
) -> None:
    log: list[str] = []
    await Migrations(three(log)[:2], name=name).apply(cluster)
    assert await Migrations(three(log), name=name).apply(cluster) == ["003-backfill"]
    assert log == ["001-create", "002-index", "003-backfill"]


async def test_a_node_that_knows_fewer_migrations_than_were_applied_refuses(
    cluster: hazelkit.Cluster, name: str
) -> None:
    log: list[str] = []
    await Migrations(three(log), name=name).apply(cluster)
    old = Migrations(three(log)[:2], name=name)
    with pytest.raises(hazelkit.ComponentError, match=r"applied 3 migrations.*knows 2") as e:
        await old.apply(cluster)
    assert "'003-backfill'" in str(e.value)
    assert e.value.component == name
    assert log == ["001-create", "002-index", "003-backfill"]


async def test_a_node_whose_names_differ_from_the_applied_ones_refuses(
    cluster: hazelkit.Cluster, name: str
) -> None:
    log: list[str] = []
    await Migrations(three(log)[:2], name=name).apply(cluster)
    renamed = [("001-create", recording(log, "x")), ("002-indexes", recording(log, "y"))]
    with pytest.raises(hazelkit.ComponentError, match=r"migration 2 was applied as '002-index'"):
        await Migrations(renamed, name=name).apply(cluster)


async def test_a_failed_migration_is_recorded_and_every_node_refuses_until_forgiven(
    nodes: list[hazelkit.Cluster], name: str
) -> None:
    log: list[str] = []
    steps = [
        ("001-ok", recording(log, "001-ok")),
        ("002-bad", recording(log, "002-bad", fails=True)),
    ]
    outcomes = await asyncio.gather(
        *(Migrations(steps, name=name).apply(c) for c in nodes[:4]), return_exceptions=True
    )
    assert log == ["001-ok", "002-bad"]
    errors = [o for o in outcomes if isinstance(o, hazelkit.ComponentError)]
    assert len(errors) == 4
    assert {e.error for e in errors} == {"RuntimeError: 002-bad broke"}
    assert sum(isinstance(e.__cause__, RuntimeError) for e in errors) == 1
    assert await Migrations(steps, name=name).applied(nodes[0]) == ["001-ok"]

    fixed = [steps[0], ("002-bad", recording(log, "002-fixed"))]
    await Migrations(fixed, name=name).forget_failure(nodes[5])
    assert await Migrations(fixed, name=name).apply(nodes[6]) == ["002-bad"]
    assert log[-1] == "002-fixed"


async def test_migrations_are_a_component_depending_on_the_cluster(
    url: str, name: str, cluster: hazelkit.Cluster
) -> None:
    log: list[str] = []  # (``cluster`` keeps an embedded grid alive between the systems)
    async with System(
        {
            "db": hazelkit.connect(url),
            "schema": using(Migrations(three(log), name=name), cluster="db"),
        }
    ) as system:
        assert system["schema"].applied_here == log == ["001-create", "002-index", "003-backfill"]

    old = System(
        {
            "cluster": hazelkit.connect(url),
            "schema": using(Migrations(three(log)[:1], name=name), "cluster"),
        }
    )
    with pytest.raises(hazelkit.ComponentError, match="'schema' failed to start") as e:
        await old.start()
    assert "run the newer code" in str(e.value)
    assert old.states == {"cluster": ComponentState.STOPPED, "schema": ComponentState.FAILED}


def test_migrations_are_checked_when_made() -> None:
    async def step(cluster: hazelkit.Cluster) -> None:
        pass

    with pytest.raises(hazelkit.ConfigurationError, match="two migrations are called 'a'"):
        Migrations([("a", step), ("a", step)])
    with pytest.raises(hazelkit.ArgumentError, match="needs a function"):
        Migrations([("a", "not callable")])  # type: ignore[list-item]


async def test_a_migrations_component_without_a_cluster_says_so() -> None:
    with pytest.raises(hazelkit.ComponentError, match="need a Cluster"):
        await System({"schema": Migrations([])}).start()
