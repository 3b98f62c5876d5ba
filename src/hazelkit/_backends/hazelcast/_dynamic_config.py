"""Runtime (dynamic) queue and ringbuffer configuration on Hazelcast members.

hazelcast-python-client has no API for a queue's max-size or a ringbuffer's capacity:
both are member-side configs. The client protocol has the messages for them, though,
and Community members accept them at runtime. This module builds those two requests
from the client's own codec building blocks and sends them through the client's
invocation service.

Wire format (client protocol 2.x as spoken by 5.7 members; see ``DynamicConfig.yaml``
in hazelcast/hazelcast-client-protocol, cross-checked against the 5.7.0 member's
``DynamicConfigAdd*ConfigCodec.decodeRequest``). The message type is
``service id 27 (0x1B) << 16 | method id << 8``. Fixed-size parameters go into the
initial frame in definition order; variable-size ones follow in definition order, one
frame or frame group each, and the last one is flagged final.

``DynamicConfig.addQueueConfig`` (method 11, 0x1B0B00)
    initial frame: backupCount int, asyncBackupCount int, maxSize int, emptyQueueTtl int,
    statisticsEnabled bool, mergeBatchSize int;
    then: name String, listenerConfigs List<ListenerConfigHolder> nullable,
    splitBrainProtectionName String nullable, queueStoreConfig QueueStoreConfigHolder
    nullable, mergePolicy String, priorityComparatorClassName String nullable (2.1),
    userCodeNamespace String nullable (2.7).

``DynamicConfig.addRingbufferConfig`` (method 2, 0x1B0200)
    initial frame: capacity int, backupCount int, asyncBackupCount int,
    timeToLiveSeconds int, mergeBatchSize int;
    then: name String, inMemoryFormat String, ringbufferStoreConfig
    RingbufferStoreConfigHolder nullable, splitBrainProtectionName String nullable,
    mergePolicy String, userCodeNamespace String nullable (2.7).

Parameters hazelkit does not expose are sent with Hazelcast's own defaults (statistics
on, no listeners, no store, no split-brain protection, ``PutIfAbsentMergePolicy`` with
batch size 100, no priority comparator, no user code namespace), so a config added
here equals what a member would build from a YAML entry that only sets the exposed
values.

Member behaviour, verified against one ``com.hazelcast:hazelcast:5.7.0`` member:

* A config for a name nobody configured takes effect for the structure created after
  it: ``remaining_capacity()`` of a fresh queue equals ``max_size``, ``offer`` returns
  ``False`` once it is full; a fresh ringbuffer's ``capacity()`` equals ``capacity`` and
  it keeps only the last ``capacity`` items.
* Sending the identical config again is accepted and changes nothing (idempotent), for
  exact names and for patterns alike.
* A different config for a name that already has one (any differing field, not only
  the size) is rejected by the member with ``InvalidConfigurationException`` "Cannot
  add a dynamic configuration '...' as there is already a conflicting configuration
  '...'", or, when the name is in the members' static (YAML/XML) config, "Cannot add a
  new dynamic configuration ... as static configuration already contains ...". Both
  are raised here as :class:`~hazelkit._core._exceptions.ConfigurationError` naming the
  structure, the requested and the existing value (parsed from the member's message).
  The existing config stays in force. Dynamic configs cannot be changed or removed.
* Existing structures are NOT reconfigured. What counts is the member-side container,
  not the client proxy: a proxy obtained with ``get_queue``/``get_ringbuffer`` before
  the config but not yet used picks the config up. Once any operation has touched the
  structure (even a read such as ``size()``, ``remaining_capacity()`` or
  ``capacity()``), it keeps the config it was created with (typically the ``default``
  one) - still so after it is emptied, and for other clients too - until it is
  destroyed; after ``destroy()`` the next use gets the new config. The Python
  ``Ringbuffer`` proxy additionally caches ``capacity()`` client-side. So configure a
  name before anything uses it.
* Wildcard names work: a config for ``"jobs-*"`` applies to ``jobs-a`` and friends,
  and an exact name configured dynamically wins over a dynamic pattern.
* The static ``default`` entries do not interfere: a dynamic config for a name wins
  over the members' ``default`` (statically configured or built in). A dynamic config
  named ``default`` itself conflicts with the static default unless identical.
* Trap: a static (YAML/XML) *wildcard* entry wins over a dynamic config for an exact
  name it matches. The member accepts such a dynamic config without complaint, but it
  never takes effect (seen: static queue ``swild-*`` max-size 11, dynamic ``swild-x``
  max_size 12 accepted, queue ``swild-x`` has capacity 11; the same for ringbuffers).
  This cannot be detected from the client before use.
* Values the member rejects (negative ``max_size``, ``capacity`` 0, ``backup_count``
  over 6, an unknown or ``NATIVE`` in-memory format) come back as
  ``hazelcast.errors.IllegalArgumentError`` and propagate unchanged, as does any
  other failure. ``max_size=0`` is accepted and means unbounded
  (``remaining_capacity()`` is 2**31-1).

Not verified here: multi-member clusters (Hazelcast documents that the config is
broadcast to all members before the call returns and handed to members joining
later), and survival of a full cluster restart (dynamic configs are kept in memory
unless the members enable dynamic-configuration persistence).
The request is sent as non-retryable, as the protocol definition says; since it is
idempotent, a caller may safely resend it after a connection failure.
"""

