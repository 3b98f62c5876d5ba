"""The session store: session records in a cluster map, merged by compare-and-set.

Each session is one map entry under a digest of its id. Its time to live is the idle
timeout, cut short by the absolute lifetime, and is renewed whenever the session is used,
so the cluster itself forgets idle sessions, on every backend, with no sweeper task.

Writes merge per key with a compare-and-set loop on the exact stored bytes (never a
re-encoding, which an encrypting codec would make different every time): read, apply
this request's changes, ``replace_if_same``, and on a lost race read again and retry.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from hazelkit._core import _lowlevel as lowlevel
from hazelkit._core._cas import backoff, local_turn
from hazelkit._core._exceptions import (
    ConflictError,
    IndeterminateOperationError,
    SerializationError,
)
from hazelkit.web._config import SessionConfig
from hazelkit.web._cookies import new_session_id
from hazelkit.web._record import DELETED, Changes, Record, RecordCodec, SessionTooLargeError

if TYPE_CHECKING:
    from hazelkit._backends.protocol import MapStore
    from hazelkit._core._cluster import Cluster

__all__ = ["SessionStore", "StoredSession"]

logger = logging.getLogger("hazelkit.web")


@dataclass(frozen=True, slots=True)
class StoredSession:
    """A session as read from the store: its id, the exact stored bytes, the record."""

    session_id: str
    raw: bytes
    record: Record


class SessionStore:
    """Sessions kept in the cluster map ``config.map_name``, shared by every process.

    Any number of app processes (ASGI or WSGI, on any backend URL pointing at the same
    grid) may use one store at once. Guarantees:

    - A session ends ``idle_timeout`` seconds after its last use (the entry's time to
      live) and at the latest ``max_age`` seconds after it was created (checked on every
      read, and the time to live never reaches past it). A write renews the time to
      live with the write; a request that only reads renews it with one ``set_ttl``
      (:meth:`touch`) after its response, never by rewriting the data.
    - :meth:`save` never loses a concurrent request's change and never overwrites a key
      this request did not change (it merges key by key with what is stored).
    - :meth:`delete` takes effect at once for every process: the next read finds nothing.
    - If the Hazelcast member holding an entry fails, its backup takes over. A write
      resets the entry's time to live, so an app process that dies between a write and
      the renewal of the time to live leaves the entry without one: the next read still
      ends the session after one and a half idle timeouts at most (see Record) or at
      ``max_age``, and removes it; an entry that is never read again stays in the map.
    """

    def __init__(self, cluster: Cluster, config: SessionConfig) -> None:
        self.cluster = cluster
        self.config = config
        self.records = RecordCodec(config.codec or cluster.codec, config.max_size, config.map_name)
        self._store_cache: MapStore | None = None

    @property
    def _map(self) -> MapStore:
        lowlevel.check_open(self.cluster)
        if self._store_cache is None:
            self._store_cache = lowlevel.backend(self.cluster).map(self.config.map_name)
        return self._store_cache

    def _key(self, session_id: str) -> bytes:
        # A digest, so that reading the map reveals no usable session id.
        digest = hashlib.sha256(session_id.encode("ascii")).hexdigest()
        return self.cluster.codec.encode_key(digest)

    def _time_left(self, record: Record) -> float:
        config = self.config
        return record.time_left(
            idle_timeout=config.idle_timeout, max_age=config.max_age, now=self.cluster.clock.time()
        )

    async def load(self, session_id: str) -> StoredSession | None:
        """The live session ``session_id``, or None if it does not exist, has expired
        (idle or absolute; an absolutely expired entry is removed), or cannot be decoded
        (logged; left in place, since another process may hold the right key)."""
        key = self._key(session_id)
        raw = await self._map.get(key)
        if raw is None:
            return None
        try:
            record = self.records.decode(raw, session_id)
        except SerializationError as error:
            logger.warning("ignoring a session record that cannot be read: %s", error)
            return None
        if self._time_left(record) <= 0:
            await self._map.remove_if_same(key, raw)
            return None
        return StoredSession(session_id, raw, record)

    async def create(self, data: dict[str, Any]) -> StoredSession:
        """Store a new session holding ``data`` under a fresh id, and return it.

        Raises SessionTooLargeError or EncodeError (nothing stored) for bad data.
        """
        now = self.cluster.clock.time()
        record = Record(now, data, now)
        self.records.encode(record)  # too large or unencodable: raises before any id
        for _ in range(3):  # 256-bit ids do not collide; the loop only proves it
            session_id = new_session_id()
            raw = self.records.encode(record, session_id)
            key, ttl = self._key(session_id), self._time_left(record)
            try:
                created = await self._map.put_if_absent(key, raw, ttl=ttl) is None
            except IndeterminateOperationError:  # read back: the bytes are ours alone
                created = await self._map.get(key) == raw
            if created:
                return StoredSession(session_id, raw, record)
        raise ConflictError("could not find an unused session id")  # pragma: no cover

    async def save(self, loaded: StoredSession, changes: Changes) -> StoredSession | None:
        """Merge ``changes`` into the stored session by compare-and-set, renew its time
        to live, and return the new state; None if the session was deleted or expired
        meanwhile (the changes are then dropped: a logged-out session is never revived).

        Raises SessionTooLargeError if the merged session is too large (nothing of
        ``changes`` stored; ``concurrent`` tells whether other requests' changes saved
        meanwhile made the difference) and ConflictError after ``max_merge_attempts`` lost races.
        """
        key = self._key(loaded.session_id)
        # Saves of one session through this Cluster take turns, so only other processes'
        # writes can make an attempt lose.
        async with local_turn(self.cluster, self.config.map_name, key):
            return await self._merge(loaded, key, changes)

    async def _merge(
        self, loaded: StoredSession, key: bytes, changes: Changes
    ) -> StoredSession | None:
        raw, record = loaded.raw, loaded.record
        for attempt in range(self.config.max_merge_attempts):
            ttl = self._time_left(record)
            if ttl <= 0:
                await self._map.remove_if_same(key, raw)
                return None
            merged = replace(record.merged(changes), renewed=self.cluster.clock.time())
            new_raw = self._encode_merged(merged, loaded.session_id, concurrent=attempt > 0)
            if await self._replaced(key, raw, new_raw):
                # replace resets the entry to "never expires": give it its TTL back.
                await self._map.set_ttl(key, ttl)
                return StoredSession(loaded.session_id, new_raw, merged)
            current = await self._map.get(key)
            if current is None:
                return None
            raw, record = current, self.records.decode(current, loaded.session_id)
            await backoff(attempt)
        raise ConflictError(
            f"a session save lost {self.config.max_merge_attempts} compare-and-set races "
            "in a row; raise max_merge_attempts if one session takes that many concurrent writes"
        )

    def _encode_merged(self, merged: Record, session_id: str, *, concurrent: bool) -> bytes:
        try:
            return self.records.encode(merged, session_id)
        except SessionTooLargeError as error:
            if not concurrent:
                raise
            raise SessionTooLargeError(error.size, error.limit, concurrent=True) from None

    async def _replaced(self, key: bytes, raw: bytes, new_raw: bytes) -> bool:
        """Compare-and-set ``raw`` to ``new_raw``; a lost reply is resolved by reading back
        (``new_raw`` carries its write time, so it is this save's alone). If another
        write came in between, the caller merges again: per-key writes are idempotent,
        so re-applying this request's changes on top of it is safe."""
        try:
            return await self._map.replace_if_same(key, raw, new_raw)
        except IndeterminateOperationError:
            return await self._map.get(key) == new_raw

    async def regenerate(self, loaded: StoredSession | None, changes: Changes) -> StoredSession:
        """Move the session to a fresh id with ``changes`` applied, and delete the old id
        (session-fixation defence; call on login). The old entry is removed first and
        atomically, so any request still using the old id finds nothing; its absolute
        lifetime starts again. If the old session is already gone, the new one holds
        only ``changes``."""
        base: dict[str, Any] = {}
        if loaded is not None:
            try:
                raw = await self._map.remove(self._key(loaded.session_id))
            except IndeterminateOperationError:  # removed or not: its data is known
                raw = loaded.raw
                await self._map.remove_if_same(self._key(loaded.session_id), raw)
            base = self._live_data(raw, loaded.session_id)
        return await self.create(Record(0.0, base).merged(changes).data)

    def _live_data(self, raw: bytes | None, session_id: str) -> dict[str, Any]:
        if raw is None:
            return {}
        try:
            record = self.records.decode(raw, session_id)
        except SerializationError as error:
            logger.warning("dropping a session record that cannot be read: %s", error)
            return {}
        return record.data if self._time_left(record) > 0 else {}

    async def delete(self, session_id: str) -> None:
        """End the session ``session_id`` at once, for every process (idempotent)."""
        await self._map.delete(self._key(session_id))

    async def touch(self, loaded: StoredSession) -> None:
        """Renew the session's time to live (a no-op if it is gone), rewriting the record
        only if its last write is half an idle timeout old (see Record).

        The renewal never reaches past the absolute lifetime. If another request wrote
        the session meanwhile, that write renewed it and nothing is rewritten.
        """
        key, raw, record = self._key(loaded.session_id), loaded.raw, loaded.record
        now = self.cluster.clock.time()
        if record.due_for_renewal(idle_timeout=self.config.idle_timeout, now=now):
            record = replace(record, renewed=now)
            new_raw = self.records.encode(record, loaded.session_id)
            if not await self._replaced(key, raw, new_raw):
                return  # written or ended meanwhile: renewed by that write, or gone
        ttl = self._time_left(record)
        if ttl > 0:
            await self._map.set_ttl(key, ttl)
        else:
            await self._map.remove_if_same(key, raw)

    async def data(self, session_id: str) -> dict[str, Any] | None:
        """The stored data of session ``session_id`` (None if none): for tools and tests."""
        loaded = await self.load(session_id)
        return None if loaded is None else dict(loaded.record.data)


def written(changes: Changes) -> dict[str, Any]:
    """The keys ``changes`` sets (without its deletions): the data of a new session."""
    return {key: value for key, value in changes.items() if value is not DELETED}
