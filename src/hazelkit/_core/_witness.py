"""Records that remember their last writes, so an unknown outcome can be resolved.

A compare-and-set whose reply is lost (IndeterminateOperationError) may or may not have
been applied. Retrying blindly applies it twice when it had been; giving up loses it when
it had not. hazelkit's own records (atoms, counters, latches, and the runtime's state)
therefore carry the write ids of their last :data:`WINDOW` writes: each write adds a fresh
random id, and reading the record back tells:

- our id is among them: **applied**;
- it is not, and every write since the one we replaced is listed (the newest id of the
  record we compared against is still there, or fewer than :data:`WINDOW` writes were
  ever made): **not applied**, and the update may run again on the fresh value;
- otherwise (more than :data:`WINDOW` writes since, or the entry was removed and written
  again): **unknown**, and the caller gets IndeterminateOperationError.

The stored form is a msgpack array ``[MAGIC, value, [ids]]`` around the value's codec
bytes (which may be compressed or encrypted: they are not touched). Bytes in the plain
codec form (written before this format, or by a plain ``set``) read as a value with no
ids. Each write id is 8 random bytes; a record costs about 150 bytes more.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Sequence
from dataclasses import dataclass

import msgpack

__all__ = ["WINDOW", "Outcome", "Record", "new_write_id", "read", "resolve", "write"]

#: How many recent write ids a record keeps.
WINDOW = 16
_MAGIC = "hk.w1"


@dataclass(frozen=True, slots=True)
class Record:
    """A stored record: the value's codec bytes (None: absent) and its recent write ids."""

    value: bytes | None
    ids: tuple[bytes, ...] = ()


class Outcome(enum.Enum):
    """What reading back says about a write whose reply was lost."""

    APPLIED = "applied"
    NOT_APPLIED = "not applied"
    UNKNOWN = "unknown"


def new_write_id() -> bytes:
    """A fresh, unguessable write id."""
    return os.urandom(8)


def read(raw: bytes | None) -> Record:
    """The record in ``raw`` (stored bytes; None: no entry)."""
    if raw is None:
        return Record(None)
    if raw[:1] != b"\x93":  # a plain codec value (it starts with its format version)
        return Record(raw)
    try:
        magic, value, ids = msgpack.unpackb(raw, raw=True, use_list=False)
    except Exception:
        return Record(raw)  # not a record after all: the codec will say what it is
    if magic != _MAGIC.encode() or not isinstance(value, bytes):
        return Record(raw)
    return Record(value, tuple(i for i in ids if isinstance(i, bytes)))


def write(value: bytes, previous: Record, write_id: bytes) -> bytes:
    """The stored bytes of ``value`` written over ``previous`` by write ``write_id``."""
    ids: Sequence[bytes] = (*previous.ids, write_id)[-WINDOW:]
    packed: bytes = msgpack.packb([_MAGIC, value, list(ids)], use_bin_type=True)
    return packed


def resolve(write_id: bytes, replaced: Record, current: Record) -> Outcome:
    """Whether write ``write_id``, which compared against ``replaced``, was applied,
    judging by the ``current`` record (see the module)."""
    if write_id in current.ids:
        return Outcome.APPLIED
    if replaced.ids and replaced.ids[-1] in current.ids:
        return Outcome.NOT_APPLIED  # every write since the one we replaced is listed
    if replaced.value is None and current.value is not None and len(current.ids) < WINDOW:
        return Outcome.NOT_APPLIED  # created since, and every write since is listed
    if replaced.value is None and current.value is None:
        return Outcome.NOT_APPLIED  # still absent: our create did not happen
    if replaced.ids == current.ids and replaced.value == current.value:
        return Outcome.NOT_APPLIED  # nothing changed at all
    return Outcome.UNKNOWN
