"""Canonical encoding for keys: equal values give equal bytes in every process.

Only the order of dict items and of set elements can differ between two encodings
of equal values (set order follows str hashes, which are salted per process). Here
every dict is written with its items sorted by their encoded key bytes and every set
by its encoded element bytes; everything else is packed as by the normal encoder.
The output is ordinary msgpack with the same extension types, so the normal decoder
reads it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hazelkit._codec._encoder import Encoder, to_builtin
from hazelkit._codec._types import FROZENSET, SET, TUPLE, ext


def _array_header(size: int) -> bytes:
    if size < 16:
        return bytes((0x90 | size,))
    if size < 0x10000:
        return b"\xdc" + size.to_bytes(2, "big")
    return b"\xdd" + size.to_bytes(4, "big")


def _map_header(size: int) -> bytes:
    if size < 16:
        return bytes((0x80 | size,))
    if size < 0x10000:
        return b"\xde" + size.to_bytes(2, "big")
    return b"\xdf" + size.to_bytes(4, "big")


class CanonicalEncoder:
    """Deterministic msgpack bytes for a value (see the module docstring)."""

    def __init__(self, encoder: Encoder) -> None:
        self._encoder = encoder
        self._pack = encoder.pack
        self._containers: dict[type, Callable[[Any], bytes]] = {
            dict: self._dict,
            list: self._list,
            tuple: self._tuple,
            set: self._set,
            frozenset: self._frozenset,
        }

    def pack(self, value: Any) -> bytes:
        """Canonical msgpack bytes for ``value``; raises as :meth:`Encoder.pack`."""
        kind = type(value)
        container = self._containers.get(kind)
        if container is not None:
            return container(value)
        entry = self._encoder.registry._by_type.get(kind)
        if entry is not None:
            return self._pack(ext(entry.code, entry.prefix + self.pack(entry.state(value))))
        if isinstance(value, dict | list | tuple | set | frozenset):
            return self.pack(to_builtin(value))
        # Scalars and the other extension types have one encoding per value.
        return self._pack(value)

    def _dict(self, value: dict[Any, Any]) -> bytes:
        pack = self.pack
        items = sorted((pack(key), pack(item)) for key, item in value.items())
        return _map_header(len(items)) + b"".join(key + item for key, item in items)

    def _list(self, value: list[Any]) -> bytes:
        return _array_header(len(value)) + b"".join(map(self.pack, value))

    def _tuple(self, value: tuple[Any, ...]) -> bytes:
        return self._pack(ext(TUPLE, self._list(list(value))))

    def _elements(self, value: set[Any] | frozenset[Any]) -> bytes:
        return _array_header(len(value)) + b"".join(sorted(map(self.pack, value)))

    def _set(self, value: set[Any]) -> bytes:
        return self._pack(ext(SET, self._elements(value)))

    def _frozenset(self, value: frozenset[Any]) -> bytes:
        return self._pack(ext(FROZENSET, self._elements(value)))
