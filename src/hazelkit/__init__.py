"""hazelkit: clustered services on Hazelcast, embedded or on a real cluster.

    async with hazelkit.connect("memory://app") as cluster:   # or hazelcast://host:5701
        users = cluster.map("users")

See :func:`connect`, :class:`Cluster` and, for code that does not await,
:func:`connect_blocking`.
"""

from hazelkit._atom import Atom
from hazelkit._buffer import BufferStatistics, Overflow
from hazelkit._cache import Cache, CacheStatistics
from hazelkit._cluster import (
    Cluster,
    ClusterState,
    LifecycleEvent,
    Member,
    MembershipEvent,
    connect,
)
from hazelkit._codec import Codec, Encryption
from hazelkit._counter import Counter, IdGenerator
from hazelkit._events import EntryEvent, EntryEventType, EventStream, ItemEvent, ItemEventType
from hazelkit._exceptions import (
    ArgumentError,
    BackendError,
    CapacityError,
    ClusterClosedError,
    ClusterError,
    ClusterUnavailableError,
    ConfigurationError,
    ConflictError,
    CorruptDataError,
    DecryptionError,
    EncodeError,
    HazelkitError,
    LeaseExpiredError,
    LockError,
    MessageLossError,
    NotLockOwnerError,
    OperationTimeoutError,
    QueueEmpty,
    QueueFull,
    SerializationError,
    UndecodableError,
    UnknownTypeError,
    UnsupportedVersionError,
    ValidationError,
)
from hazelkit._latch import CountDownLatch
from hazelkit._list import List
from hazelkit._lock import Lock, LockStatistics
from hazelkit._map import Map
from hazelkit._memoize import Memoized
from hazelkit._multimap import MultiMap
from hazelkit._queue import Queue
from hazelkit._reliable_reader import MessageLoss, ReliableMessage, ReliableSubscription
from hazelkit._reliable_topic import FullPolicy, ReliableTopic
from hazelkit._semaphore import Permit, PermitInfo, Semaphore, SemaphoreStatistics
from hazelkit._set import Set
from hazelkit._sink import Sink, pipe
from hazelkit._subscription import Subscription
from hazelkit._topic import Message, Topic
from hazelkit._url import TLSOptions
from hazelkit.blocking import BlockingCluster, BlockingMap, connect_blocking

__version__ = "0.1.0"

__all__ = [
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
    "ConfigurationError",
    "ConflictError",
    "CorruptDataError",
    "CountDownLatch",
    "Counter",
    "DecryptionError",
    "EncodeError",
    "Encryption",
    "EntryEvent",
    "EntryEventType",
    "EventStream",
    "FullPolicy",
    "HazelkitError",
    "IdGenerator",
    "ItemEvent",
    "ItemEventType",
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
    "Sink",
    "Subscription",
    "TLSOptions",
    "Topic",
    "UndecodableError",
    "UnknownTypeError",
    "UnsupportedVersionError",
    "ValidationError",
    "__version__",
    "connect",
    "connect_blocking",
    "pipe",
]
