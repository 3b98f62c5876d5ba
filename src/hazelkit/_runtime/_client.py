"""Talking to entities from any node or client: create, send, control, read.

Every Cluster can do this, hosting or not. ``start`` creates the record with
put-if-absent (so two starts of one id agree on its type at once) and sends the start
message; every other change goes through the entity's inbox, so that only its owner ever
writes it. Sends return once the message is stored in the inbox.
"""

from __future__ import annotations

import itertools
import secrets
from collections import OrderedDict
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from hazelkit._core._exceptions import (
    ConfigurationError,
    IndeterminateOperationError,
    NoSuchEntityError,
    SerializationError,
)
from hazelkit._core._handle import check_name, place_of
from hazelkit._observe import _tracing as tracing
from hazelkit._runtime._inbox import Inbox, InboxMessage
from hazelkit._runtime._record import EntityRecord, Status
from hazelkit._runtime._space import Space, SpaceShape

if TYPE_CHECKING:
    from hazelkit._core._cluster import Cluster

__all__ = ["EntityClient"]

#: How many entity ids a client remembers the type of (one read saved per send).
TYPE_CACHE = 65_536


class EntityClient:
    """The entities of one family (workflows, agents) as any Cluster sees them."""

    def __init__(self, cluster: Cluster, family: str, records_map: str) -> None:
        self._cluster = cluster
        self.family = family
        self.records_map = records_map
        self._spaces: dict[str, Space] = {}
        # entity id -> type (fixed once created) and, once something was sent to it, its
        # inbox (fixed by the type's space shape), for the most recently used ids: a send
        # to a known id reads nothing and hashes nothing
        self._types: OrderedDict[str, tuple[str, Inbox | None]] = OrderedDict()
        self.place = place_of(cluster, "entity message", records_map)
        # Message keys: unique per client (a random prefix, then a count), cheaper than
        # a uuid4 per send (a system call for 16 random bytes).
        self._key_prefix = secrets.token_hex(8) + "-"
        self._key_count = itertools.count()

    def space_name(self, type_name: str) -> str:
        return f"{self.family}:{type_name}"

    def space(self, type_name: str) -> Space:
        name = self.space_name(type_name)
        space = self._spaces.get(name)
        if space is None:
            space = self._spaces[name] = Space(self._cluster, name, self.records_map)
        return space

    async def fix_shape(self, type_name: str, shape: SpaceShape | None) -> Space:
        space = self.space(type_name)
        await space.fix_shape(shape)
        return space

    @property
    def _records(self) -> Any:
        from hazelkit._core import _lowlevel as lowlevel

        return lowlevel.backend(self._cluster).map(self.records_map)

    def _key(self, entity_id: str) -> bytes:
        return self._cluster.codec.encode_key(entity_id)

    # -- reading --------------------------------------------------------------------------

    async def read(self, entity_id: str) -> EntityRecord | None:
        """The entity's record as last committed (None if there is none)."""
        raw = await self._records.get(self._key(check_name(entity_id, "entity id")))
        return None if raw is None else self.decode(raw)

    def decode(self, raw: bytes) -> EntityRecord:
        try:
            return EntityRecord.from_wire(self._cluster.codec.decode(raw))
        except (KeyError, TypeError, ValueError) as error:
            raise SerializationError(f"not an entity record: {error}") from None

    async def records(self) -> AsyncIterator[EntityRecord]:
        """Every record of the family (a snapshot taken now; ones that cannot be read
        here are skipped)."""
        for _, raw in await self._records.items():
            try:
                yield self.decode(raw)
            except SerializationError:
                continue

    async def type_of(self, entity_id: str) -> str:
        known = self._types.get(entity_id)
        if known is not None:
            self._types.move_to_end(entity_id)
            return known[0]
        record = await self.read(entity_id)
        if record is None:
            raise NoSuchEntityError(f"no {self.family} {entity_id!r}: start it first")
        self._remember(entity_id, record.type)
        return record.type

    def _remember(self, entity_id: str, type_name: str, inbox: Inbox | None = None) -> None:
        self._types[entity_id] = (type_name, inbox)
        self._types.move_to_end(entity_id)
        if len(self._types) > TYPE_CACHE:
            self._types.popitem(last=False)

    async def _inbox_of(self, entity_id: str) -> Inbox:
        known = self._types.get(entity_id)
        if known is not None and known[1] is not None:
            self._types.move_to_end(entity_id)
            return known[1]
        type_name = await self.type_of(entity_id)
        inbox = await self.space(type_name).inbox_for(entity_id)
        self._remember(entity_id, type_name, inbox)
        return inbox

    # -- changing -------------------------------------------------------------------------

    async def create(self, type_name: str, entity_id: str, args: Any) -> bool:
        """Create the record (status starting) and send the start message; False if the
        entity exists already with this type (then only the start message is sent
        again, in case an earlier start stopped between the two). ConfigurationError if
        it exists with another type."""
        check_name(entity_id, f"{self.family} id")
        record = EntityRecord(
            id=entity_id,
            type=type_name,
            version=0,
            status=Status.STARTING,
            args=args,
            created=self._cluster.clock.time(),
        )
        raw = self._cluster.codec.encode(record.to_wire())
        key = self._key(entity_id)
        try:
            existing = await self._records.put_if_absent(key, raw)
        except IndeterminateOperationError:
            existing = await self._records.get(key)
            existing = None if existing == raw else existing
        created = existing is None
        if not created:
            current = self.decode(existing)
            if current.type != type_name:
                raise ConfigurationError(
                    f"{self.family} {entity_id!r} exists already as {current.type!r},"
                    f" not {type_name!r}"
                )
            if current.status is not Status.STARTING:
                return False
        self._remember(entity_id, type_name)
        await self.deliver(entity_id, f"start:{entity_id}", "start", b"", timeout=30.0)
        return created

    async def send(
        self, entity_id: str, value: Any, *, key: str | None, timeout: float, kind: str = "msg"
    ) -> int:
        """Store ``value`` in the entity's inbox; its inbox sequence."""
        payload = self._cluster.codec.encode(value, self.place)
        key = key or f"{self._key_prefix}{next(self._key_count):x}"
        return await self.deliver(entity_id, key, kind, payload, timeout)

    async def deliver(
        self, entity_id: str, key: str, kind: str, payload: bytes, timeout: float
    ) -> int:
        """Store an already encoded message in the entity's inbox."""
        inbox = await self._inbox_of(entity_id)
        message = InboxMessage(entity_id, key, kind, payload, tracing.outgoing())
        return await inbox.send(message, timeout)
