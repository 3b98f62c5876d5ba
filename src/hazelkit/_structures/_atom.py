"""Atom: Clojure's atom, shared by every node, built on map compare-and-set."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any, Final, Generic, TypeVar

from hazelkit._backends.protocol import MapStore
from hazelkit._core import _lowlevel as lowlevel
from hazelkit._core import _witness as witness
from hazelkit._core._cas import UNCHANGED, Unchanged, plain_result, update_entry
from hazelkit._core._exceptions import ArgumentError, ValidationError
from hazelkit._core._handle import Handle
from hazelkit._structures._atom_watches import Watch, Watches

if TYPE_CHECKING:
    from hazelkit._core._cluster import Cluster

__all__ = ["ATOMS_MAP", "Atom"]

T = TypeVar("T")

#: The map holding every atom's value, under the atom's name.
ATOMS_MAP: Final = "hazelkit.atoms"

Validator = Callable[[Any], object]


class Atom(Handle[MapStore], Generic[T]):
    """A Clojure atom shared by every node: one value, changed atomically.

    The value lives in the map ``hazelkit.atoms`` under the atom's name (no CP
    subsystem needed). Until the first write, :meth:`get` returns ``initial``.

    Reading and writing have two spellings each: :meth:`get` and :meth:`set`, as on
    :class:`~hazelkit.Counter` and :class:`~hazelkit.Map`, and Clojure's :meth:`deref`
    and :meth:`reset`; each pair is the same call.

    - :meth:`swap` applies a function to the current value with a compare-and-set
      against the exact bytes it read, retrying after a short random pause until it
      wins: concurrent swaps from any nodes all apply, each exactly once, one after
      the other. Swaps through one Cluster take turns locally, so only other nodes'
      swaps can make one retry. The function may run more than once, so it
      must have no side effects (and cannot swap the same atom: it is a plain function).
    - A ``validator`` is called with every proposed value (``initial`` included) on the
      node that proposes it; if it returns a false value or raises, ValidationError is
      raised and nothing changes. It is local to this handle: give every node's handle
      the same one.
    - Watches (:meth:`add_watch`) are called on the node that added them, with the old
      and new value of each change made by any node. They are notifications built on
      entry events: in the order of the changes, but a change may be reported late,
      and around a member failure some may be lost. Never rely on them for correctness.

    On Hazelcast the value has one backup (by default): one member failure loses
    nothing.
    """

    kind = "atom"

    def __init__(
        self,
        cluster: Cluster,
        name: str,
        *,
        initial: T | None = None,
        validator: Validator | None = None,
    ) -> None:
        super().__init__(cluster, name)
        if validator is not None and not callable(validator):
            raise ArgumentError(
                f"an atom validator must be callable, not {type(validator).__name__}"
            )
        self._initial = initial
        self._validator = validator
        self._validate(initial)
        self._raw_key = self._key(name)
        self._watches = Watches(self)

    def _open(self) -> MapStore:
        return lowlevel.backend(self._cluster).map(ATOMS_MAP)

    @property
    def initial(self) -> T | None:
        """The value :meth:`deref` returns before the first write."""
        return self._initial

    def _validate(self, value: Any) -> None:
        if self._validator is None:
            return
        try:
            accepted = self._validator(value)
        except ValidationError:
            raise
        except Exception as error:
            raise ValidationError(f"atom {self.name!r} rejected {value!r}: {error}") from error
        if not plain_result(accepted, "an atom validator"):
            raise ValidationError(f"atom {self.name!r} rejected {value!r}")

    def _current(self, data: bytes | None) -> Any:
        value = witness.read(data).value
        return self._initial if value is None else self._decode(value)

    async def get(self) -> T:
        """The current value (``initial`` if the atom was never written)."""
        result: T = self._current(await self._store.get(self._raw_key))
        return result

    async def deref(self) -> T:
        """The current value, as :meth:`get` (Clojure's name)."""
        return await self.get()

    async def set(self, value: T) -> None:
        """Set the value to ``value`` regardless of the current one, as :meth:`reset`
        (which also returns it). Raises ValidationError (nothing changed) if the
        validator rejects it."""
        await self.reset(value)

    async def reset(self, value: T) -> T:
        """Set the value to ``value`` regardless of the current one; return it.

        Raises ValidationError (nothing changed) if the validator rejects it.
        """
        self._validate(value)
        data = self._encode(value)
        await update_entry(
            self._cluster, self._store, self._raw_key, lambda _old: data, witnessed=True
        )
        return value

    async def swap(self, fn: Callable[..., T], *args: Any) -> T:
        """Atomically set the value to ``fn(current, *args)`` and return the new value.

        Retries until its compare-and-set wins (see the class docs); ``fn`` must be a
        plain function without side effects. An exception from ``fn`` propagates, and a
        value the validator rejects raises ValidationError; either way nothing changed.
        """
        return (await self.swap_vals(fn, *args))[1]

    async def swap_vals(self, fn: Callable[..., T], *args: Any) -> tuple[T, T]:
        """Like :meth:`swap`, but return ``(old, new)``: the value the winning attempt
        replaced and the one it stored."""
        if not callable(fn):
            raise ArgumentError(f"swap needs a function, not {type(fn).__name__}")
        seen: list[Any] = [None, None]

        def transform(old: bytes | None) -> bytes:
            seen[0] = current = self._current(old)
            seen[1] = new = plain_result(fn(current, *args), "a swap function")
            self._validate(new)
            return self._encode(new)

        await update_entry(self._cluster, self._store, self._raw_key, transform, witnessed=True)
        return seen[0], seen[1]

    async def compare_and_set(self, old: T, new: T) -> bool:
        """Set the value to ``new`` only if it currently equals ``old``; True if it did.

        "Equal" means equal in value and type, as map keys compare (``1`` is not
        ``1.0``); the atom's ``initial`` counts as its value before the first write.
        Atomic. Raises ValidationError (nothing changed) if the validator rejects
        ``new``.
        """
        self._validate(new)
        expected, data = self._key(old), self._encode(new)

        def transform(current: bytes | None) -> bytes | Unchanged:
            if self._key(self._current(current)) != expected:
                return UNCHANGED
            return data

        _before, after = await update_entry(
            self._cluster, self._store, self._raw_key, transform, witnessed=True
        )
        return after is data

    async def add_watch(self, key: Hashable, fn: Watch) -> None:
        """Call ``fn(old, new)`` on this node after each change of the value, by any node.

        ``fn`` may be a plain function or a coroutine function; calls happen one at a
        time, in the order of the changes, on this Cluster's event loop. An exception
        from a watch is logged and does not stop the others. Adding a watch under an
        existing ``key`` replaces it. Watching starts before this returns and ends
        with :meth:`remove_watch` or when the Cluster closes. Notifications only:
        see the class docs.
        """
        if not callable(fn):
            raise ArgumentError(f"a watch must be callable, not {type(fn).__name__}")
        await self._watches.add(key, fn)

    async def remove_watch(self, key: Hashable) -> None:
        """Remove the watch added under ``key`` (nothing happens if there is none)."""
        await self._watches.remove(key)

    async def destroy(self) -> None:
        """Remove the stored value: the atom reads as ``initial`` again (watches see a
        change from the value it held to ``initial``)."""
        # remove, not delete: its REMOVED event carries the old value on both backends.
        await self._store.remove(self._raw_key)
