"""The Codec: header, compression and encryption around the msgpack body."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, NoReturn

import msgpack
import msgspec

from hazelkit._codec._canonical import CanonicalEncoder
from hazelkit._codec._compression import compress, decompress
from hazelkit._codec._crypto import Encryption
from hazelkit._codec._decoder import Decoder
from hazelkit._codec._diagnose import find_fault
from hazelkit._codec._encoder import Encoder, Unencodable
from hazelkit._codec._format import (
    FLAG_BOUND,
    FLAG_ENCRYPTED,
    FLAG_LZ4,
    HEADER_SIZE,
    HEADERS,
    PLAIN_HEADER,
    read_flags,
)
from hazelkit._codec._registry import TypeRegistry, default_registry
from hazelkit._core._exceptions import (
    ArgumentError,
    ConfigurationError,
    CorruptDataError,
    DecryptionError,
    EncodeError,
    SerializationError,
)

__all__ = ["DEFAULT_MAX_SIZE", "Codec"]

DEFAULT_MAX_SIZE = 64 * 1024 * 1024
_NEVER = 1 << 62  # a compression threshold no value reaches
_COPY_BELOW = 512  # slicing copies; a memoryview is cheaper for larger bodies
# A str key (the usual kind) in one C call: msgspec writes a str exactly as the msgpack
# Packer does (fixstr, str8, str16, str32; tests/codec compares them), 0.27 -> 0.12 us
# a key, without taking a packer from the pool.
_pack_str = msgspec.msgpack.Encoder().encode


class Codec:
    """Encodes Python values to bytes and back, keeping their exact types.

    Supported: None, bool, int (any size), float (nan, inf and -0.0 included), str,
    bytes, list, tuple, dict (any encodable hashable keys), set, frozenset, datetime
    (naive or aware: a ``zoneinfo.ZoneInfo`` keeps its key, a ``datetime.timezone``
    its offset and name, any other tzinfo becomes the fixed offset it had at that
    instant; ``fold`` is kept), date, time (with its time zone), timedelta, Decimal
    (NaN, sNaN, Infinity and signed zeros included), UUID, and members, instances of
    the Enums, dataclasses and msgspec Structs registered in ``registry``.

    ``decode(encode(v)) == v`` with every value, key and element of the same type as
    in ``v``, with these conversions: bytearray and memoryview encode as bytes;
    unregistered subclasses of str, int, float, bytes, list, tuple, dict, set,
    frozenset and the date/time, Decimal and UUID types (OrderedDict, defaultdict,
    namedtuples, ...) encode as their builtin base type; ``UUID.is_safe`` is not kept.
    Unregistered Enums, dataclasses and Structs are refused, even when they subclass
    a builtin (an IntEnum), so that a type is never lost silently. Values nest to
    about 1000 levels (Python's recursion limit); str must be valid Unicode.

    Layout: a 2-byte header (format version, flags), then the msgpack body, lz4
    compressed when it is at least ``compression_threshold`` bytes and compression
    pays (from 8 KiB on, only when lz4 shrinks a 4 KiB sample of its middle to 60% or
    less, so that text and incompressible data do not pay lz4's CPU for little gain;
    below, whenever it makes the body smaller), then AES-GCM encrypted when
    ``encryption`` is given (header and key id authenticated). ``max_size`` bounds
    encoded values, inputs, and the decompressed size, checked before decompressing.

    Decoding never runs code from the data: no pickle, no imports; only the
    constructors (and ``__hash__``/``__eq__``) of registered classes are called.
    Every decoding failure raises a :class:`~hazelkit.SerializationError` subclass
    naming the problem. ``max_size`` bounds bytes, not objects: decoded objects can
    take tens of times the size of their encoding (an empty list is one byte), so
    lower it for untrusted input where memory is tight. Integers hash without salt, so
    crafted input with thousands of colliding int keys in one dict or set decodes in
    quadratic time; decode bytes from parties you do not trust (hazelkit never decodes
    cookies) with a small ``max_size``.

    A Codec is immutable and thread-safe; one instance serves all threads.

    Raises ConfigurationError for an unknown compression, a negative threshold, a
    non-positive ``max_size`` or an ``encryption`` that is not an Encryption.
    """

    __slots__ = (
        "_canonical",
        "_compression",
        "_decode_body",
        "_decoder",
        "_encoder",
        "_encryption",
        "_idle_packers",
        "_max_size",
        "_pack",
        "_plain_below",
        "_plain_header",
        "_registry",
        "_threshold",
    )

    _canonical: CanonicalEncoder
    _compression: Literal["lz4"] | None
    _decode_body: Callable[[Any], Any]
    _decoder: Decoder
    _encoder: Encoder
    _encryption: Encryption | None
    _idle_packers: list[Any]
    _max_size: int
    _pack: Callable[[Any], bytes]
    _plain_below: int
    _plain_header: bytes | None
    _registry: TypeRegistry
    _threshold: int

    def __init__(
        self,
        *,
        registry: TypeRegistry | None = None,
        compression: Literal["lz4"] | None = "lz4",
        compression_threshold: int = 1024,
        encryption: Encryption | None = None,
        max_size: int = DEFAULT_MAX_SIZE,
    ) -> None:
        _check_options(registry, compression, compression_threshold, encryption, max_size)
        registry = default_registry if registry is None else registry
        encoder = Encoder(registry)
        decoder = Decoder(registry)
        threshold = _NEVER if compression is None else compression_threshold
        init = object.__setattr__
        init(self, "_registry", registry)
        init(self, "_compression", compression)
        init(self, "_threshold", threshold)
        init(self, "_encryption", encryption)
        init(self, "_max_size", max_size)
        init(self, "_encoder", encoder)
        init(self, "_pack", encoder.pack)
        init(self, "_idle_packers", encoder.idle)
        init(self, "_canonical", CanonicalEncoder(encoder))
        init(self, "_decoder", decoder)
        init(self, "_decode_body", decoder.decode_fast)
        # The fast paths: a body below this size needs no compression, encryption or
        # size check; a plain header is all a codec without encryption must check.
        plain_below = 0 if encryption else min(threshold, max_size - HEADER_SIZE + 1)
        init(self, "_plain_below", plain_below)
        init(self, "_plain_header", None if encryption else PLAIN_HEADER)

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError("a Codec is immutable")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError("a Codec is immutable")

    @property
    def registry(self) -> TypeRegistry:
        """The registry of user types this codec encodes and decodes."""
        return self._registry

    @property
    def compression(self) -> Literal["lz4"] | None:
        """The compression applied to large values, or None."""
        return self._compression

    @property
    def compression_threshold(self) -> int | None:
        """The body size in bytes from which compression is tried, or None."""
        return None if self._compression is None else self._threshold

    @property
    def encryption(self) -> Encryption | None:
        """The encryption applied to every value, or None."""
        return self._encryption

    @property
    def max_size(self) -> int:
        """The largest encoded value, input and decompressed body, in bytes."""
        return self._max_size

    def __repr__(self) -> str:
        return (
            f"Codec(compression={self._compression!r}, "
            f"compression_threshold={self.compression_threshold!r}, "
            f"encryption={self._encryption!r}, max_size={self._max_size!r})"
        )

    def encode(self, value: Any, place: bytes | None = None) -> bytes:
        """The bytes for ``value``, compressed and encrypted as configured.

        Equal values may give different bytes (set order, dict insertion order,
        random nonces): use :meth:`encode_key` where bytes are compared.

        ``place`` says where the value will be stored (hazelkit's structures pass their
        kind and name, and a map value's key). With encryption, the value is then bound
        to it: :meth:`decode` opens it only with the same ``place``, so a ciphertext
        copied to another key or structure fails with DecryptionError. Without
        encryption ``place`` changes nothing.

        Raises EncodeError naming the type and its place inside ``value`` for
        anything that cannot be encoded, and for values over ``max_size``.
        """
        # Encoder.pack, inlined: this is the hottest path of hazelkit.
        idle = self._idle_packers
        try:
            packer = idle.pop()
        except IndexError:
            packer = self._encoder.new_packer()
        try:
            body: bytes = packer.pack(value)
        except Exception as exc:  # the packer may hold a half-written buffer: dropped
            self._raise_encode_error(exc, value)
        if len(body) < self._plain_below:
            idle.append(packer)
            return PLAIN_HEADER + body
        return self._finish(body, packer, place)

    def _finish(self, body: bytes, packer: Any, place: bytes | None = None) -> bytes:
        size = len(body)
        self._encoder.put_back(packer, size)
        self._check_encoded_size(size)
        flags = 0
        if size >= self._threshold:
            compressed = compress(body)
            if compressed is not None:
                body, flags = compressed, FLAG_LZ4
        if self._encryption is not None:
            flags |= FLAG_ENCRYPTED if place is None else FLAG_ENCRYPTED | FLAG_BOUND
            data = self._encryption._seal(flags, body, place or b"")
        else:
            data = HEADERS[flags] + body
        self._check_encoded_size(len(data))
        return data

    def encode_key(self, value: Any) -> bytes:
        """Canonical bytes for ``value``: equal values give equal bytes in every process.

        For map keys and compare-and-set. Dict items are written sorted by their
        encoded keys and set elements by their encoded bytes, so neither insertion
        order nor per-process hash salting shows. "Equal" means equal and of the
        same types throughout: ``1``, ``1.0`` and ``True`` are three keys, and so are
        ``0.0`` and ``-0.0``, ``Decimal("1.0")`` and ``Decimal("1.00")``, or one
        instant in two time zones.

        Keys are never compressed and never encrypted, even when the codec encrypts
        values: a key must give the same bytes every time so that the cluster can
        find it, and random nonces would prevent that. Do not put secrets in keys.
        :meth:`decode_key` reads the result, and so does :meth:`decode` on a codec
        without encryption.

        Raises EncodeError as :meth:`encode` does.
        """
        kind = type(value)
        try:
            if kind is str:
                body = _pack_str(value)
            elif kind is bytes or kind is int:
                body = self._pack(value)
            else:
                body = self._canonical.pack(value)
        except Exception as exc:
            self._raise_encode_error(exc, value)
        self._check_encoded_size(len(body) + HEADER_SIZE)
        return PLAIN_HEADER + body

    def decode(self, data: bytes | bytearray | memoryview, place: bytes | None = None) -> Any:
        """The value encoded in ``data`` by :meth:`encode` (of a compatible codec).

        A value encrypted for a ``place`` decodes only with that same ``place``
        (DecryptionError otherwise); an encrypted value written without one (by an
        older hazelkit, say) decodes whatever ``place`` is given.

        A codec with encryption refuses unencrypted values (DecryptionError), so
        that nobody can substitute plaintext for encrypted data at rest; keys from
        :meth:`encode_key` are read with :meth:`decode_key`.

        Raises CorruptDataError for truncated, malformed or oversized input,
        UnsupportedVersionError for another format version or an unknown flag,
        DecryptionError for a missing or wrong key, tampering or unexpected
        plaintext, UnknownTypeError for an unregistered type name; ArgumentError (a TypeError) if
        ``data`` is not bytes, bytearray or memoryview. Nothing else, whatever the
        bytes are.
        """
        try:
            if (
                type(data) is bytes
                and data[:2] == self._plain_header
                and len(data) <= self._max_size
            ):
                body = data[2:] if len(data) < _COPY_BELOW else memoryview(data)[2:]
                return self._decode_body(body)
            return self._decode(_byte_view(data), self._decode_body, place)
        except SerializationError:
            raise
        except RecursionError:
            return self._decode_deep(data, place)
        except Exception as exc:
            if not isinstance(data, bytes | bytearray | memoryview):
                raise ArgumentError(
                    f"decode() takes bytes, bytearray or memoryview, not {type(data).__name__}"
                ) from None
            raise self._decode_error(exc, "value", data, place) from exc

    def _decode_deep(self, data: bytes | bytearray | memoryview, place: bytes | None) -> Any:
        """Decode again with msgpack's unpacker, which goes deeper than msgspec's."""
        try:
            return self._decode(_byte_view(data), self._decoder.decode_slow, place)
        except SerializationError:
            raise
        except Exception as exc:
            raise self._decode_error(exc, "value", data, place) from exc

    def decode_key(self, data: bytes | bytearray | memoryview) -> Any:
        """The value encoded in ``data`` by :meth:`encode_key` (or by :meth:`encode`).

        Keys are never encrypted, so this reads plain encodings even when the codec
        encrypts values. Raises as :meth:`decode`.
        """
        view = _byte_view(data)
        if read_flags(view) != 0:
            return self.decode(view)
        try:
            return self._decoder.decode(_body(view))
        except SerializationError:
            raise
        except Exception as exc:
            raise self._decode_error(exc, "key", view) from exc

    def _decode(
        self,
        data: bytes | bytearray | memoryview,
        decode_body: Callable[[Any], Any],
        place: bytes | None = None,
    ) -> Any:
        size = len(data)
        if size > self._max_size:
            raise CorruptDataError(
                f"value is {size} bytes, over the max_size limit of {self._max_size} bytes"
            )
        flags = read_flags(data)
        body: bytes | bytearray | memoryview
        if flags & FLAG_ENCRYPTED:
            if self._encryption is None:
                raise DecryptionError(
                    "value is encrypted but no key is configured: give the Codec "
                    "encryption=Encryption(...) with the key it was written with"
                )
            body = self._encryption._open(data, place or b"")
        elif self._encryption is not None:
            raise DecryptionError(
                "value is not encrypted, and this codec refuses unencrypted values because "
                "it is configured with encryption (keys from encode_key: use decode_key)"
            )
        else:
            body = _body(data)
        if flags & FLAG_LZ4:
            body = decompress(body, self._max_size)
        return decode_body(body)

    def _check_encoded_size(self, size: int) -> None:
        if size > self._max_size:
            raise EncodeError(
                f"value encodes to {size} bytes, over the max_size limit of {self._max_size} bytes"
            )

    def _decode_error(
        self,
        exc: Exception,
        what: str,
        data: bytes | bytearray | memoryview,
        place: bytes | None = None,
    ) -> CorruptDataError:
        """The CorruptDataError for a decoder's exception, in hazelkit's words: the fault
        found by walking the body (:mod:`._diagnose`), with its position when known."""
        if isinstance(exc, RecursionError | msgpack.StackError):
            return CorruptDataError(f"malformed {what}: nested too deeply to decode")
        try:
            body = self._decode(data, lambda body: body, place)  # decrypted, decompressed
        except SerializationError:
            body = _body(data)
        fault = find_fault(body, base=HEADER_SIZE)
        if fault is None:
            return CorruptDataError(
                f"malformed {what}: its body is not a value this codec writes"
                f" ({type(exc).__name__} from the decoder)"
            )
        where = "" if read_flags(data) == 0 else " of the decompressed or decrypted body"
        return CorruptDataError(f"malformed {what}: {fault.describe()}{where}")

    def _raise_encode_error(self, exc: Exception, value: Any) -> NoReturn:
        error = self._encoder.error(exc, value)
        raise error from (None if isinstance(exc, Unencodable) else exc)


def _byte_view(data: bytes | bytearray | memoryview) -> bytes | bytearray | memoryview:
    if type(data) is bytes or type(data) is bytearray:
        return data
    if isinstance(data, memoryview):
        return data if data.itemsize == 1 and data.ndim == 1 else data.cast("B")
    if isinstance(data, bytes | bytearray):
        return data
    raise ArgumentError(f"decode() takes bytes, bytearray or memoryview, not {type(data).__name__}")


def _body(data: bytes | bytearray | memoryview) -> bytes | bytearray | memoryview:
    if len(data) < _COPY_BELOW:
        return data[HEADER_SIZE:]
    return memoryview(data)[HEADER_SIZE:]


def _check_options(
    registry: object, compression: object, threshold: object, encryption: object, max_size: object
) -> None:
    if registry is not None and not isinstance(registry, TypeRegistry):
        raise ConfigurationError(f"registry must be a TypeRegistry, got {registry!r}")
    if compression == "zstd":
        raise ConfigurationError("zstd compression is reserved but not supported yet: use 'lz4'")
    if compression not in ("lz4", None):
        raise ConfigurationError(f"unknown compression {compression!r}: use 'lz4' or None")
    if type(threshold) is not int or threshold < 0:
        raise ConfigurationError(
            f"compression_threshold must be an int >= 0 (bytes), got {threshold!r}"
        )
    if encryption is not None and not isinstance(encryption, Encryption):
        raise ConfigurationError(f"encryption must be an Encryption or None, got {encryption!r}")
    if type(max_size) is not int or max_size <= 0:
        raise ConfigurationError(f"max_size must be a positive int (bytes), got {max_size!r}")
