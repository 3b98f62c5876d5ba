"""Map: a distributed dictionary with TTLs, atomic conditional updates and entry events."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Final, Generic, TypeVar, overload

from hazelkit._backends.protocol import MapStore
from hazelkit._core import _lowlevel as lowlevel
from hazelkit._core._buffer import Overflow
from hazelkit._core._cas import check_attempts, plain_result, update_entry, write_if_same
from hazelkit._core._events import EntryEvent, EventStream, entry_converter, event_stream
from hazelkit._core._exceptions import (
    ArgumentError,
    KeyNotFoundError,
    SerializationError,
    UndecodableError,
)
from hazelkit._core._handle import Handle, check_expiry
from hazelkit._core._undecodable import decode_many, left_in_place, try_decode
from hazelkit._structures._typed import TypedValues

if TYPE_CHECKING:
    from hazelkit._coordination._lock import Lock

K = TypeVar("K")
V = TypeVar("V")
D = TypeVar("D")
_MISSING: Any = object()


class _Delete:
    """The type of :attr:`Map.DELETE`."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "Map.DELETE"


DELETE: Final = _Delete()


def _expiry(ttl: object, max_idle: object) -> tuple[float | None, float | None]:
    return check_expiry(ttl, "ttl"), check_expiry(max_idle, "max_idle")


