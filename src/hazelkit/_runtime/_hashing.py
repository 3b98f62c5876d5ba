"""Stable hashing: an entity's partition, and a partition's preferred node.

Both are the same in every process and every Python version (BLAKE2b, not the salted
built-in ``hash``), so every node agrees without talking.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

__all__ = ["partition_of", "preferred_node"]


def _digest(*parts: str) -> int:
    data = "\x00".join(parts).encode()
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big")


def partition_of(entity_id: str, partitions: int) -> int:
    """The partition (``0 .. partitions-1``) of ``entity_id``."""
    return _digest("entity", entity_id) % partitions


def preferred_node(space: str, partition: int, nodes: Iterable[str]) -> str | None:
    """The rendezvous-hash winner for ``partition`` of ``space`` among ``nodes`` (None if
    there are none): a node joining or leaving moves only the partitions it wins or
    held."""
    best: tuple[int, str] | None = None
    for node in nodes:
        score = (_digest("owner", space, str(partition), node), node)
        if best is None or score > best:
            best = score
    return None if best is None else best[1]
