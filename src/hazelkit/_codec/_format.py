"""The two-byte header in front of every encoded value.

    byte 0   format version, 1
    byte 1   flags: bit 0  the body is an lz4 block (4-byte little-endian size first)
                    bit 1  reserved for zstd (not read by this version)
                    bit 2  the body is AES-GCM encrypted: key id (4), nonce (12),
                           ciphertext and tag; header and key id are authenticated
                    bit 3  (with bit 2) the value is bound to its place: the
                           authenticated data also holds where it is stored (the
                           structure's kind and name, and a map value's key), so a
                           copy elsewhere does not decrypt
                    bits 4-7 must be zero

Compression happens before encryption, so an encrypted body decrypts to the
(possibly compressed) msgpack body.
"""

from __future__ import annotations

from hazelkit._core._exceptions import CorruptDataError, UnsupportedVersionError

FORMAT_VERSION = 1
HEADER_SIZE = 2

FLAG_LZ4 = 0x01
FLAG_ZSTD = 0x02
FLAG_ENCRYPTED = 0x04
FLAG_BOUND = 0x08
_KNOWN_FLAGS = FLAG_LZ4 | FLAG_ZSTD | FLAG_ENCRYPTED | FLAG_BOUND

# Indexed by the flags byte, so the hot path never builds a header.
HEADERS = tuple(bytes((FORMAT_VERSION, flags)) for flags in range(16))
PLAIN_HEADER = HEADERS[0]


def read_flags(data: bytes | bytearray | memoryview) -> int:
    """Check the header of ``data`` and return its flags byte.

    Raises CorruptDataError for input shorter than a header, and
    UnsupportedVersionError for another format version or a flag this version
    cannot read.
    """
    if len(data) < HEADER_SIZE:
        raise CorruptDataError(
            f"truncated value: {len(data)} byte(s), shorter than the {HEADER_SIZE}-byte header"
        )
    version = data[0]
    if version == 0:
        raise UnsupportedVersionError(
            "not a hazelkit value: it starts with byte 0, as values other Hazelcast clients "
            "write do (a Hazelcast-serialized str, number, JSON, Java object or pickle); "
            "hazelkit reads only what its codec wrote, and never unpickles"
        )
    if version != FORMAT_VERSION:
        raise UnsupportedVersionError(
            f"cannot read format version {version}, this hazelkit reads version "
            f"{FORMAT_VERSION} (the value was written by another hazelkit version, "
            "or is not hazelkit data)"
        )
    flags = data[1]
    if flags & ~_KNOWN_FLAGS:
        raise UnsupportedVersionError(
            f"unknown flag bits {flags & ~_KNOWN_FLAGS:#04x} in the header "
            f"(flags {flags:#04x}): written by a newer hazelkit, or not hazelkit data"
        )
    if flags & FLAG_BOUND and not flags & FLAG_ENCRYPTED:
        raise CorruptDataError("the header says bound to its place but not encrypted")
    if flags & FLAG_ZSTD:
        raise UnsupportedVersionError(
            "the value is zstd-compressed; this hazelkit reads only lz4-compressed values"
        )
    return flags