class Map(Handle[MapStore], Generic[K, V]):
    """A distributed map (a Hazelcast ``IMap``), named and shared by every node.

    Keys are compared by their encoded bytes (``Codec.encode_key``, deterministic), that
    is by type and value, not as a ``dict`` compares them: ``1``, ``1.0`` and ``True``
    are three different keys of a Map (a ``dict`` holds one), and ``"1"`` a fourth. Use
    one key type per map (say, always ``str``). Values may be anything the codec encodes.

    Typed handles: ``cluster.map("users", str, User)`` is a ``Map[str, User]`` for the
    type checker, and converts keys and values into those types with msgspec's strict
    rules, both what it is given (a ``dict`` with User's fields becomes a ``User``; an
    ``int`` where a ``str`` is declared raises ArgumentError, and nothing is written)
    and what it reads (a stored value that is not a ``User`` raises UndecodableError
    and stays in the map). The declared types belong to the handle: another handle of
    the same map may declare others, or none.

    Each single-key operation is atomic. ``put_if_absent``, ``replace_if_same``,
    ``remove_if_same`` and :meth:`compute` are compare-and-set operations: the write
    happens only if the entry still holds exactly the bytes that were read. Batch
    operations are not atomic as a whole. On Hazelcast, each entry has one backup (by
    default), so a single member failure loses nothing.
    """

    #: Returned by a :meth:`compute` function to remove the entry.
    DELETE: ClassVar[_Delete] = DELETE

    kind = "map"

    def __init__(
        self, cluster: Any, name: str, key_type: Any = None, value_type: Any = None
    ) -> None:
        super().__init__(cluster, name)
        self._types = TypedValues(f"map {self.name!r}", key_type, value_type)
        # Untyped handles skip the conversions (two calls each way, per key and value).
        self._typed_keys = key_type is not None
        self._typed_values = value_type is not None

    @property
    def key_type(self) -> Any:
        """The declared key type (None: any key the codec encodes)."""
        return self._types.key_type

    @property
    def value_type(self) -> Any:
        """The declared value type (None: any value the codec encodes)."""
        return self._types.value_type

    def _open(self) -> MapStore:
        return lowlevel.backend(self._cluster).map(self.name)

    def _key(self, value: Any) -> bytes:
        if self._typed_keys:
            value = self._types.key_in(value)
        return self._codec.encode_key(value)

    def _decode_key(self, data: bytes) -> Any:
        return self._types.key_out(super()._decode_key(data))

    # _encode and _decode call the codec themselves rather than through Handle's (one
    # frame less each way: about 0.2 us of a put's 3 us of layers over a no-I/O store).

    def _encode(self, value: Any, raw_key: bytes | None = None) -> bytes:
        if self._typed_values:
            value = self._types.value_in(value)
        if self._sealed:
            return self._codec.encode(value, self._place(raw_key))
        return self._codec.encode(value)

    def _decode(self, data: bytes, raw_key: bytes | None = None) -> Any:
        if self._sealed:
            value = self._codec.decode(data, self._place(raw_key))
        else:
            value = self._codec.decode(data)
        return self._types.value_out(value) if self._typed_values else value

    @overload
    async def get(self, key: K) -> V | None: ...
    @overload
    async def get(self, key: K, default: D) -> V | D: ...
    async def get(self, key: K, default: Any = None) -> Any:
        """The value under ``key``, or ``default`` if there is none (or it expired).

        A value this node cannot decode (another client's, a type not registered here,
        a missing key) raises UndecodableError with its bytes, and stays in the map."""
        raw_key = self._key(key)
        data = await self._store.get(raw_key)
        if data is None:
            return default
        try:
            return self._decode(data, raw_key)
        except SerializationError as error:  # the message is made only when it is needed
            raise left_in_place(f"the value of {key!r}", data, error, self.name) from error

    async def put(
        self, key: K, value: V, *, ttl: float | None = None, max_idle: float | None = None
    ) -> V | None:
        """Store ``value`` under ``key`` and return the previous value (or None).

        ``ttl``: seconds until the entry expires; ``max_idle``: seconds without access
        after which it expires. ``None`` or 0 means never (unless the map's
        configuration on the Hazelcast members says otherwise); a negative, infinite
        or NaN duration, or one above 10**15 seconds, raises
        ConfigurationError and stores nothing. Every write without them, ``replace``
        included, resets the entry to "never expires", as Hazelcast does. Hazelcast
        counts both in whole seconds from the second of the last write or access, so
        an entry may expire up to 1 s early there (and one under 1 s, at once).

        If the previous value cannot be decoded on this node, ``value`` *is* stored
        all the same, and a SerializationError carrying the previous bytes (``.data``)
        is raised; use :meth:`set` when the previous value does not matter.
        """
        if ttl is not None or max_idle is not None:
            ttl, max_idle = _expiry(ttl, max_idle)
        raw_key = self._key(key)
        previous = await self._store.put(
            raw_key, self._encode(value, raw_key), ttl=ttl, max_idle=max_idle
        )
        return self._previous(previous, key, raw_key)

    def _previous(self, data: bytes | None, key: K, raw_key: bytes) -> V | None:
        """The value a write replaced; it is gone, so an undecodable one stays in the error."""
        if data is None:
            return None
        try:
            result: V = self._decode(data, raw_key)
        except SerializationError as error:
            raise UndecodableError(
                f"map {self.name!r}: the new value of {key!r} was stored, but the one it "
                f"replaced could not be decoded ({error}); its bytes are only in .data",
                data=data,
                stored_in=None,
            ) from error
        return result

    async def set(
        self, key: K, value: V, *, ttl: float | None = None, max_idle: float | None = None
    ) -> None:
        """Like :meth:`put` without returning the previous value (one less transfer)."""
        if ttl is not None or max_idle is not None:
            ttl, max_idle = _expiry(ttl, max_idle)
        raw_key = self._key(key)
        await self._store.set(raw_key, self._encode(value, raw_key), ttl=ttl, max_idle=max_idle)

    async def put_if_absent(
        self, key: K, value: V, *, ttl: float | None = None, max_idle: float | None = None
    ) -> V | None:
        """Store ``value`` only if ``key`` has no value; return the existing value, or
        None if this call stored it. Atomic. ``ttl`` and ``max_idle`` as in :meth:`put`."""
        ttl, max_idle = _expiry(ttl, max_idle)
        raw_key = self._key(key)
        existing = await self._store.put_if_absent(
            raw_key, self._encode(value, raw_key), ttl=ttl, max_idle=max_idle
        )
        if existing is None:
            return None
        result: V = self._read_value(existing, f"the value of {key!r}", raw_key)
        return result

    async def replace(self, key: K, value: V) -> V | None:
        """Store ``value`` only if ``key`` has a value; return that previous value.

        As with :meth:`put`, a previous value this node cannot decode is replaced all
        the same, and its bytes travel in the SerializationError raised.
        """
        raw_key = self._key(key)
        previous = await self._store.replace(raw_key, self._encode(value, raw_key))
        return self._previous(previous, key, raw_key)

    async def replace_if_same(self, key: K, old: V, new: V) -> bool:
        """Store ``new`` only if the stored value equals ``old``; True if it did. Atomic.

        "Equal" means equal in value and in type throughout, as keys compare (``1`` is
        not ``1.0``). The write is a compare-and-set against the exact bytes read, so
        it works with compression and encryption, whose bytes differ for equal values.
        """
        return await self._write_if_equal(key, old, self._encode(new, self._key(key)))

    async def _write_if_equal(self, key: K, expected: V, new: bytes | None) -> bool:
        """Write ``new`` (None: remove) if the stored value equals ``expected``.

        First a compare-and-set against ``expected``'s own encoding (enough unless the
        codec compresses or encrypts); then against each stored value that decodes to
        something equal, until one write wins or the value is no longer equal.
        """
        raw_key, store, codec = self._key(key), self._store, self._cluster.codec
        expected = self._types.value_in(expected)
        if await write_if_same(store, raw_key, self._encode(expected, raw_key), new):
            return True
        wanted = codec.encode_key(expected)
        while (current := await store.get(raw_key)) is not None:
            decoded, value = try_decode(lambda data: self._decode(data, raw_key), current)
            if not decoded or codec.encode_key(value) != wanted:
                return False  # what this node cannot decode is not what it expected
            if await write_if_same(store, raw_key, current, new):
                return True
        return False

    async def remove(self, key: K) -> V | None:
        """Remove ``key`` and return its value (None if there was none). Atomic.

        The value is read and decoded first, then removed only if the entry still
        holds exactly those bytes (retrying if another node wrote in between): a
        value this node cannot decode raises SerializationError and stays in place.
        So a removal costs two round trips.
        """
        return await self.pop(key, None)

    @overload
    async def pop(self, key: K) -> V: ...
    @overload
    async def pop(self, key: K, default: D) -> V | D: ...
    async def pop(self, key: K, default: Any = _MISSING) -> Any:
        """Remove ``key`` and return its value, like ``dict.pop``: KeyError (or
        ``default``) if it had none. Atomic, as :meth:`remove` (what cannot be decoded
        is not removed)."""
        raw_key, store = self._key(key), self._store
        while (data := await store.get(raw_key)) is not None:
            value = self._read_value(data, f"the value of {key!r}", raw_key)
            if await store.remove_if_same(raw_key, data):
                return value
        if default is _MISSING:
            raise KeyNotFoundError(key)
        return default

    async def remove_if_same(self, key: K, value: V) -> bool:
        """Remove ``key`` only if its stored value equals ``value`` (as in
        :meth:`replace_if_same`); True if it did. Atomic."""
        return await self._write_if_equal(key, value, None)

    async def compute(
        self,
        key: K,
        fn: Callable[[V | None], V | _Delete],
        *,
        default: V | None = None,
        max_attempts: int | None = None,
    ) -> V | None:
        """Atomically replace the value under ``key`` by ``fn(value)``; return the result.

        ``fn`` gets the current value (``default`` if there is none) and returns the new
        value, or :attr:`Map.DELETE` to remove the entry (then None is returned). The
        write is a compare-and-set against the exact bytes read: if another node wrote
        in between, ``fn`` runs again on the newer value, after a short random pause,
        until the write wins. So ``fn`` must be a plain (not async) function without
        side effects. With ``max_attempts``, ConflictError is raised after that many
        lost races, and nothing was changed by this call. An exception from ``fn``
        propagates and nothing is changed. Like every write without a TTL, the new
        entry never expires.

        If the reply of the write is lost (the member or connection failed while it was
        under way), IndeterminateOperationError is raised: the new value may or may not
        be stored, and compute does not retry it (a user's map keeps no write ids to
        tell); read the entry before deciding. Atoms and counters resolve this
        themselves.
        """
        if not callable(fn):
            raise ArgumentError(f"compute needs a function, not {type(fn).__name__}")
        max_attempts = check_attempts(max_attempts)
        raw_key = self._key(key)
        result: Any = None

        def transform(old: bytes | None) -> bytes | None:
            nonlocal result
            current = default if old is None else self._decode(old, raw_key)
            result = plain_result(fn(current), "fn")
            return None if result is DELETE else self._encode(result, raw_key)

        await update_entry(
            self._cluster, self._store, raw_key, transform, max_attempts=max_attempts
        )
        return None if result is DELETE else result

    async def delete(self, key: K) -> None:
        """Remove ``key`` without returning its value (one round trip). Its REMOVED
        event carries no old value on Hazelcast: use :meth:`remove` when listeners
        need it."""
        await self._store.delete(self._key(key))

    async def contains(self, key: K) -> bool:
        """Whether ``key`` has a (live) value. Counts as an access for max-idle."""
        return await self._store.contains(self._key(key))

    async def set_ttl(self, key: K, ttl: float) -> None:
        """Give the existing entry under ``key`` a new time to live, counted from now
        (0: never expires). ConfigurationError for a negative or non-finite ``ttl``."""
        checked = check_expiry(ttl, "ttl")
        await self._store.set_ttl(self._key(key), checked or 0.0)

    async def size(self) -> int:
        """The number of entries (a snapshot; concurrent writes may change it at once)."""
        return await self._store.size()

    async def keys(self) -> list[K]:
        """All keys, in no particular order (a snapshot).

        Keys (or, below, values) this node cannot decode make these bulk reads raise
        UndecodableError, whose ``partial`` holds everything else; nothing is changed."""
        raws = await self._store.keys()
        return decode_many(self._decode_key, raws, raw_bytes=bytes, what="keys", where=self.name)

    async def values(self) -> list[V]:
        """All values, in no particular order (a snapshot); see :meth:`keys`."""
        if self._cluster.codec.encryption is not None:  # values are bound to their keys
            return [value for _, value in await self._items("values")]
        raws = await self._store.values()
        return decode_many(self._decode, raws, raw_bytes=bytes, what="values", where=self.name)

    async def items(self) -> list[tuple[K, V]]:
        """All entries as ``(key, value)`` pairs, in no particular order (a snapshot);
        see :meth:`keys` (an undecodable entry is given as its ``(key, value)`` bytes)."""
        return await self._items("entries")

    async def _items(self, what: str) -> list[tuple[K, V]]:
        raws = await self._store.items()
        pick = _first_undecodable(self._cluster.codec)
        return decode_many(self._decode_pair, raws, raw_bytes=pick, what=what, where=self.name)

    def _decode_pair(self, pair: tuple[bytes, bytes]) -> tuple[K, V]:
        return self._decode_key(pair[0]), self._decode(pair[1], pair[0])

    async def get_all(self, keys: Iterable[K]) -> dict[K, V]:
        """The values of those ``keys`` that have one, in one batch (not atomic); values
        this node cannot decode raise as in :meth:`keys` (``partial`` is a dict)."""
        wanted = {self._key(key): key for key in keys}
        found = await self._store.get_all(wanted)
        pairs = decode_many(
            lambda item: (wanted[item[0]], self._decode(item[1], item[0])),
            found.items(),
            raw_bytes=lambda item: item[1],
            what="values",
            where=self.name,
            shape=dict,
        )
        return dict(pairs)

    async def put_all(self, items: Mapping[K, V]) -> None:
        """Store many entries in one batch. Not atomic: on failure, some may be stored."""
        raw = {self._key(k): v for k, v in items.items()}
        await self._store.put_all({k: self._encode(v, k) for k, v in raw.items()})

    async def clear(self) -> None:
        """Remove every entry (fires no per-entry events)."""
        await self._store.clear()

    async def destroy(self) -> None:
        """Remove the map and its data from the grid; it is recreated empty on next use."""
        await self._store.destroy()

    def locked(self, key: K, *, lease: float = 30.0) -> Lock:
        """The cluster-wide lock of one key: ``async with m.locked(key) as token: ...``.

        A :class:`~hazelkit.Lock` named after the map and the key's canonical bytes, with
        its guarantees: one holder at a time on every node, a lease of ``lease`` seconds
        renewed while held (a holder that dies frees it within the lease), a fencing
        token. The lock is advisory: it does not stop writes that do not take it. For a
        single read-modify-write, :meth:`compute` needs no lock.
        """
        from hazelkit._coordination._lock import Lock

        return Lock(
            self._cluster, f"hazelkit.map-lock/{self.name}/{self._key(key).hex()}", lease=lease
        )

    def events(
        self,
        key: K | None = None,
        *,
        include_values: bool = True,
        capacity: int = 1024,
        overflow: Overflow = Overflow.SLIDE,
    ) -> EventStream[EntryEvent[K, V]]:
        """A stream of :class:`EntryEvent`: added, updated, removed, expired, evicted.

        Use ``async with m.events() as events: async for event in events: ...`` (or
        ``await`` it and ``aclose()`` the subscription). ``key``: only that key's events
        (None: every key). Events of one key arrive in the order of the changes; they
        are notifications, sent after the change, and some may be lost while a member
        fails. ``clear()`` fires no per-entry events. The local buffer keeps
        ``capacity`` events; ``overflow`` (DROP or SLIDE) says which to discard when
        the reader falls behind. Ends when the Cluster closes.
        """
        store = self._store
        raw_key = None if key is None else self._key(key)
        return event_stream(
            self._cluster,
            lambda callback: store.listen(callback, key=raw_key, include_values=include_values),
            entry_converter(self._decode_key, self._decode, self.name),
            capacity=capacity,
            overflow=overflow,
        )


def _first_undecodable(codec: Any) -> Callable[[tuple[bytes, bytes]], bytes]:
    """For an entry that failed: the bytes that cannot be decoded (the key, else the value)."""

    def pick(pair: tuple[bytes, bytes]) -> bytes:
        try:
            codec.decode_key(pair[0])
        except SerializationError:
            return pair[0]
        return pair[1]

    return pick
