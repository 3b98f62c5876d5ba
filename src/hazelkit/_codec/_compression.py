"""lz4 block compression with a stored size, checked before anything is allocated."""

from __future__ import annotations

import lz4.block

from hazelkit._core._exceptions import CorruptDataError

_SIZE_PREFIX = 4


def compress(body: bytes) -> bytes | None:
    """``body`` as an lz4 block with its size in front, or None if that is not smaller."""
    compressed: bytes = lz4.block.compress(body, store_size=True)
    return compressed if len(compressed) < len(body) else None


def decompress(block: bytes | bytearray | memoryview, max_size: int) -> bytes:
    """The bytes an lz4 block (with stored size) holds, never more than ``max_size``.

    The declared size is checked against ``max_size`` before decompressing, so a
    small input cannot make the decoder allocate a large buffer (no decompression
    bombs). Raises CorruptDataError for a short, oversized or corrupt block.
    """
    if len(block) < _SIZE_PREFIX:
        raise CorruptDataError("truncated compressed value: no size prefix")
    size = int.from_bytes(block[:_SIZE_PREFIX], "little")
    if size > max_size:
        raise CorruptDataError(
            f"compressed value declares {size} bytes uncompressed, over the "
            f"max_size limit of {max_size} bytes"
        )
    try:
        data: bytes = lz4.block.decompress(block)
    except Exception as exc:  # lz4 raises its own LZ4BlockError, and ValueError
        raise CorruptDataError(f"corrupt lz4-compressed value: {exc}") from exc
    return data
