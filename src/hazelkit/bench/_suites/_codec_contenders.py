"""The codec benchmark's contenders, and how to tell which types a round trip lost.

pickle keeps every type but runs code when loading (never for untrusted data); msgpack
and msgspec used raw are the fast baselines a user would reach for, and they lose types
hazelkit keeps. msgpack gets a ``default`` hook only for what it would otherwise refuse
(sets become lists; UUID, Decimal and datetime become strings); msgspec needs none.
"""

from __future__ import annotations

import datetime as dt
import functools
import pickle
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

import msgpack
import msgspec

from hazelkit._codec import Codec, Encryption

__all__ = ["BASELINE", "NO_LZ4", "CodecContender", "codec_contenders", "lost_types"]

BASELINE = "pickle"
NO_LZ4 = "hazelkit no-lz4"
#: A fixed AES-256 key: the benchmark measures encryption, not key derivation.
_BENCH_KEY = bytes(range(32))


@dataclass(frozen=True)
class CodecContender:
    """A way to turn values into bytes and back."""

    name: str
    encode: Callable[[Any], bytes]
    decode: Callable[[bytes], Any]
    description: str
    hazelkit: bool = False


def _msgpack_default(value: object) -> object:
    """Only what msgpack would refuse: sets as lists, UUID/Decimal/datetime as str."""
    if isinstance(value, set | frozenset):
        return list(value)
    if isinstance(value, UUID | Decimal | dt.datetime | dt.date | dt.time):
        return str(value)
    raise TypeError(f"cannot serialize {type(value).__name__}")


def _pickle_dumps(value: object) -> bytes:
    return pickle.dumps(value, protocol=5)


def _pickle_loads(data: bytes) -> Any:
    return pickle.loads(data)  # noqa: S301 - the baseline; only our own payloads


def codec_contenders() -> list[CodecContender]:
    """hazelkit (default, compression forced, none, encrypted), pickle 5, msgpack, msgspec."""
    default = Codec()
    forced = Codec(compression_threshold=0)
    plain = Codec(compression=None)
    encrypted = Codec(encryption=Encryption(keys=[_BENCH_KEY]))
    return [
        CodecContender(
            "hazelkit",
            default.encode,
            default.decode,
            "Codec(): lz4 from 1 KiB where it pays (a 4 KiB probe above 8 KiB)",
            hazelkit=True,
        ),
        CodecContender(
            "hazelkit lz4-always",
            forced.encode,
            forced.decode,
            "Codec(compression_threshold=0): lz4 tried on every value (same probe)",
            hazelkit=True,
        ),
        CodecContender(
            NO_LZ4,
            plain.encode,
            plain.decode,
            "Codec(compression=None): a diagnostic, to show what lz4 costs and saves",
            hazelkit=True,
        ),
        CodecContender(
            "hazelkit AES-GCM",
            encrypted.encode,
            encrypted.decode,
            "Codec(encryption=...): lz4 from 1 KiB, then AES-256-GCM",
            hazelkit=True,
        ),
        CodecContender(BASELINE, _pickle_dumps, _pickle_loads, "pickle.dumps(protocol=5)"),
        CodecContender(
            "msgpack",
            functools.partial(msgpack.packb, default=_msgpack_default),
            msgpack.unpackb,
            "msgpack.packb/unpackb, str() for what it refuses",
        ),
        CodecContender(
            "msgspec",
            msgspec.msgpack.encode,
            msgspec.msgpack.decode,
            "msgspec.msgpack.encode/decode, untyped",
        ),
    ]


def lost_types(original: Any, decoded: Any) -> list[str]:
    """What a round trip changed, as ``"UUID→str"``-style notes, sorted (empty: all kept).

    Compares types recursively through dicts, lists, tuples and sets, and time zones of
    datetimes (an instant moved to UTC counts as a lost time zone).
    """
    changes: set[str] = set()
    _compare(original, decoded, changes)
    return sorted(changes)


def _compare(original: Any, decoded: Any, changes: set[str]) -> None:
    before, after = type(original), type(decoded)
    if before is not after:
        changes.add(f"{before.__name__}→{after.__name__}")
        return
    if isinstance(original, dt.datetime) and original.utcoffset() != decoded.utcoffset():
        changes.add("tz offset→UTC")
    elif isinstance(original, dict):
        for key, value in original.items():
            _compare(value, decoded.get(key), changes)
    elif isinstance(original, list | tuple) and len(original) == len(decoded):
        for left, right in zip(original, decoded, strict=True):
            _compare(left, right, changes)