from __future__ import annotations

import re
from typing import Any

import hazelcast.internal.asyncio_invocation as _hz_invocation
import hazelcast.protocol.builtin as _hz_builtin
import hazelcast.protocol.client_message as _hz_client_message
from hazelcast.asyncio import HazelcastClient
from hazelcast.errors import InvalidConfigurationError
from hazelcast.protocol.client_message import REQUEST_HEADER_SIZE
from hazelcast.serialization.bits import BOOLEAN_SIZE_IN_BYTES, INT_SIZE_IN_BYTES

from hazelkit._core._exceptions import ConfigurationError

__all__ = ["add_queue_config", "add_ringbuffer_config"]

# The client's codec helpers and Invocation carry no annotations; use them through Any.
CodecUtil: Any = _hz_builtin.CodecUtil
FixSizedTypesCodec: Any = _hz_builtin.FixSizedTypesCodec
ListMultiFrameCodec: Any = _hz_builtin.ListMultiFrameCodec
StringCodec: Any = _hz_builtin.StringCodec
OutboundMessage: Any = _hz_client_message.OutboundMessage
create_initial_buffer: Any = _hz_client_message.create_initial_buffer
Invocation: Any = _hz_invocation.Invocation

# (service id 27 = DynamicConfig) << 16 | (method id) << 8
_ADD_RINGBUFFER_CONFIG_REQUEST = 0x1B0200
_ADD_QUEUE_CONFIG_REQUEST = 0x1B0B00

# MergePolicyConfig.DEFAULT_MERGE_POLICY / DEFAULT_BATCH_SIZE of the member.
_DEFAULT_MERGE_POLICY = "com.hazelcast.spi.merge.PutIfAbsentMergePolicy"
_DEFAULT_MERGE_BATCH_SIZE = 100

# Initial-frame offsets of addQueueConfig's fixed-size parameters.
_Q_BACKUP_COUNT = REQUEST_HEADER_SIZE
_Q_ASYNC_BACKUP_COUNT = _Q_BACKUP_COUNT + INT_SIZE_IN_BYTES
_Q_MAX_SIZE = _Q_ASYNC_BACKUP_COUNT + INT_SIZE_IN_BYTES
_Q_EMPTY_QUEUE_TTL = _Q_MAX_SIZE + INT_SIZE_IN_BYTES
_Q_STATISTICS_ENABLED = _Q_EMPTY_QUEUE_TTL + INT_SIZE_IN_BYTES
_Q_MERGE_BATCH_SIZE = _Q_STATISTICS_ENABLED + BOOLEAN_SIZE_IN_BYTES
_Q_INITIAL_FRAME_SIZE = _Q_MERGE_BATCH_SIZE + INT_SIZE_IN_BYTES

# Initial-frame offsets of addRingbufferConfig's fixed-size parameters.
_RB_CAPACITY = REQUEST_HEADER_SIZE
_RB_BACKUP_COUNT = _RB_CAPACITY + INT_SIZE_IN_BYTES
_RB_ASYNC_BACKUP_COUNT = _RB_BACKUP_COUNT + INT_SIZE_IN_BYTES
_RB_TIME_TO_LIVE_SECONDS = _RB_ASYNC_BACKUP_COUNT + INT_SIZE_IN_BYTES
_RB_MERGE_BATCH_SIZE = _RB_TIME_TO_LIVE_SECONDS + INT_SIZE_IN_BYTES
_RB_INITIAL_FRAME_SIZE = _RB_MERGE_BATCH_SIZE + INT_SIZE_IN_BYTES

