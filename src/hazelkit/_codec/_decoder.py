"""msgpack bytes to values: msgspec's decoder, with a hook for the extension types."""

from __future__ import annotations

from typing import Any

import msgpack
import msgspec

from hazelkit._codec._registry import KIND_NAMES, RegisteredType, TypeRegistry, short_repr
from hazelkit._codec._types import (
    DATACLASS,
    ENUM,
    FROZENSET,
    SET,
    STRUCT,
    TUPLE,
    Buffer,
    scalar_decoders,
)
from hazelkit._codec._types import Decoder as DecodeFn
from hazelkit._core._exceptions import CorruptDataError, UnknownTypeError

_REGISTERED = (ENUM, DATACLASS, STRUCT)


class Decoder:
    """Decodes msgpack bodies; extension payloads are decoded with the same hooks.

    ``decode_fast`` is msgspec's decoder: container payloads go straight to typed
    msgspec decoders (``tuple``, ``set``...), so most values never enter Python
    code. It recurses on the C stack under Python's recursion limit, which the
    msgpack Packer's own nesting limit (1024 levels of lists and dicts) can exceed
    by a little: ``decode_slow``, for bodies msgspec finds too deep, reads the outer
    body with msgpack's iterative unpacker instead.

    Stateless apart from the registry: thread-safe and re-entrant.
    """

    def __init__(self, registry: TypeRegistry) -> None:
        self._by_name = registry._by_name
        table = scalar_decoders()
        hook = _hook(table)
        typed = msgspec.msgpack.Decoder
        table[TUPLE] = typed(tuple, ext_hook=hook).decode
        table[SET] = typed(set, ext_hook=hook).decode
        table[FROZENSET] = typed(frozenset, ext_hook=hook).decode
        read_pair = typed(tuple[str, Any], ext_hook=hook).decode
        for code in _REGISTERED:
            table[code] = self._registered_decoder(code, read_pair)
        self.decode_fast: DecodeFn = typed(ext_hook=hook).decode

        def decode_slow(body: Buffer) -> Any:
            # Only the outer body: msgpack's unpacker keeps 1024 levels on the C stack
            # per call, so calling it again for each nested payload could overflow it.
            return msgpack.unpackb(
                body, ext_hook=hook, strict_map_key=False, timestamp=3, raw=False
            )

        self.decode_slow: DecodeFn = decode_slow

    def decode(self, body: Buffer) -> Any:
        """The value in a msgpack ``body``; raises whatever the decoders raise."""
        try:
            return self.decode_fast(body)
        except RecursionError:
            return self.decode_slow(body)

    def _registered_decoder(self, code: int, read_pair: Any) -> DecodeFn:
        by_name = self._by_name

        def decode(data: Buffer) -> Any:
            name, state = read_pair(data)
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


def _hook(table: dict[int, DecodeFn]) -> Any:
    """The ext_hook that decodes an extension payload by its code."""

    def hook(code: int, data: Buffer) -> Any:
        try:
            decode = table[code]
        except KeyError:
            raise CorruptDataError(f"unknown extension type {code} in the value") from None
        return decode(data)

    return hook


def _kind_mismatch(entry: RegisteredType, code: int) -> CorruptDataError:
    return CorruptDataError(
        f"{entry.name!r} was written as {KIND_NAMES[code]} but is registered here as {entry.kind}"
    )
