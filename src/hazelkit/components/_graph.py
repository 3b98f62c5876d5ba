"""The dependency graph of a System: checked when it is built, walked when it starts and
stops (each component as soon as what it waits for is done, independent ones
concurrently)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Mapping

from hazelkit._core._exceptions import ConfigurationError

__all__ = ["dependency_order", "reverse", "walk"]


def dependency_order(graph: Mapping[str, Collection[str]]) -> list[str]:
    """The names of ``graph`` (name → the names it depends on), each after its
    dependencies, ties in the order given. Raises ConfigurationError naming a missing
    dependency, or the path of a cycle (``a -> b -> a``)."""
    for name, needs in graph.items():
        for need in needs:
            if need not in graph:
                raise ConfigurationError(
                    f"component {name!r} depends on {need!r}, which is not in the system"
                    f" (it has {', '.join(map(repr, graph)) or 'nothing'})"
                )
    order: list[str] = []
    done: set[str] = set()
    for name in graph:
        _visit(graph, name, [], done, order)
    return order


def _visit(
    graph: Mapping[str, Collection[str]],
    name: str,
    path: list[str],
    done: set[str],
    order: list[str],
) -> None:
    if name in done:
        return
    if name in path:
        cycle = [*path[path.index(name) :], name]
        raise ConfigurationError(
            f"components depend on each other in a cycle: {' -> '.join(cycle)}"
        )
    path.append(name)
    for need in graph[name]:
        _visit(graph, need, path, done, order)
    path.pop()
    done.add(name)
    order.append(name)


def reverse(graph: Mapping[str, Collection[str]]) -> dict[str, list[str]]:
    """For each name, the names that depend on it."""
    dependents: dict[str, list[str]] = {name: [] for name in graph}
    for name, needs in graph.items():
        for need in needs:
            dependents[need].append(name)
    return dependents


async def walk(
    order: list[str],
    waits_for: Mapping[str, Collection[str]],
    step: Callable[[str], Awaitable[None]],
    *,
    stop_at_failure: bool,
) -> dict[str, Exception]:
    """Run ``step(name)`` for each name once every name it ``waits_for`` is done;
    return the failures by name, in the order they happened.

    With ``stop_at_failure``, no step begins after one failed (steps under way finish);
    otherwise every step runs, whatever failed before it. Cancelling the walk cancels
    the steps under way.
    """
    done = {name: asyncio.Event() for name in order}
    failures: dict[str, Exception] = {}

    async def one(name: str) -> None:
        try:
            for other in waits_for.get(name, ()):
                await done[other].wait()
            if not (stop_at_failure and failures):
                await step(name)
        except Exception as error:
            failures[name] = error
        finally:
            done[name].set()

    async with asyncio.TaskGroup() as group:
        for name in order:
            group.create_task(one(name), name=f"hazelkit: component {name}")
    return failures