# The member's two wordings of a conflict (ClusterWideConfigurationService and
# DynamicConfigurationAwareConfig.checkStaticConfigDoesNotExist), on one line.
_CONFLICT = re.compile(
    r"Cannot add a (?:new )?dynamic configuration (?P<requested>.*?) as "
    r"(?:there is already a conflicting configuration|"
    r"(?P<static>static configuration already contains)) (?P<existing>.*)"
)

# (Java field in the config's toString, hazelkit parameter name), main one first.
_QUEUE_FIELDS = (
    ("maxSize", "max_size"),
    ("backupCount", "backup_count"),
    ("asyncBackupCount", "async_backup_count"),
    ("emptyQueueTtl", "empty_queue_ttl"),
)
_RINGBUFFER_FIELDS = (
    ("capacity", "capacity"),
    ("backupCount", "backup_count"),
    ("asyncBackupCount", "async_backup_count"),
    ("timeToLiveSeconds", "time_to_live_seconds"),
    ("inMemoryFormat", "in_memory_format"),
)


def _encode_add_queue_config(
    name: str,
    max_size: int,
    backup_count: int,
    async_backup_count: int,
    empty_queue_ttl: int,
) -> Any:
    buf = create_initial_buffer(_Q_INITIAL_FRAME_SIZE, _ADD_QUEUE_CONFIG_REQUEST)
    FixSizedTypesCodec.encode_int(buf, _Q_BACKUP_COUNT, backup_count)
    FixSizedTypesCodec.encode_int(buf, _Q_ASYNC_BACKUP_COUNT, async_backup_count)
    FixSizedTypesCodec.encode_int(buf, _Q_MAX_SIZE, max_size)
    FixSizedTypesCodec.encode_int(buf, _Q_EMPTY_QUEUE_TTL, empty_queue_ttl)
    FixSizedTypesCodec.encode_boolean(buf, _Q_STATISTICS_ENABLED, True)
    FixSizedTypesCodec.encode_int(buf, _Q_MERGE_BATCH_SIZE, _DEFAULT_MERGE_BATCH_SIZE)
    StringCodec.encode(buf, name)
    ListMultiFrameCodec.encode_nullable(buf, None, None)  # listenerConfigs
    CodecUtil.encode_nullable(buf, None, StringCodec.encode)  # splitBrainProtectionName
    CodecUtil.encode_nullable(buf, None, None)  # queueStoreConfig
    StringCodec.encode(buf, _DEFAULT_MERGE_POLICY)  # mergePolicy
    CodecUtil.encode_nullable(buf, None, StringCodec.encode)  # priorityComparatorClassName
    CodecUtil.encode_nullable(buf, None, StringCodec.encode, True)  # userCodeNamespace
    return OutboundMessage(buf, False)


def _encode_add_ringbuffer_config(
    name: str,
    capacity: int,
    backup_count: int,
    async_backup_count: int,
    time_to_live_seconds: int,
    in_memory_format: str,
) -> Any:
    buf = create_initial_buffer(_RB_INITIAL_FRAME_SIZE, _ADD_RINGBUFFER_CONFIG_REQUEST)
    FixSizedTypesCodec.encode_int(buf, _RB_CAPACITY, capacity)
    FixSizedTypesCodec.encode_int(buf, _RB_BACKUP_COUNT, backup_count)
    FixSizedTypesCodec.encode_int(buf, _RB_ASYNC_BACKUP_COUNT, async_backup_count)
    FixSizedTypesCodec.encode_int(buf, _RB_TIME_TO_LIVE_SECONDS, time_to_live_seconds)
    FixSizedTypesCodec.encode_int(buf, _RB_MERGE_BATCH_SIZE, _DEFAULT_MERGE_BATCH_SIZE)
    StringCodec.encode(buf, name)
    StringCodec.encode(buf, in_memory_format)
    CodecUtil.encode_nullable(buf, None, None)  # ringbufferStoreConfig
    CodecUtil.encode_nullable(buf, None, StringCodec.encode)  # splitBrainProtectionName
    StringCodec.encode(buf, _DEFAULT_MERGE_POLICY)  # mergePolicy
    CodecUtil.encode_nullable(buf, None, StringCodec.encode, True)  # userCodeNamespace
    return OutboundMessage(buf, False)


async def _invoke(client: HazelcastClient, request: Any) -> None:
    invocation = Invocation(request, response_handler=lambda message: message)
    await client._invocation_service.ainvoke(invocation)


