"""The stored form of a session: its data, its creation time, and the per-key merge rule."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from hazelkit._codec import Codec
from hazelkit._core._exceptions import CapacityError, CorruptDataError

__all__ = ["DELETED", "Changes", "Record", "RecordCodec", "SessionTooLargeError"]

_FORMAT = 2
#: Records of format 1 had no renewal time; they read as renewed when created.
_FORMATS = (1, 2)
#: A read-only request rewrites the record (instead of only renewing the entry's time
#: to live) once this fraction of the idle timeout has passed since the last write.
RENEW_AFTER = 0.5
#: However long the entry lives, a record is dead this many idle timeouts after its
#: last write: the idle timeout still holds if the time to live was lost (see Record).
IDLE_LIMIT = 1 + RENEW_AFTER


class _Deleted:
    """The marker of a key a request deleted."""

    def __repr__(self) -> str:
        return "DELETED"


DELETED: Final = _Deleted()
#: What one request did to a session: key -> new value, or DELETED.
Changes = dict[str, Any]


class SessionTooLargeError(CapacityError):
    """A session's encoded size would exceed the configured ``max_size``.

    Nothing was stored: the session keeps the value it had before the failed change.
    ``size`` and ``limit`` are in bytes. ``concurrent`` is true when this request's
    changes fit on their own but not together with changes that other requests of the
    same session saved meanwhile: then the other requests' changes stay stored and this
    request's are dropped, whole.
    """

    def __init__(self, size: int, limit: int, *, concurrent: bool = False) -> None:
        cause = (
            "this request's changes, merged with those other requests of the session saved "
            "meanwhile, would make the session"
            if concurrent
            else "the session would"
        )
        super().__init__(
            f"{cause} take {size} bytes, over its max_size of {limit} bytes; nothing of "
            "this request's changes was stored; keep large data elsewhere and put a "
            "reference to it in the session"
        )
        self.size = size
        self.limit = limit
        self.concurrent = concurrent


@dataclass(frozen=True, slots=True)
class Record:
    """One session as stored: ``created`` (seconds since the epoch; the absolute
    lifetime counts from it), ``data`` (string keys to codec-encodable values) and
    ``renewed`` (when it was last written, by a change or a renewal).

    The entry's time to live enforces the idle timeout. ``renewed`` enforces it too, a
    little more loosely, in case the time to live was lost (a write resets it, and the
    app process may die before renewing it): a session ends at the latest
    ``IDLE_LIMIT`` idle timeouts after ``renewed``. Reads keep that from cutting a
    used session short by rewriting the record once ``RENEW_AFTER`` idle timeouts have
    passed since ``renewed``.
    """

    created: float
    data: dict[str, Any]
    renewed: float = 0.0

    def merged(self, changes: Mapping[str, Any]) -> Record:
        """This record with ``changes`` applied key by key.

        The merge rule: a key a request set or deleted takes that request's value (the
        last writer wins per key); a key the request did not change keeps the stored
        value, so a request never overwrites what it did not touch.
        """
        data = dict(self.data)
        for key, value in changes.items():
            if value is DELETED:
                data.pop(key, None)
            else:
                data[key] = value
        return Record(self.created, data, self.renewed)

    def time_left(self, *, idle_timeout: float, max_age: float, now: float) -> float:
        """Seconds until this session must end if nothing uses it: the idle timeout, cut
        short by the absolute lifetime and by ``IDLE_LIMIT`` idle timeouts after its last
        write. Zero or less means it has ended."""
        return min(
            idle_timeout,
            self.created + max_age - now,
            self.renewed + idle_timeout * IDLE_LIMIT - now,
        )

    def due_for_renewal(self, *, idle_timeout: float, now: float) -> bool:
        """Whether a request that only reads should rewrite the record (see the class)."""
        return now - self.renewed > idle_timeout * RENEW_AFTER


class RecordCodec:
    """Encodes records with a hazelkit Codec, within a size limit. Thread-safe."""

    def __init__(self, codec: Codec, max_size: int, where: str = "") -> None:
        self.codec = codec
        self.max_size = max_size
        self._where = where.encode()

    def _place(self, session_id: str | None) -> bytes | None:
        """With encryption, a record is bound to its session id (and map): copied under
        another session id it does not decrypt, so nobody can take over a session by
        moving its record, even with write access to the members."""
        if session_id is None or self.codec.encryption is None:
            return None
        return b"session\x00" + self._where + b"\x00" + session_id.encode()

    def encode(self, record: Record, session_id: str | None = None) -> bytes:
        """The stored bytes of ``record`` (bound to ``session_id`` when encrypted).

        Raises SessionTooLargeError over ``max_size``, EncodeError for a value the codec
        cannot encode.
        """
        raw = self.codec.encode(
            {
                "v": _FORMAT,
                "created": record.created,
                "renewed": record.renewed,
                "data": record.data,
            },
            self._place(session_id),
        )
        if len(raw) > self.max_size:
            raise SessionTooLargeError(len(raw), self.max_size)
        return raw

    def decode(self, raw: bytes, session_id: str | None = None) -> Record:
        """The record in ``raw``, stored for ``session_id``. Raises a SerializationError
        subclass if the bytes are corrupt, encrypted with an unknown key, bound to
        another session id, or not a session record."""
        value = self.codec.decode(raw, self._place(session_id))
        if not isinstance(value, dict) or value.get("v") not in _FORMATS:
            raise CorruptDataError("the stored value is not a hazelkit session record")
        created, data = value.get("created"), value.get("data")
        renewed = value.get("renewed", created)
        if (
            not isinstance(created, int | float)
            or not isinstance(renewed, int | float)
            or not isinstance(data, dict)
        ):
            raise CorruptDataError("the stored session record is malformed")
        if not all(isinstance(key, str) for key in data):
            raise CorruptDataError("the stored session record has a non-string key")
        return Record(float(created), data, float(renewed))

    def fingerprint(self, value: Any) -> bytes:
        """Canonical bytes of ``value``: equal exactly when the values are equal with
        the same types throughout (how in-place changes are detected)."""
        return self.codec.encode_key(value)
