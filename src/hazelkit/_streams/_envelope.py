"""The envelope of a reliable-topic message: who published it, its number, when, what.

Each publisher (every :class:`~hazelkit.ReliableTopic` handle of one name on one
Cluster: see :mod:`hazelkit._streams._publishing`) has a random id and numbers its messages 0,
1, 2, ... in the order they are stored. A
publish that is retried after a network error stores the *same* envelope again, so
``(publisher, number)`` identifies a message and subscribers drop the repeats. The
payload is the codec's encoding of the value (encrypted if the codec encrypts); the
envelope around it is plain msgpack, so a subscriber can always tell messages apart,
even one whose value it cannot decode.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import msgpack

from hazelkit._core._exceptions import CorruptDataError

__all__ = ["Deduplicator", "Envelope", "pack", "unpack"]

_VERSION = 1


@dataclass(frozen=True, slots=True)
class Envelope:
    publisher: str
    number: int
    publish_time: float
    payload: bytes

    @property
    def identity(self) -> tuple[str, int]:
        return (self.publisher, self.number)


def pack(publisher: str, number: int, publish_time: float, payload: bytes) -> bytes:
    """The stored bytes of one message."""
    data: bytes = msgpack.packb([_VERSION, publisher, number, publish_time, payload])
    return data


def unpack(data: bytes) -> Envelope:
    """The envelope in ``data``; CorruptDataError if it is not one."""
    try:
        fields = msgpack.unpackb(data, raw=False, max_bin_len=len(data), max_str_len=1024)
    except Exception as error:
        raise CorruptDataError(f"not a reliable-topic message: {error}") from None
    if (
        not isinstance(fields, list)
        or len(fields) != 5
        or fields[0] != _VERSION
        or not isinstance(fields[1], str)
        or not isinstance(fields[2], int)
        or not isinstance(fields[3], float)
        or not isinstance(fields[4], bytes)
    ):
        raise CorruptDataError("not a reliable-topic message (unknown envelope)")
    return Envelope(fields[1], fields[2], fields[3], fields[4])


class Deduplicator:
    """Remembers the highest number seen from each publisher (the most recent ones).

    A publisher's messages are stored in number order (it stores one batch at a time
    and retries a failed batch before the next), so any number at or below the highest
    seen is a repeat. ``size`` publishers (the most recently seen) are remembered, about
    160 bytes each; a repeat from a publisher forgotten meanwhile would be delivered
    again. Publishers are per node, topic and lane (at most four lanes), so the bound
    is rarely reached.
    """

    def __init__(self, size: int = 65_536) -> None:
        self._size = size
        self._highest: OrderedDict[str, int] = OrderedDict()

    def is_repeat(self, envelope: Envelope) -> bool:
        """True if this message was seen already; otherwise remember it and say False."""
        highest = self._highest.get(envelope.publisher)
        if highest is not None and envelope.number <= highest:
            return True
        self._highest[envelope.publisher] = envelope.number
        self._highest.move_to_end(envelope.publisher)
        if len(self._highest) > self._size:
            self._highest.popitem(last=False)
        return False