def _field(config_text: str, name: str, java_field: str) -> str | None:
    """Read one simple ``field=value`` of a member config's ``toString()``."""
    # Skip the name, which may itself contain anything.
    head, sep, rest = config_text.partition(f"name='{name}'")
    match = re.search(rf"\b{java_field}=([^,{{}}]*)", rest if sep else head)
    return match.group(1).strip() if match else None


def _conflict_error(
    error: InvalidConfigurationError,
    kind: str,
    name: str,
    fields: tuple[tuple[str, str], ...],
    requested: dict[str, object],
) -> ConfigurationError | None:
    """A ConfigurationError for a member's "conflicting configuration" error, else None."""
    match = None
    for line in str(error).splitlines():
        match = _CONFLICT.search(line)
        if match:
            break
    if match is None:
        return None
    existing_text = match.group("existing")
    where = "static (member config file)" if match.group("static") else "dynamic"
    main_java, main_param = fields[0]
    existing_main = _field(existing_text, name, main_java)
    message = (
        f"{kind} {name!r} already has a different {where} configuration on the cluster: "
        f"requested {main_param}={requested[main_param]}, "
        f"existing {main_param}={existing_main if existing_main is not None else 'unknown'}"
    )
    others = []
    for java_field, param in fields[1:]:
        existing = _field(existing_text, name, java_field)
        if existing is not None and existing != str(requested[param]):
            others.append(f"{param} requested {requested[param]}, existing {existing}")
    if others:
        message += "; also differs: " + "; ".join(others)
    return ConfigurationError(message)


async def add_queue_config(
    client: HazelcastClient,
    name: str,
    *,
    max_size: int,
    backup_count: int = 1,
    async_backup_count: int = 0,
    empty_queue_ttl: int = -1,
) -> None:
    """Add a queue config for ``name`` (exact name or ``*`` pattern) to the cluster.

    It applies to queues the members create after this call; a queue any operation has
    already touched keeps its old config until destroyed (see the module docstring).
    Sending the identical config again is a no-op. ``max_size=0`` means unbounded;
    ``empty_queue_ttl`` is in seconds, -1 meaning never auto-destroy an empty queue.

    Raises:
        ConfigurationError: the cluster already has a different config for ``name``
            (added dynamically before, or in the members' static config); the message
            names the queue and the requested and existing values.
        hazelcast.errors.HazelcastError: any other failure, unchanged (e.g.
            ``IllegalArgumentError`` for a negative ``max_size`` or more than 6 backups).
    """
    request = _encode_add_queue_config(
        name, max_size, backup_count, async_backup_count, empty_queue_ttl
    )
    try:
        await _invoke(client, request)
    except InvalidConfigurationError as e:
        requested: dict[str, object] = {
            "max_size": max_size,
            "backup_count": backup_count,
            "async_backup_count": async_backup_count,
            "empty_queue_ttl": empty_queue_ttl,
        }
        error = _conflict_error(e, "queue", name, _QUEUE_FIELDS, requested)
        if error is None:
            raise
        raise error from e


async def add_ringbuffer_config(
    client: HazelcastClient,
    name: str,
    *,
    capacity: int,
    backup_count: int = 1,
    async_backup_count: int = 0,
    time_to_live_seconds: int = 0,
    in_memory_format: str = "BINARY",
) -> None:
    """Add a ringbuffer config for ``name`` (exact name or ``*`` pattern) to the cluster.

    It applies to ringbuffers the members create after this call; one any operation has
    already touched keeps its old config until destroyed (see the module docstring).
    Sending the identical config again is a no-op. ``time_to_live_seconds=0`` means
    items never expire; ``in_memory_format`` is ``"BINARY"`` or ``"OBJECT"``.

    Raises:
        ConfigurationError: the cluster already has a different config for ``name``
            (added dynamically before, or in the members' static config); the message
            names the ringbuffer and the requested and existing values.
        hazelcast.errors.HazelcastError: any other failure, unchanged (e.g.
            ``IllegalArgumentError`` for ``capacity`` < 1 or an unknown/``NATIVE``
            in-memory format).
    """
    request = _encode_add_ringbuffer_config(
        name, capacity, backup_count, async_backup_count, time_to_live_seconds, in_memory_format
    )
    try:
        await _invoke(client, request)
    except InvalidConfigurationError as e:
        requested: dict[str, object] = {
            "capacity": capacity,
            "backup_count": backup_count,
            "async_backup_count": async_backup_count,
            "time_to_live_seconds": time_to_live_seconds,
            "in_memory_format": in_memory_format,
        }
        error = _conflict_error(e, "ringbuffer", name, _RINGBUFFER_FIELDS, requested)
        if error is None:
            raise
        raise error from e
