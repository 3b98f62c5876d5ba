"""What every data-structure handle shares: a Cluster, a name, a lazily resolved store."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Final, Generic, TypeVar, overload

from hazelkit._core._exceptions import ConfigurationError, SerializationError
from hazelkit._core._undecodable import left_in_place, try_decode
from hazelkit._observe._metrics import STATE as _TELEMETRY
from hazelkit._observe._metrics import TimedStore

if TYPE_CHECKING:
    from hazelkit._core._cluster import Cluster

__all__ = [
    "MAX_EXPIRY",
    "Handle",
    "check_count",
    "check_expiry",
    "check_name",
    "check_seconds",
    "equal_positions",
    "find_equal",
    "place_of",
]

S = TypeVar("S")


def place_of(cluster: Cluster, kind: str, name: str, raw_key: bytes | None = None) -> bytes | None:
    """Where a value lives, for a codec that encrypts: the structure's kind and name (and
    a map value's key), bound into the ciphertext so that a value copied elsewhere does
    not decrypt. None without encryption (it would change nothing)."""
    if cluster.codec.encryption is None:
        return None
    place = f"{kind}\x00{name}".encode()
    return place if raw_key is None else place + b"\x00" + raw_key


def check_name(name: object, kind: str) -> str:
    """A structure name must be a non-empty str; raises ConfigurationError otherwise."""
    if not isinstance(name, str) or not name:
        raise ConfigurationError(f"a {kind} name must be a non-empty str, not {name!r}")
    return name


#: The longest TTL or max-idle of a map entry, in seconds (Hazelcast counts them in
#: milliseconds in a 64-bit long; 10**15 s is some 31 million years).
MAX_EXPIRY: Final = 10**15


def check_seconds(
    value: object, what: str, *, optional: bool = False, maximum: float = math.inf
) -> float | None:
    """A duration option: a finite number of seconds >= 0 (or None if ``optional``),
    at most ``maximum``.

    Raises ConfigurationError naming ``what`` for anything else (infinity and NaN
    included: "forever" is None where a call allows it).
    """
    if value is None and optional:
        return None
    if type(value) is float and 0.0 <= value <= maximum and value < math.inf:
        return value  # the usual case (a timeout), without the checks below: 0.1 us
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not 0 <= value <= maximum
        or not math.isfinite(value)
    ):
        allowed = "a finite number of seconds >= 0" + (" or None" if optional else "")
        if maximum < math.inf:
            allowed += f" (at most {maximum:g})"
        raise ConfigurationError(f"{what} must be {allowed}, not {value!r}")
    return float(value)


@overload
def check_count(value: object, what: str, *, minimum: int = 1) -> int: ...
@overload
def check_count(value: object, what: str, *, minimum: int = 1, optional: bool) -> int | None: ...
def check_count(
    value: object, what: str, *, minimum: int = 1, optional: bool = False
) -> int | None:
    """A count option (a capacity, a size, a number of attempts): an int >= ``minimum``
    (or None if ``optional``). Raises ConfigurationError naming ``what`` otherwise."""
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        allowed = "a positive int" if minimum == 1 else f"an int >= {minimum}"
        allowed += " or None" if optional else ""
        raise ConfigurationError(f"{what} must be {allowed}, not {value!r}")
    return value


def check_expiry(value: object, what: str) -> float | None:
    """A map entry's TTL or max-idle: None, or seconds in [0, :data:`MAX_EXPIRY`]."""
    return check_seconds(value, what, optional=True, maximum=MAX_EXPIRY)


class Handle(Generic[S]):
    """A cheap, named handle: nothing is created on the grid until it is used.

    Subclasses set ``kind`` and implement :meth:`_open`. Every operation goes through
    :attr:`_store`, which raises ClusterClosedError once the Cluster is closed (and
    WrongEventLoopError, ForkedClusterError off its loop or process), and which times
    every call (``hazelkit.operation.duration``) while metrics are live.

    The per-call path is resolved once per handle: the Cluster's codec (a Cluster
    never changes it) and whether it encrypts (only then does a value's place
    matter). Before, each get went through a dozen small calls (the codec looked up
    on the Cluster, the place computed to be None, the open check through the
    low-level seam): over a no-I/O store, a Map.get spent 3.2-3.5 us outside the
    codec, 2.0 us now (min of 30 rounds; the adapter's own share included).
    """

    kind = "structure"

    def __init__(self, cluster: Cluster, name: str) -> None:
        self._cluster = cluster
        self.name = check_name(name, self.kind)
        self._codec = cluster.codec
        self._sealed = self._codec.encryption is not None
        self._store_cache: S | None = None
        self._timed_store: S | None = None

    def _open(self) -> S:
        raise NotImplementedError

    @property
    def _store(self) -> S:
        self._cluster._check_open()  # lowlevel.check_open, without the extra call
        store = self._store_cache
        if store is None:
            store = self._store_cache = self._open()
        if _TELEMETRY.live:
            return self._timed()
        return store

    def _timed(self) -> S:
        if self._timed_store is None:
            timed: Any = TimedStore(self._store_cache, self.kind)
            self._timed_store = timed
        return self._timed_store

    def _key(self, value: Any) -> bytes:
        """Canonical bytes: equal values (of equal types) give equal bytes."""
        return self._codec.encode_key(value)

    def _decode_key(self, data: bytes) -> Any:
        return self._codec.decode_key(data)

    def _place(self, raw_key: bytes | None = None) -> bytes | None:
        return place_of(self._cluster, self.kind, self.name, raw_key)

    def _encode(self, value: Any, raw_key: bytes | None = None) -> bytes:
        if self._sealed:
            return self._codec.encode(value, self._place(raw_key))
        return self._codec.encode(value)

    def _decode(self, data: bytes, raw_key: bytes | None = None) -> Any:
        if self._sealed:
            return self._codec.decode(data, self._place(raw_key))
        return self._codec.decode(data)

    def _read_value(self, data: bytes, what: str, raw_key: bytes | None = None) -> Any:
        """Decode a value that was read (not taken): one this node cannot decode raises
        UndecodableError with its bytes, and stays where it is."""
        try:
            return self._decode(data, raw_key)
        except SerializationError as error:
            raise left_in_place(what, data, error, self.name) from error

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} of {self._cluster.url}>"


def equal_positions(
    items: Iterable[bytes],
    wanted: Any,
    codec_key: Callable[[Any], bytes],
    decode: Callable[[bytes], Any],
) -> Iterator[tuple[int, bytes]]:
    """The index and exact bytes of every item equal to ``wanted`` (canonically).

    Items stored as values may be compressed or encrypted, so equal values can have
    different bytes: each item is decoded and compared by its canonical encoding. An
    item this node cannot decode is equal to nothing (unless its bytes are those of
    ``wanted``).
    """
    expected = codec_key(wanted)
    for index, data in enumerate(items):
        if data == expected:
            yield index, data
            continue
        ok, item = try_decode(decode, data)
        if ok and codec_key(item) == expected:
            yield index, data


def find_equal(
    items: Iterable[bytes],
    wanted: Any,
    codec_key: Callable[[Any], bytes],
    decode: Callable[[bytes], Any],
) -> tuple[int, bytes] | None:
    """The first of :func:`equal_positions`, or None."""
    return next(equal_positions(items, wanted, codec_key, decode), None)
