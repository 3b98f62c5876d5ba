"""Singleton components: started on exactly one node of the cluster at a time.

``using(Reporter(), "cluster", singleton=True)`` (or ``singleton="reporter"``) makes the
component a cluster singleton (:meth:`hazelkit.Cluster.singleton`) on the Cluster it
depends on: every node's System registers it, the node holding the singleton's lease
starts it (its usual ``start()``, or entering it), and stops it when the lease moves (the
node leaves, or stops renewing). On the other nodes it is registered but not started.
Dependents get the value on every node; ``component.fencing_token`` (if the value allows
the attribute) is the token of the instance running here, for what it writes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from typing import Any

from hazelkit._core._cluster import Cluster
from hazelkit._core._exceptions import ConfigurationError
from hazelkit._runtime._singleton import Singleton
from hazelkit.components._component import Lifecycle, LifecycleFactory, default_lifecycle

__all__ = ["singleton_lifecycle"]


def singleton_lifecycle(name: str, *, lease: float = 5.0) -> LifecycleFactory:
    """A lifecycle factory running a component as the cluster singleton ``name`` (see
    the module); the component must depend on a Cluster."""

    def make(value: Any, dependencies: Mapping[str, Any]) -> Lifecycle:
        clusters = [d for d in dependencies.values() if isinstance(d, Cluster)]
        if len(clusters) != 1:
            raise ConfigurationError(
                f"singleton component {name!r} must depend on exactly one Cluster"
                f" (it depends on {len(clusters)})"
            )
        return _SingletonLifecycle(name, value, dependencies, clusters[0], lease)

    return make


class _SingletonLifecycle:
    def __init__(
        self,
        name: str,
        value: Any,
        dependencies: Mapping[str, Any],
        cluster: Cluster,
        lease: float,
    ) -> None:
        self._inner = default_lifecycle(value, dependencies)
        self._value = value
        self._singleton = Singleton(cluster, f"component:{name}", self._run, lease=lease)

    async def _run(self, token: int) -> None:
        # A value that takes no attributes just does not learn its token.
        with contextlib.suppress(AttributeError, TypeError):
            self._value.fencing_token = token
        await self._inner.start()
        try:
            await asyncio.Event().wait()  # runs here until the lease moves or we stop
        finally:
            await self._inner.stop()

    async def start(self) -> Any:
        await self._singleton.start()
        return self._value

    async def stop(self) -> None:
        await self._singleton.stop()
