"""hazelkit: clustered services on Hazelcast, embedded or on a real cluster.

    async with hazelkit.connect("memory://app") as cluster:   # or hazelcast://host:5701
        users = cluster.map("users")

See :func:`connect`, :class:`Cluster` and, for code that does not await,
:func:`connect_blocking`.
"""

from hazelkit._agents._actions import action, register_action
from hazelkit._agents._agent import Agent, AgentHosting, Agents
from hazelkit._caching._cache import Cache, CacheStatistics
from hazelkit._caching._memoize import Memoized
from hazelkit._codec import Codec, Encryption
from hazelkit._coordination._latch import CountDownLatch
from hazelkit._coordination._lock import Lock, LockStatistics
from hazelkit._coordination._semaphore import Permit, PermitInfo, Semaphore, SemaphoreStatistics
from hazelkit._core._buffer import BufferStatistics, Overflow
from hazelkit._core._cluster import (
    Cluster,
    ClusterState,
    LifecycleEvent,
    Member,
    MembershipEvent,
    connect,
)
from hazelkit._core._events import EntryEvent, EntryEventType, EventStream, ItemEvent, ItemEventType
from hazelkit._core._exceptions import (
    ArgumentError,
    BackendError,
    CapacityError,
    ClusterClosedError,
    ClusterError,
    ClusterUnavailableError,
    ComponentError,
    ComponentStopError,
    ConfigurationError,
    ConflictError,
    CorruptDataError,
    DecryptionError,
    EncodeError,
    EntityError,
    EntityFailedError,
    ForkedClusterError,
    HazelkitError,
    IndeterminateOperationError,
    IndexOutOfRangeError,
    InvalidArgumentError,
    ItemNotFoundError,
    KeyNotFoundError,
    LeaseExpiredError,
    LockError,
    MessageLossError,
    NoSuchEntityError,
    NotFoundError,
    NotLockOwnerError,
    OperationTimeoutError,
    QueueEmpty,
    QueueFull,
    SerializationError,
    UndecodableError,
    UnknownTypeError,
    UnsupportedVersionError,
    ValidationError,
    WrongEventLoopError,
)
from hazelkit._core._public import publish
from hazelkit._core._sink import Sink, pipe
from hazelkit._core._subscription import Subscription
from hazelkit._core._url import TLSOptions
from hazelkit._runtime._singleton import Singleton, SingletonStatus
from hazelkit._streams._reliable_reader import MessageLoss, ReliableMessage, ReliableSubscription
from hazelkit._streams._reliable_topic import FullPolicy, ReliableTopic
from hazelkit._streams._topic import Message, Topic
from hazelkit._structures._atom import Atom
from hazelkit._structures._counter import Counter, IdGenerator
from hazelkit._structures._list import List
from hazelkit._structures._map import Map
from hazelkit._structures._multimap import MultiMap
from hazelkit._structures._queue import Queue
from hazelkit._structures._set import Set
from hazelkit.blocking import BlockingCluster, BlockingMap, connect_blocking

__version__ = "0.1.0"

__all__ = [
    "Agent",
    "AgentHosting",
    "Agents",
    "ArgumentError",
    "Atom",
    "BackendError",
    "BlockingCluster",
    "BlockingMap",
    "BufferStatistics",
    "Cache",
    "CacheStatistics",
    "CapacityError",
    "Cluster",
    "ClusterClosedError",
    "ClusterError",
    "ClusterState",
    "ClusterUnavailableError",
    "Codec",
    "ComponentError",
    "ComponentStopError",
    "ConfigurationError",
    "ConflictError",
    "CorruptDataError",
    "CountDownLatch",
    "Counter",
    "DecryptionError",
    "EncodeError",
    "Encryption",
    "EntityError",
    "EntityFailedError",
    "EntryEvent",
    "EntryEventType",
    "EventStream",
    "ForkedClusterError",
    "FullPolicy",
    "HazelkitError",
    "IdGenerator",
    "IndeterminateOperationError",
    "IndexOutOfRangeError",
    "InvalidArgumentError",
    "ItemEvent",
    "ItemEventType",
    "ItemNotFoundError",
    "KeyNotFoundError",
    "LeaseExpiredError",
    "LifecycleEvent",
    "List",
    "Lock",
    "LockError",
    "LockStatistics",
    "Map",
    "Member",
    "MembershipEvent",
    "Memoized",
    "Message",
    "MessageLoss",
    "MessageLossError",
    "MultiMap",
    "NoSuchEntityError",
    "NotFoundError",
    "NotLockOwnerError",
    "OperationTimeoutError",
    "Overflow",
    "Permit",
    "PermitInfo",
    "Queue",
    "QueueEmpty",
    "QueueFull",
    "ReliableMessage",
    "ReliableSubscription",
    "ReliableTopic",
    "Semaphore",
    "SemaphoreStatistics",
    "SerializationError",
    "Set",
    "Singleton",
    "SingletonStatus",
    "Sink",
    "Subscription",
    "TLSOptions",
    "Topic",
    "UndecodableError",
    "UnknownTypeError",
    "UnsupportedVersionError",
    "ValidationError",
    "WrongEventLoopError",
    "__version__",
    "action",
    "connect",
    "connect_blocking",
    "pipe",
    "register_action",
]

publish(__name__, globals(), __all__)
del publish
