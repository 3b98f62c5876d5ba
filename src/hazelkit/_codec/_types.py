"""msgpack extension types for the Python values msgpack has no type for.

Wire layout of each extension payload (all integers big-endian):

    1  BIGINT      an int beyond 64 bits: two's-complement bytes, as few as fit
    2  TUPLE       msgpack array of the items
    3  SET         msgpack array of the elements
    4  FROZENSET   msgpack array of the elements
    5  DATETIME    year u16, month, day, hour, minute, second u8, microsecond u32,
                   fold u8, then a time zone suffix (below)
    6  DATE        year u16, month u8, day u8
    7  TIME        hour, minute, second u8, microsecond u32, fold u8, time zone suffix
    8  TIMEDELTA   days i32, seconds u32, microseconds u32
    9  DECIMAL     ASCII text of str(value) (NaN, sNaN, Infinity and -0 included)
   10  UUID        msgpack bin of the 16 bytes
   11  ENUM        \\
   12  DATACLASS    > msgpack array [registered name, state]; see _registry.py
   13  STRUCT      /

Time zone suffix: nothing for a naive value; else one kind byte and its data:
    1  fixed offset: offset in microseconds, i64 (timezone without a name of its
       own, or any other tzinfo, taken at that instant)
    2  named fixed offset: offset i64, then the UTF-8 name (timezone(offset, name))
    3  IANA zone: the UTF-8 key of a zoneinfo.ZoneInfo
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from decimal import Decimal
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
from msgpack import ExtType

from hazelkit._exceptions import CorruptDataError

BIGINT = 1
TUPLE = 2
SET = 3
FROZENSET = 4
DATETIME = 5
DATE = 6
TIME = 7
TIMEDELTA = 8
DECIMAL = 9
UUID_ = 10
ENUM = 11
DATACLASS = 12
STRUCT = 13

Buffer = bytes | bytearray | memoryview
Encoder = Callable[[Any], Any]
Decoder = Callable[[Buffer], Any]

# ExtType.__new__ re-checks its arguments in Python; ours are known good.
_new_tuple = tuple.__new__
_MIN_NATIVE_INT = -(2**63)
_MAX_NATIVE_INT = 2**64 - 1

_DATE = struct.Struct(">HBB")
_TIME = struct.Struct(">BBBIB")
_DATETIME = struct.Struct(">HBBBBBIB")
_TIMEDELTA = struct.Struct(">iII")
_OFFSET = struct.Struct(">q")
_TZ_FIXED = 1
_TZ_NAMED = 2
_TZ_ZONE = 3
_ONE_MICROSECOND = timedelta(microseconds=1)
_UTC_SUFFIX = bytes((_TZ_FIXED,)) + _OFFSET.pack(0)
# IANA keys are letters, digits, '_', '-', '+' and '/': no dots, so ZoneInfo can
# never be asked for anything outside its time zone database.
_ZONE_KEY = re.compile(r"[A-Za-z0-9_+\-]{1,64}(?:/[A-Za-z0-9_+\-]{1,64}){0,4}\Z")
_TZ_CACHE: dict[bytes, tzinfo] = {}
_TZ_CACHE_LIMIT = 512
_BIN16 = b"\xc4\x10"
_UUID_DECODER = msgspec.msgpack.Decoder(UUID)


def ext(code: int, payload: bytes) -> Any:
    """An ExtType, built without ExtType's own argument checks."""
    return _new_tuple(ExtType, (code, payload))


def items_of(value: Any, what: str) -> list[Any]:
    """``value`` if it is the list a container payload must hold, else CorruptDataError."""
    if type(value) is not list:
        raise CorruptDataError(f"corrupt {what}: expected an array, got {type(value).__name__}")
    return value


def encode_int(value: int) -> Any:
    """An int as msgpack does it, or as BIGINT when it does not fit in 64 bits."""
    if _MIN_NATIVE_INT <= value <= _MAX_NATIVE_INT:
        return value
    size = (value.bit_length() + 8) // 8
    return ext(BIGINT, value.to_bytes(size, "big", signed=True))


