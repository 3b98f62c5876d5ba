"""What the tasks and threads of one Cluster hold: leases of locks, permits of semaphores.

A lock or semaphore handle is cheap and many may exist for one name, so what is held is
kept per Cluster (:class:`~hazelkit._core._local.ClusterLocal`), by primitive name and
owner (a task, or a thread of the blocking facade), in acquisition order. An owner that
ended while holding is forgotten on the next acquire: its renewals stopped with it, so
what it held lapses on the grid within one lease.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from hazelkit._coordination._waiting import owner_alive

__all__ = ["Holdings"]

H = TypeVar("H")


class Holdings(Generic[H]):
    """Per (primitive name, owner): what that owner holds, oldest first."""

    def __init__(self) -> None:
        self._held: dict[tuple[str, object], list[H]] = {}

    def of(self, name: str, owner: object) -> list[H]:
        """What ``owner`` holds of ``name`` (a copy; empty if nothing)."""
        return list(self._held.get((name, owner), ()))

    def first(self, name: str, owner: object) -> H | None:
        """The oldest thing ``owner`` holds of ``name``, or None."""
        held = self._held.get((name, owner))
        return held[0] if held else None

    def add(self, name: str, owner: object, item: H) -> None:
        self._held.setdefault((name, owner), []).append(item)

    def remove(self, name: str, owner: object, item: H) -> None:
        """Forget ``item`` (nothing happens if it is not held)."""
        held = self._held.get((name, owner), [])
        if item in held:
            held.remove(item)
        if not held:
            self._held.pop((name, owner), None)

    def all_of(self, name: str) -> list[H]:
        """Everything held of ``name`` through this Cluster, by any owner."""
        return [item for (held_name, _), items in self._held.items() if held_name == name
                for item in items]  # fmt: skip

    def forget_dead_owners(self, name: str) -> None:
        """Drop what owners that have ended still held of ``name``."""
        for key in [k for k in self._held if k[0] == name and not owner_alive(k[1])]:
            del self._held[key]
