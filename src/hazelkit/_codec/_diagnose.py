"""What is wrong with a msgpack body that failed to decode, in hazelkit's own words.

The decoders (msgspec, msgpack) word their errors as they like, and their wording changes
between releases. When a decode fails, the codec walks the body itself, on the error path
only, and names the first fault it finds and where (a byte offset from the start of the
encoded value, header included). The decoder's exception stays the ``__cause__``.

The walk is iterative (no recursion, whatever the nesting) and reads each byte at most
once; it looks inside the payloads of the container extensions (tuple, set, frozenset),
which are msgpack bodies themselves. Other extension payloads are checked by their own
decoders, whose errors are already hazelkit's.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from hazelkit._codec._types import FROZENSET, SET, TUPLE

__all__ = ["Fault", "find_fault"]

#: Extension payloads that are msgpack bodies, and whether their items must be hashable.
_CONTAINERS = {TUPLE: False, SET: True, FROZENSET: True}


@dataclass(frozen=True, slots=True)
class Fault:
    """The first problem found in a body: what, and at which byte of the value."""

    what: str
    position: int

    def describe(self) -> str:
        return f"{self.what} at byte {self.position}"


class _Truncated(Exception):
    def __init__(self, position: int) -> None:
        self.position = position


# Fixed-size heads: first byte -> (bytes of length field or payload, kind)
_SIZED = {
    0xC4: (1, "bin"), 0xC5: (2, "bin"), 0xC6: (4, "bin"),
    0xD9: (1, "str"), 0xDA: (2, "str"), 0xDB: (4, "str"),
    0xDC: (2, "array"), 0xDD: (4, "array"),
    0xDE: (2, "map"), 0xDF: (4, "map"),
    0xC7: (1, "ext"), 0xC8: (2, "ext"), 0xC9: (4, "ext"),
}  # fmt: skip
_SCALAR_WIDTH = {
    0xCA: 4, 0xCB: 8, 0xCC: 1, 0xCD: 2, 0xCE: 4, 0xCF: 8, 0xD0: 1, 0xD1: 2, 0xD2: 4, 0xD3: 8,
}  # fmt: skip
_FIXEXT = {0xD4: 1, 0xD5: 2, 0xD6: 4, 0xD7: 8, 0xD8: 16}


class _Walker:
    """Walks one msgpack body; ``base`` is the body's offset within the whole value."""

    def __init__(self, body: bytes, base: int) -> None:
        self.body = body
        self.base = base
        self.at = 0

    def take(self, count: int) -> bytes:
        end = self.at + count
        if end > len(self.body):
            raise _Truncated(self.base + len(self.body))
        chunk, self.at = self.body[self.at : end], end
        return chunk

    def number(self, width: int) -> int:
        return int.from_bytes(self.take(width), "big")

    def walk(self, hashable: bool = False) -> Fault | None:
        """Check one complete value (and all it holds); None if it is well formed."""
        # Each pending entry: (items still to read, they must be hashable, map key/value
        # alternation: 0 for a plain sequence, 1 when the next item is a map key).
        pending: list[list[int]] = [[1, int(hashable), 0]]
        try:
            while pending:
                top = pending[-1]
                if top[0] == 0:
                    pending.pop()
                    continue
                top[0] -= 1
                must_hash = bool(top[1]) or (top[2] == 1 and top[0] % 2 == 1)
                fault = self.item(pending, must_hash)
                if fault is not None:
                    return fault
        except _Truncated as end:
            return Fault("the value is truncated", end.position)
        return None

    def item(self, pending: list[list[int]], must_hash: bool) -> Fault | None:
        start = self.base + self.at
        head = self.take(1)[0]
        if head <= 0x7F or head >= 0xE0 or head in (0xC0, 0xC2, 0xC3):
            return None
        if 0xA0 <= head <= 0xBF:
            return self.text(head & 0x1F, start)
        if 0x90 <= head <= 0x9F or 0x80 <= head <= 0x8F:
            return self.container(head < 0x90, head & 0x0F, pending, must_hash, start)
        if head in _SCALAR_WIDTH:
            self.take(_SCALAR_WIDTH[head])
            return None
        if head in _FIXEXT:
            return self.extension(_FIXEXT[head], start)
        if head not in _SIZED:
            return Fault(f"invalid type byte 0x{head:02x}", start)
        width, kind = _SIZED[head]
        size = self.number(width)
        if kind in ("array", "map"):
            return self.container(kind == "map", size, pending, must_hash, start)
        if kind == "str":
            return self.text(size, start)
        if kind == "ext":
            return self.extension(size, start)
        self.take(size)
        return None

    def container(
        self, is_map: bool, size: int, pending: list[list[int]], must_hash: bool, start: int
    ) -> Fault | None:
        if must_hash and is_map:
            return Fault("a map key or a set item is a map, which is not hashable", start)
        if is_map:
            pending.append([2 * size, 0, 1])
        elif size:  # an array in a hashable place becomes a tuple: its items must hash too
            pending.append([size, int(must_hash), 0])
        return None

    def text(self, size: int, start: int) -> Fault | None:
        try:
            self.take(size).decode("utf-8")
        except UnicodeDecodeError as error:
            return Fault("a string is not valid UTF-8", start + 1 + error.start)
        return None

    def extension(self, size: int, start: int) -> Fault | None:
        code = struct.unpack(">b", self.take(1))[0]
        payload_at = self.base + self.at
        payload = self.take(size)
        if code in _CONTAINERS:
            inner = _Walker(payload, payload_at)
            while inner.at < len(payload):
                fault = inner.walk(_CONTAINERS[code])
                if fault is not None:
                    return fault
        return None


def find_fault(body: bytes | bytearray | memoryview, base: int = 2) -> Fault | None:
    """The first fault in ``body`` (a msgpack body starting at byte ``base`` of the value),
    or None if this walk finds none (the decoder objected to something it does not check,
    such as an extension payload of a scalar type)."""
    walker = _Walker(bytes(body), base)
    fault = walker.walk()
    if fault is None and walker.at < len(walker.body):
        extra = len(walker.body) - walker.at
        return Fault(f"{extra} unexpected byte(s) after the value", base + walker.at)
    return fault