def _tz_suffix(tz: tzinfo, value: datetime | time) -> bytes:
    if tz is UTC:
        return _UTC_SUFFIX
    if type(tz) is ZoneInfo and tz.key is not None and _ZONE_KEY.match(tz.key):
        return bytes((_TZ_ZONE,)) + tz.key.encode()
    offset = value.utcoffset()
    if offset is None:  # a tzinfo may declare a value naive
        return b""
    packed = _OFFSET.pack(offset // _ONE_MICROSECOND)
    if type(tz) is timezone:
        name = tz.tzname(None)
        if name != timezone(offset).tzname(None):
            return bytes((_TZ_NAMED,)) + packed + name.encode()
    return bytes((_TZ_FIXED,)) + packed


def _parse_tz(suffix: bytes) -> tzinfo:
    kind = suffix[0]
    if kind == _TZ_ZONE:
        key = suffix[1:].decode()
        if not _ZONE_KEY.match(key):
            raise CorruptDataError(f"corrupt time zone key {key!r}")
        try:
            return ZoneInfo(key)
        except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
            raise CorruptDataError(
                f"unknown time zone {key!r} (install tzdata or update the system zone "
                "database to read it)"
            ) from exc
    if kind not in (_TZ_FIXED, _TZ_NAMED) or len(suffix) < 1 + _OFFSET.size:
        raise CorruptDataError(f"corrupt time zone (kind {kind}, {len(suffix)} bytes)")
    (micros,) = _OFFSET.unpack_from(suffix, 1)
    offset = timedelta(microseconds=micros)
    if kind == _TZ_FIXED:
        if len(suffix) != 1 + _OFFSET.size:
            raise CorruptDataError("corrupt time zone: trailing bytes after a fixed offset")
        return timezone(offset)
    return timezone(offset, suffix[1 + _OFFSET.size :].decode())


def _read_tz(data: Buffer, start: int) -> tzinfo | None:
    if len(data) == start:
        return None
    suffix = bytes(data[start:])
    tz = _TZ_CACHE.get(suffix)
    if tz is None:
        tz = _parse_tz(suffix)
        if len(_TZ_CACHE) >= _TZ_CACHE_LIMIT:
            _TZ_CACHE.clear()
        _TZ_CACHE[suffix] = tz
    return tz


def encode_datetime(value: datetime) -> Any:
    payload = _DATETIME.pack(
        value.year,
        value.month,
        value.day,
        value.hour,
        value.minute,
        value.second,
        value.microsecond,
        value.fold,
    )
    tz = value.tzinfo
    if tz is not None:
        payload += _tz_suffix(tz, value)
    return ext(DATETIME, payload)


def decode_datetime(data: Buffer) -> datetime:
    year, month, day, hour, minute, second, micro, fold = _DATETIME.unpack_from(data)
    tz = _read_tz(data, _DATETIME.size)
    if fold:
        return datetime(year, month, day, hour, minute, second, micro, tz, fold=fold)
    return datetime(year, month, day, hour, minute, second, micro, tz)


def encode_date(value: date) -> Any:
    return ext(DATE, _DATE.pack(value.year, value.month, value.day))


def decode_date(data: Buffer) -> date:
    return date(*_DATE.unpack(data))


def encode_time(value: time) -> Any:
    payload = _TIME.pack(value.hour, value.minute, value.second, value.microsecond, value.fold)
    tz = value.tzinfo
    if tz is not None:
        payload += _tz_suffix(tz, value)
    return ext(TIME, payload)


def decode_time(data: Buffer) -> time:
    hour, minute, second, micro, fold = _TIME.unpack_from(data)
    return time(hour, minute, second, micro, _read_tz(data, _TIME.size), fold=fold)


def encode_timedelta(value: timedelta) -> Any:
    return ext(TIMEDELTA, _TIMEDELTA.pack(value.days, value.seconds, value.microseconds))


def decode_timedelta(data: Buffer) -> timedelta:
    return timedelta(*_TIMEDELTA.unpack(data))


def encode_decimal(value: Decimal) -> Any:
    return ext(DECIMAL, str(value).encode())


def decode_decimal(data: Buffer) -> Decimal:
    return Decimal(str(data, "ascii"))


def encode_uuid(value: UUID) -> Any:
    return ext(UUID_, _BIN16 + value.int.to_bytes(16, "big"))


def decode_uuid(data: Buffer) -> UUID:
    return _UUID_DECODER.decode(data)


def decode_bigint(data: Buffer) -> int:
    return int.from_bytes(data, "big", signed=True)


def builtin_encoders(pack: Callable[[Any], bytes]) -> dict[type, Encoder]:
    """Encoders for the builtin types msgpack lacks, keyed by exact type.

    ``pack`` packs a nested value (with the same hooks) into msgpack bytes.
    """

    def encode_tuple(value: tuple[Any, ...]) -> Any:
        return ext(TUPLE, pack(list(value)))

    def encode_set(value: set[Any]) -> Any:
        return ext(SET, pack(list(value)))

    def encode_frozenset(value: frozenset[Any]) -> Any:
        return ext(FROZENSET, pack(list(value)))

    return {
        int: encode_int,
        tuple: encode_tuple,
        set: encode_set,
        frozenset: encode_frozenset,
        datetime: encode_datetime,
        date: encode_date,
        time: encode_time,
        timedelta: encode_timedelta,
        Decimal: encode_decimal,
        UUID: encode_uuid,
    }


def builtin_decoders(unpack: Callable[[Buffer], Any]) -> dict[int, Decoder]:
    """Decoders for the builtin extension types, keyed by extension code.

    ``unpack`` decodes a nested msgpack payload (with the same hooks).
    """

    def decode_tuple(data: Buffer) -> tuple[Any, ...]:
        return tuple(items_of(unpack(data), "tuple"))

    def decode_set(data: Buffer) -> set[Any]:
        return set(items_of(unpack(data), "set"))

    def decode_frozenset(data: Buffer) -> frozenset[Any]:
        return frozenset(items_of(unpack(data), "frozenset"))

    return {
        BIGINT: decode_bigint,
        TUPLE: decode_tuple,
        SET: decode_set,
        FROZENSET: decode_frozenset,
        DATETIME: decode_datetime,
        DATE: decode_date,
        TIME: decode_time,
        TIMEDELTA: decode_timedelta,
        DECIMAL: decode_decimal,
        UUID_: decode_uuid,
    }
