"""The durable record of one entity: its state and everything needed to resume it.

One entry per entity in its family's map (``hazelkit.workflows``, ...), keyed by id,
written only by the partition's owner (and created by ``start`` with put-if-absent), by
compare-and-set against the exact bytes read. It carries the entity's state together with
the inbox sequence it applied last (``gen``/``applied``), the keys of its last messages
(to apply a retried send once), its timers, its outbox (messages to deliver after this
commit), messages held while it is paused, a bounded history, and the lease epoch of the
commit (a newer epoch than the committer's own means it is a stale owner).
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass, field, fields
from typing import Any

__all__ = ["KEY_WINDOW", "EntityRecord", "Held", "Outgoing", "Status", "key_digest"]

#: How many recent message keys a record remembers (a send retried with the same key
#: within that many later messages of the entity is applied once). Keys are kept as
#: short digests (6 bytes of BLAKE2b), stored as one byte string: the window costs
#: 384 bytes of every record (every commit writes it, and compares the old bytes).
KEY_WINDOW = 64
_DIGEST = 6


class Status(enum.StrEnum):
    """Where an entity is in its life."""

    STARTING = "starting"  #: created by start(); its initial state is not computed yet
    RUNNING = "running"
    PAUSED = "paused"  #: a message failed too often: it and those after it are held
    COMPLETED = "completed"
    FAILED = "failed"
    TERMINATED = "terminated"


@dataclass(frozen=True, slots=True)
class Held:
    """A message kept in the record while the entity is paused."""

    sequence: int
    key: str
    kind: str
    payload: bytes


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message or publication to deliver after the commit that stored it."""

    kind: str  #: "send" (to an entity) or "publish" (to a reliable topic)
    target: str
    key: str
    payload: bytes
    number: int  #: increasing per entity: a reliable topic drops repeats by it


@dataclass(frozen=True)
class EntityRecord:
    id: str
    type: str
    version: int
    status: Status
    state: Any = None
    args: Any = None
    result: Any = None
    error: str | None = None
    gen: str = ""
    applied: int = -1
    count: int = 0
    keys: tuple[bytes, ...] = ()
    timers: dict[str, float] = field(default_factory=dict)
    outbox: tuple[Outgoing, ...] = ()
    held: tuple[Held, ...] = ()
    #: The last transitions, oldest first, each ``[at, sequence, what, status]`` (lists,
    #: as they are stored: a commit writes them without converting each one).
    history: tuple[list[Any], ...] = ()
    epoch: int = 0
    owner: str | None = None
    created: float = 0.0
    updated: float = 0.0
    waiting_for_version: int | None = None
    next_number: int = 0
    #: Reliable topics it subscribes to: the next sequence to apply (-1: from the tail
    #: when first read, -2: from the head).
    topics: dict[str, int] = field(default_factory=dict)
    #: Per topic, the highest message number applied per publisher (repeats of a
    #: retried publish are dropped), for the most recent publishers.
    publishers: dict[str, dict[str, int]] = field(default_factory=dict)
    #: For kinds that record them (agents), the states after each earlier message of
    #: the group this commit wrote, oldest first (empty when it wrote one message): what
    #: a watcher replays to see every change.
    steps: tuple[Any, ...] = ()

    def to_wire(self) -> dict[str, Any]:
        return {
            "v": 1,
            "id": self.id,
            "type": self.type,
            "version": self.version,
            "status": self.status.value,
            "state": self.state,
            "args": self.args,
            "result": self.result,
            "error": self.error,
            "gen": self.gen,
            "applied": self.applied,
            "count": self.count,
            "keys": b"".join(self.keys),
            "timers": self.timers,
            "outbox": [[o.kind, o.target, o.key, o.payload, o.number] for o in self.outbox],
            "held": [[h.sequence, h.key, h.kind, h.payload] for h in self.held],
            "history": list(self.history),
            "epoch": self.epoch,
            "owner": self.owner,
            "created": self.created,
            "updated": self.updated,
            "waiting": self.waiting_for_version,
            "number": self.next_number,
            "topics": self.topics,
            "pubs": self.publishers,
            **({"steps": list(self.steps)} if self.steps else {}),
        }

    @classmethod
    def from_wire(cls, value: Any) -> EntityRecord:
        if not isinstance(value, dict) or value.get("v") != 1:
            raise ValueError("not an entity record")
        return cls(
            id=value["id"],
            type=value["type"],
            version=int(value["version"]),
            status=Status(value["status"]),
            state=value.get("state"),
            args=value.get("args"),
            result=value.get("result"),
            error=value.get("error"),
            gen=value.get("gen", ""),
            applied=int(value.get("applied", -1)),
            count=int(value.get("count", 0)),
            keys=_keys_from_wire(value.get("keys", b"")),
            timers={str(k): float(v) for k, v in value.get("timers", {}).items()},
            outbox=tuple(Outgoing(*o) for o in value.get("outbox", ())),
            held=tuple(Held(*h) for h in value.get("held", ())),
            history=tuple(list(entry) for entry in value.get("history", ())),
            epoch=int(value.get("epoch", 0)),
            owner=value.get("owner"),
            created=float(value.get("created", 0.0)),
            updated=float(value.get("updated", 0.0)),
            waiting_for_version=value.get("waiting"),
            next_number=int(value.get("number", 0)),
            topics={str(k): int(v) for k, v in value.get("topics", {}).items()},
            publishers={
                str(t): {str(p): int(n) for p, n in seen.items()}
                for t, seen in value.get("pubs", {}).items()
            },
            steps=tuple(value.get("steps", ())),
        )

    def applied_in(self, gen: str) -> int:
        """The last inbox sequence applied in inbox generation ``gen`` (-1 if none)."""
        return self.applied if self.gen == gen else -1

    def seen_key(self, key: str) -> bool:
        return key_digest(key) in self.keys

    def with_key(self, key: str) -> tuple[bytes, ...]:
        return (*self.keys, key_digest(key))[-KEY_WINDOW:]

    def but(self, **changes: Any) -> EntityRecord:
        """This record with ``changes`` (a faster ``dataclasses.replace``: records are
        copied several times per message, so the copy is one dict update, 0.9 us here
        against 2.4 us field by field). KeyError for a name that is not a field."""
        if not _NAMES.issuperset(changes):
            raise KeyError(f"not fields of a record: {sorted(set(changes) - _NAMES)}")
        new = object.__new__(EntityRecord)
        values = new.__dict__  # past the frozen __setattr__, as dataclasses.replace is
        values.update(self.__dict__)
        values.update(changes)
        return new

    def noted(self, now: float, sequence: int, what: str, limit: int) -> EntityRecord:
        """This record with one more history entry (the last ``limit`` are kept)."""
        if limit <= 0:
            return self
        entry = [now, sequence, what, self.status.value]
        return self.but(history=(*self.history, entry)[-limit:])

    @property
    def finished(self) -> bool:
        return self.status in (Status.COMPLETED, Status.FAILED, Status.TERMINATED)


_NAMES = frozenset(f.name for f in fields(EntityRecord))


def key_digest(key: str) -> bytes:
    """The short digest of a message key that a record remembers."""
    return hashlib.blake2b(key.encode(), digest_size=_DIGEST).digest()


def _keys_from_wire(value: Any) -> tuple[bytes, ...]:
    """The key digests of a stored record: one byte string of 6-byte digests, or (as
    records were first written) a list of their hex forms."""
    if isinstance(value, bytes):
        return tuple(value[i : i + _DIGEST] for i in range(0, len(value), _DIGEST))
    return tuple(bytes.fromhex(digest) for digest in value)
