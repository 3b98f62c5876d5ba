"""Counter (exact atomic arithmetic on a map entry) and IdGenerator (cluster-unique ids)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from hazelkit._backends.protocol import IdGeneratorStore, MapStore
from hazelkit._core import _lowlevel as lowlevel
from hazelkit._core import _witness as witness
from hazelkit._core._cas import UNCHANGED, Unchanged, update_entry
from hazelkit._core._exceptions import ValidationError
from hazelkit._core._handle import Handle

__all__ = ["COUNTERS_MAP", "Counter", "IdGenerator"]

#: The map holding every counter's value, under the counter's name.
COUNTERS_MAP: Final = "hazelkit.counters"


def _check_int(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"{what} must be an int, not {type(value).__name__}")
    return value


class Counter(Handle[MapStore]):
    """An exact distributed counter of arbitrary-size ints (starting at 0).

    Every change is a compare-and-set on the counter's entry in the map
    ``hazelkit.counters``, retried after a short random pause when another node won
    the race: no increment is ever lost or applied twice, whatever the concurrency
    (unlike Hazelcast's PNCounter, which is only eventually consistent). Each change
    costs at least two round trips, and heavy contention on one counter costs retries.
    On Hazelcast the value has one backup (by default).

    A non-int amount raises ValidationError and changes nothing.
    """

    kind = "counter"

    def _open(self) -> MapStore:
        return lowlevel.backend(self._cluster).map(COUNTERS_MAP)

    @property
    def _raw_key(self) -> bytes:
        return self._key(self.name)

    def _value(self, data: bytes | None) -> int:
        value = witness.read(data).value
        if value is None:
            return 0
        return _check_int(self._decode(value), f"counter {self.name!r}")

    async def get(self) -> int:
        """The current value (0 if never changed)."""
        return self._value(await self._store.get(self._raw_key))

    async def add(self, delta: int = 1) -> int:
        """Add ``delta`` (may be negative) atomically and return the new value."""
        _check_int(delta, "the amount")
        return (await self._update(lambda value: value + delta))[1]

    async def get_and_add(self, delta: int = 1) -> int:
        """Add ``delta`` atomically and return the value before."""
        _check_int(delta, "the amount")
        return (await self._update(lambda value: value + delta))[0]

    async def increment(self) -> int:
        """Add 1 and return the new value."""
        return await self.add(1)

    async def decrement(self) -> int:
        """Subtract 1 and return the new value."""
        return await self.add(-1)

    async def set(self, value: int) -> None:
        """Set the value, whatever it was."""
        data = self._encode(_check_int(value, "the value"))
        await update_entry(
            self._cluster, self._store, self._raw_key, lambda _old: data, witnessed=True
        )

    async def compare_and_set(self, expected: int, value: int) -> bool:
        """Set the value to ``value`` only if it is ``expected`` now; True if it was."""
        _check_int(expected, "the expected value")
        _check_int(value, "the value")
        old, new = await self._update(lambda current: value if current == expected else None)
        return old == expected and new == value

    async def _update(self, change: Callable[[int], int | None]) -> tuple[int, int]:
        """Apply ``change(value) -> new value or None (no write)`` atomically."""
        seen = [0, 0]

        def transform(data: bytes | None) -> bytes | Unchanged:
            seen[0] = seen[1] = current = self._value(data)
            new = change(current)
            if new is None:
                return UNCHANGED
            seen[1] = new
            return self._encode(new)

        await update_entry(self._cluster, self._store, self._raw_key, transform, witnessed=True)
        return seen[0], seen[1]

    async def destroy(self) -> None:
        """Remove the counter: it reads 0 again."""
        await self._store.delete(self._raw_key)


class IdGenerator(Handle[IdGeneratorStore]):
    """Cluster-unique 63-bit ids, roughly ordered by time (a Hazelcast
    ``FlakeIdGenerator``).

    No two calls on any nodes get the same id, as long as the members' clocks do not
    jump back by more than the generator tolerates. Ids from one node increase; ids
    from different nodes are only roughly ordered (each node takes ids in batches),
    so they are not a substitute for a counter or a sequence without gaps.
    """

    kind = "id generator"

    def _open(self) -> IdGeneratorStore:
        return lowlevel.backend(self._cluster).id_generator(self.name)

    async def new_id(self) -> int:
        """A new id, unique in the cluster: a non-negative int below 2**63."""
        return await self._store.new_id()
