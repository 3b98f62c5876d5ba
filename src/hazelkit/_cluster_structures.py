"""The data-structure factories of :class:`~hazelkit.Cluster` (handles are cheap and named)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from hazelkit._cluster import Cluster
    from hazelkit._map import Map

__all__ = ["StructureFactories"]


class StructureFactories:
    """Mixed into :class:`~hazelkit.Cluster`: one method per data structure."""

    @property
    def _cluster(self) -> Cluster:
        return cast("Cluster", self)

    def map(self, name: str) -> Map[Any, Any]:
        """The distributed map called ``name`` (a cheap handle; nothing is created yet)."""
        from hazelkit._map import Map

        return Map(self._cluster, name)
