"""The data-structure factories of :class:`~hazelkit.Cluster` (handles are cheap and named)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar, cast, overload

if TYPE_CHECKING:
    from collections.abc import Callable

    from hazelkit._core._cluster import Cluster
    from hazelkit._structures._atom import Atom
    from hazelkit._structures._counter import Counter, IdGenerator
    from hazelkit._structures._list import List
    from hazelkit._structures._map import Map
    from hazelkit._structures._multimap import MultiMap
    from hazelkit._structures._queue import Queue
    from hazelkit._structures._set import Set

__all__ = ["StructureFactories"]

K = TypeVar("K")
V = TypeVar("V")


class StructureFactories:
    """Mixed into :class:`~hazelkit.Cluster`: one method per data structure.

    Every factory returns a cheap handle: nothing is created on the grid until the
    handle is used, and any number of handles (on any number of nodes) may share one
    name. A name must be a non-empty str (ConfigurationError otherwise).
    """

    @property
    def _cluster(self) -> Cluster:
        return cast("Cluster", self)

    @overload
    def map(self, name: str) -> Map[Any, Any]: ...
    @overload
    def map(self, name: str, key_type: type[K], value_type: type[V]) -> Map[K, V]: ...
    def map(self, name: str, key_type: Any = None, value_type: Any = None) -> Map[Any, Any]:
        """The distributed map called ``name``.

        With ``key_type`` and ``value_type`` (``cluster.map("users", str, User)``), a
        typed handle: ``Map[str, User]`` without an annotation, converting keys and
        values into those types (see :class:`~hazelkit.Map`). Raises ArgumentError for
        a type msgspec cannot check."""
        from hazelkit._structures._map import Map

        return Map(self._cluster, name, key_type, value_type)

    def multimap(self, name: str) -> MultiMap[Any, Any]:
        """The distributed multimap (key to a set of values) called ``name``."""
        from hazelkit._structures._multimap import MultiMap

        return MultiMap(self._cluster, name)

    def queue(self, name: str, capacity: int | None = None) -> Queue[Any]:
        """The distributed FIFO queue called ``name``, holding at most ``capacity`` items
        (None: unbounded). The first use fixes the capacity; a different one later
        raises ConfigurationError."""
        from hazelkit._structures._queue import Queue

        return Queue(self._cluster, name, capacity)

    def set(self, name: str) -> Set[Any]:
        """The distributed set called ``name``."""
        from hazelkit._structures._set import Set

        return Set(self._cluster, name)

    def list(self, name: str) -> List[Any]:
        """The distributed list called ``name``."""
        from hazelkit._structures._list import List

        return List(self._cluster, name)

    def atom(
        self, name: str, *, initial: Any = None, validator: Callable[[Any], object] | None = None
    ) -> Atom[Any]:
        """The atom called ``name``: Clojure atom semantics (``deref``, ``swap``, ``reset``,
        ``compare_and_set``, watches), reading ``initial`` until first written.

        ``validator`` checks every proposed value on this node; it must accept
        ``initial`` (ValidationError otherwise).
        """
        from hazelkit._structures._atom import Atom

        return Atom(self._cluster, name, initial=initial, validator=validator)

    def counter(self, name: str) -> Counter:
        """The exact counter called ``name`` (starts at 0)."""
        from hazelkit._structures._counter import Counter

        return Counter(self._cluster, name)

    def ids(self, name: str) -> IdGenerator:
        """The generator of cluster-unique, roughly time-ordered ids called ``name``."""
        from hazelkit._structures._counter import IdGenerator

        return IdGenerator(self._cluster, name)
