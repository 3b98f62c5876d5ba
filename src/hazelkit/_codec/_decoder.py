"""msgpack bytes to values: msgspec's decoder, with a hook for the extension types."""

from __future__ import annotations

from typing import Any

import msgpack
import msgspec

from hazelkit._codec._registry import KIND_NAMES, RegisteredType, TypeRegistry, short_repr
from hazelkit._codec._types import (
    DATACLASS,
    ENUM,
    STRUCT,
    Buffer,
    builtin_decoders,
)
from hazelkit._codec._types import Decoder as DecodeFn
from hazelkit._exceptions import CorruptDataError, UnknownTypeError


class Decoder:
    """Decodes msgpack bodies; extension payloads are decoded with the same hooks.

    msgspec's decoder is the fast path. It recurses on the C stack under Python's
    recursion limit, which the msgpack Packer's own limit (1024 levels) can exceed by
    a little; a body it finds too deep is decoded again, once, with msgpack's
    iterative unpacker, which reaches the same depth the packer does.

    Stateless apart from the registry: thread-safe and re-entrant.
    """

    def __init__(self, registry: TypeRegistry) -> None:
        self._by_name = registry._by_name
        self._fast = msgspec.msgpack.Decoder(ext_hook=self._fast_hook)
        self._fast_table = self._table(self._fast.decode)
        self._slow_table = self._table(self._unpack_slow)

    def decode(self, body: Buffer) -> Any:
        """The value in a msgpack ``body``; raises whatever the decoders raise."""
        try:
            return self._fast.decode(body)
        except RecursionError:
            return self._unpack_slow(body)

    def _table(self, unpack: Any) -> dict[int, DecodeFn]:
        table = builtin_decoders(unpack)
        for code in (ENUM, DATACLASS, STRUCT):
            table[code] = self._registered_decoder(code, unpack)
        return table

    def _fast_hook(self, code: int, data: memoryview) -> Any:
        decode = self._fast_table.get(code)
        if decode is None:
            raise CorruptDataError(f"unknown extension type {code} in the value")
        return decode(data)

    def _slow_hook(self, code: int, data: bytes) -> Any:
        decode = self._slow_table.get(code)
        if decode is None:
            raise CorruptDataError(f"unknown extension type {code} in the value")
        return decode(data)

    def _unpack_slow(self, body: Buffer) -> Any:
        return msgpack.unpackb(
            body, ext_hook=self._slow_hook, strict_map_key=False, timestamp=3, raw=False
        )

    def _registered_decoder(self, code: int, unpack: Any) -> DecodeFn:
        by_name = self._by_name

        def decode(data: Buffer) -> Any:
            pair = unpack(data)
            if type(pair) is not list or len(pair) != 2 or type(pair[0]) is not str:
                raise CorruptDataError("corrupt registered-type value: expected [name, state]")
            name, state = pair
            entry = by_name.get(name)
            if entry is None:
                raise UnknownTypeError(
                    f"unknown type name {short_repr(name)}: a class must be registered under "
                    "this name (hazelkit.codec.register) before values of it can be decoded"
                )
            if entry.code != code:
                raise _kind_mismatch(entry, code)
            return entry.build(state)

        return decode


def _kind_mismatch(entry: RegisteredType, code: int) -> CorruptDataError:
    return CorruptDataError(
        f"{entry.name!r} was written as {KIND_NAMES[code]} but is registered here as {entry.kind}"
    )
