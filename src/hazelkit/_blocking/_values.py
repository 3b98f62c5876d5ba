"""Blocking Atom, Counter and IdGenerator: the same methods, without ``await``."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

from hazelkit._blocking._runner import Runner
from hazelkit._structures._atom import Atom
from hazelkit._structures._counter import Counter, IdGenerator

__all__ = ["BlockingAtom", "BlockingCounter", "BlockingIdGenerator"]

T = TypeVar("T")


class BlockingAtom(Generic[T]):
    """An :class:`~hazelkit.Atom` that blocks.

    Swap functions, validators and watches run on the cluster's event-loop thread (the
    portal's), not the caller's: keep them quick and free of blocking calls.
    """

    def __init__(self, run: Runner, atom: Atom[T]) -> None:
        self._run = run
        self.async_atom = atom
        self.name = atom.name

    def get(self) -> T:
        """See :meth:`hazelkit.Atom.get`."""
        return self._run(self.async_atom.get)

    def deref(self) -> T:
        """See :meth:`hazelkit.Atom.deref`."""
        return self._run(self.async_atom.deref)

    def set(self, value: T) -> None:
        """See :meth:`hazelkit.Atom.set`."""
        self._run(self.async_atom.set, value)

    def reset(self, value: T) -> T:
        """See :meth:`hazelkit.Atom.reset`."""
        return self._run(self.async_atom.reset, value)

    def swap(self, fn: Callable[..., T], *args: Any) -> T:
        """See :meth:`hazelkit.Atom.swap`."""
        return self._run(self.async_atom.swap, fn, *args)

    def swap_vals(self, fn: Callable[..., T], *args: Any) -> tuple[T, T]:
        """See :meth:`hazelkit.Atom.swap_vals`."""
        return self._run(self.async_atom.swap_vals, fn, *args)

    def compare_and_set(self, old: T, new: T) -> bool:
        """See :meth:`hazelkit.Atom.compare_and_set`."""
        return self._run(self.async_atom.compare_and_set, old, new)

    def add_watch(self, key: Hashable, fn: Callable[[Any, Any], object]) -> None:
        """See :meth:`hazelkit.Atom.add_watch` (``fn`` is called on the loop thread)."""
        self._run(self.async_atom.add_watch, key, fn)

    def remove_watch(self, key: Hashable) -> None:
        """See :meth:`hazelkit.Atom.remove_watch`."""
        self._run(self.async_atom.remove_watch, key)

    def destroy(self) -> None:
        """See :meth:`hazelkit.Atom.destroy`."""
        self._run(self.async_atom.destroy)

    def __repr__(self) -> str:
        return f"<BlockingAtom {self.name!r}>"


class BlockingCounter:
    """A :class:`~hazelkit.Counter` that blocks."""

    def __init__(self, run: Runner, counter: Counter) -> None:
        self._run = run
        self.async_counter = counter
        self.name = counter.name

    def get(self) -> int:
        """See :meth:`hazelkit.Counter.get`."""
        return self._run(self.async_counter.get)

    def add(self, delta: int = 1) -> int:
        """See :meth:`hazelkit.Counter.add`."""
        return self._run(self.async_counter.add, delta)

    def get_and_add(self, delta: int = 1) -> int:
        """See :meth:`hazelkit.Counter.get_and_add`."""
        return self._run(self.async_counter.get_and_add, delta)

    def increment(self) -> int:
        """See :meth:`hazelkit.Counter.increment`."""
        return self._run(self.async_counter.increment)

    def decrement(self) -> int:
        """See :meth:`hazelkit.Counter.decrement`."""
        return self._run(self.async_counter.decrement)

    def set(self, value: int) -> None:
        """See :meth:`hazelkit.Counter.set`."""
        self._run(self.async_counter.set, value)

    def compare_and_set(self, expected: int, value: int) -> bool:
        """See :meth:`hazelkit.Counter.compare_and_set`."""
        return self._run(self.async_counter.compare_and_set, expected, value)

    def destroy(self) -> None:
        """See :meth:`hazelkit.Counter.destroy`."""
        self._run(self.async_counter.destroy)

    def __repr__(self) -> str:
        return f"<BlockingCounter {self.name!r}>"


class BlockingIdGenerator:
    """An :class:`~hazelkit.IdGenerator` that blocks."""

    def __init__(self, run: Runner, ids: IdGenerator) -> None:
        self._run = run
        self.async_ids = ids
        self.name = ids.name

    def new_id(self) -> int:
        """See :meth:`hazelkit.IdGenerator.new_id`."""
        return self._run(self.async_ids.new_id)

    def __repr__(self) -> str:
        return f"<BlockingIdGenerator {self.name!r}>"
