"""Versioned migrations: applied in order, each once in the whole cluster, recorded.

The record of a set of migrations (an entry of the map ``hazelkit.migrations``, by the
set's name) lists the names applied so far, in order, and the failure that stopped
them if any. Applying follows the protocol of :func:`~hazelkit.components.once` under
the lock ``hazelkit.migrations/NAME``: read the record → take the lock → read again →
run each pending migration and record it (a compare-and-set against the record read,
so a holder whose lease lapsed cannot overwrite a newer record) → release.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

from hazelkit._coordination._lease import check_lease
from hazelkit._core._exceptions import ArgumentError, ComponentError, ConfigurationError
from hazelkit._core._handle import check_name
from hazelkit.components._health import describe
from hazelkit.components._once import node_name, release_quietly

if TYPE_CHECKING:
    from hazelkit._core._cluster import Cluster
    from hazelkit._structures._map import Map

__all__ = ["MIGRATIONS_MAP", "Migration", "Migrations"]

#: The map holding the record of each set of migrations, by the set's name.
MIGRATIONS_MAP = "hazelkit.migrations"

#: A migration: ``async def step(cluster) -> None``.
Migration = Callable[["Cluster"], Awaitable[Any]]


class Migrations:
    """Named migrations, applied in order, each once in the whole cluster.

    ``Migrations([("001-create", create), ("002-index", index)])``; each migration is
    ``async def step(cluster)``. As a component it depends on a Cluster, injected as
    its ``cluster`` attribute: ``using(Migrations([...]), "cluster")``, or
    ``using(Migrations([...]), cluster="grid")`` when the Cluster component has another
    name. Starting it applies what is pending; outside a System call :meth:`apply`.

    Guarantees:

    - *Order and once*: migration n+1 runs only after migration n was recorded as
      applied, and each runs on one node, however many start at the same moment (the
      others wait, then find it applied). A migration runs again only if its node died
      (or stalled past ``lease``) before recording it: write them to be idempotent.
    - *Refusal*: a node whose list does not begin with everything the cluster applied
      (it knows fewer migrations than were applied, or other names) refuses to apply
      or start, with ComponentError saying which: a node never runs against a schema
      it does not know.
    - *Failures are recorded*: a migration that raises stops the set; its error is
      recorded and every node then refuses with it (ComponentError with ``error``;
      the original is the ``__cause__`` where it ran) until :meth:`forget_failure`.
    """

    def __init__(
        self,
        migrations: Iterable[tuple[str, Migration]],
        *,
        name: str = "default",
        lease: float = 30.0,
        timeout: float | None = None,
    ) -> None:
        self._steps = _checked(migrations)
        self.name = check_name(name, "migrations")
        self.lease = check_lease(lease)
        self.timeout = timeout
        #: The Cluster that :meth:`start` applies them on (injected by a System).
        self.cluster: Cluster | None = None
        #: The migrations this node ran in its last :meth:`start` or :meth:`apply`.
        self.applied_here: list[str] = []

    @property
    def names(self) -> list[str]:
        """The names of the migrations, in the order they apply."""
        return [name for name, _step in self._steps]

    async def start(self) -> None:
        """Apply the pending migrations on :attr:`cluster` (see :meth:`apply`).
        Raises ConfigurationError if no Cluster was injected."""
        if self.cluster is None:
            raise ConfigurationError(
                f"migrations {self.name!r} need a Cluster: using(Migrations(...), 'cluster')"
            )
        await self.apply(self.cluster)

    async def stop(self) -> None:
        """Nothing to undo: applied migrations stay applied."""

    async def apply(self, cluster: Cluster) -> list[str]:
        """Apply the migrations the cluster has not applied yet, in order; return those
        this node ran (none if another node did). Raises ComponentError if this node's
        migrations do not match what was applied, or one failed (here or on another
        node); OperationTimeoutError if the lock stays taken past ``timeout`` seconds."""
        self.applied_here = []
        record = self._check(await self._records(cluster).get(self.name))
        if len(record["applied"]) == len(self._steps):
            return []
        lock = cluster.lock(f"{MIGRATIONS_MAP}/{self.name}", lease=self.lease)
        token = await lock.acquire(self.timeout)
        try:
            record = self._check(await self._records(cluster).get(self.name))
            for name, step in self._steps[len(record["applied"]) :]:
                record = await self._run(cluster, record, name, step, token)
                self.applied_here.append(name)
        finally:
            await release_quietly(lock)
        return list(self.applied_here)

    async def applied(self, cluster: Cluster) -> list[str]:
        """The names the cluster has applied, in order (whatever this node knows)."""
        record = await self._records(cluster).get(self.name)
        return list(record["applied"]) if isinstance(record, dict) else []

    async def forget_failure(self, cluster: Cluster) -> None:
        """Remove the recorded failure, so that the failed migration runs again at the
        next start (after it was fixed). Does nothing if none is recorded."""
        lock = cluster.lock(f"{MIGRATIONS_MAP}/{self.name}", lease=self.lease)
        await lock.acquire(self.timeout)
        try:
            record = await self._records(cluster).get(self.name)
            if isinstance(record, dict) and record.get("failed"):
                await self._write(cluster, record, {**record, "failed": None}, "forget_failure")
        finally:
            await release_quietly(lock)

    async def _run(
        self, cluster: Cluster, record: dict[str, Any], name: str, step: Migration, token: int
    ) -> dict[str, Any]:
        stamp = {"node": node_name(), "token": token, "at": time.time()}
        try:
            await step(cluster)
        except Exception as error:
            failed = {"migration": name, "error": describe(error), "node": stamp["node"]}
            await self._write(cluster, record, {**record, **stamp, "failed": failed}, name)
            raise self._failure(failed) from error
        applied = {**record, **stamp, "applied": [*record["applied"], name], "failed": None}
        await self._write(cluster, record, applied, name)
        return applied

    async def _write(
        self, cluster: Cluster, old: dict[str, Any], new: dict[str, Any], doing: str
    ) -> None:
        records = self._records(cluster)
        if "token" not in old:  # a fresh record: none was stored yet
            won = await records.put_if_absent(self.name, new) is None
        else:
            won = await records.replace_if_same(self.name, old, new)
        if not won:
            raise ComponentError(
                f"migrations {self.name!r}: the record changed while this node held the lock"
                f" ({doing}); its lease lapsed (a stall longer than {self.lease:g} s?) and"
                " another node may have run the same migration",
                component=self.name,
            )

    def _check(self, record: Any) -> dict[str, Any]:
        """The record (a fresh one if there is none), if this node may go on from it."""
        if record is None:
            return {"applied": [], "failed": None}
        if not isinstance(record, dict) or not isinstance(record.get("applied"), list):
            raise self._refuse(f"its record is unreadable: {record!r}")
        applied, known = record["applied"], self.names
        if len(applied) > len(known) and applied[: len(known)] == known:
            newer = ", ".join(map(repr, applied[len(known) :]))
            raise self._refuse(
                f"the cluster has applied {len(applied)} migrations and this node knows"
                f" {len(known)} (not {newer}): run the newer code"
            )
        if applied != known[: len(applied)]:
            at = next(i for i, (a, k) in enumerate(zip(applied, known, strict=False)) if a != k)
            raise self._refuse(
                f"migration {at + 1} was applied as {applied[at]!r}, this node has"
                f" {known[at]!r}: applied migrations cannot be renamed or reordered"
            )
        if record.get("failed"):
            raise self._failure(record["failed"])
        return record

    def _refuse(self, why: str) -> ComponentError:
        return ComponentError(f"migrations {self.name!r}: {why}", component=self.name)

    def _failure(self, failed: dict[str, Any]) -> ComponentError:
        return ComponentError(
            f"migrations {self.name!r}: {failed['migration']!r} failed on {failed['node']}:"
            f" {failed['error']} (fix it, then call forget_failure())",
            component=self.name,
            error=failed["error"],
        )

    def _records(self, cluster: Cluster) -> Map[str, Any]:
        return cluster.map(MIGRATIONS_MAP)

    def __repr__(self) -> str:
        return f"<Migrations {self.name!r} {self.names}>"


def _checked(migrations: Iterable[tuple[str, Migration]]) -> list[tuple[str, Migration]]:
    steps = list(migrations)
    seen: set[str] = set()
    for entry in steps:
        if not (isinstance(entry, tuple) and len(entry) == 2):
            raise ConfigurationError(f"a migration is a (name, step) pair, not {entry!r}")
        name, step = entry
        check_name(name, "migration")
        if name in seen:
            raise ConfigurationError(f"two migrations are called {name!r}")
        if not callable(step):
            raise ArgumentError(f"migration {name!r} needs a function, not {step!r}")
        seen.add(name)
    return steps
