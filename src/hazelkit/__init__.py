"""hazelkit: clustered services on Hazelcast, embedded or on a real cluster."""

from hazelkit._buffer import BufferStatistics, Overflow
from hazelkit._cluster import (
    Cluster,
    ClusterState,
    LifecycleEvent,
    Member,
    MembershipEvent,
    connect,
)
from hazelkit._codec import Codec, Encryption
from hazelkit._exceptions import (
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
    SerializationError,
    UnknownTypeError,
    UnsupportedVersionError,
    ValidationError,
)
from hazelkit._map import Map
from hazelkit.blocking import BlockingCluster, BlockingMap, connect_blocking

__version__ = "0.1.0"

__all__ = [
    "BackendError",
    "BlockingCluster",
    "BlockingMap",
    "BufferStatistics",
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
    "DecryptionError",
    "EncodeError",
    "Encryption",
    "HazelkitError",
    "LeaseExpiredError",
    "LifecycleEvent",
    "LockError",
    "Map",
    "Member",
    "MembershipEvent",
    "MessageLossError",
    "NotLockOwnerError",
    "OperationTimeoutError",
    "Overflow",
    "SerializationError",
    "UnknownTypeError",
    "UnsupportedVersionError",
    "ValidationError",
    "__version__",
    "connect",
    "connect_blocking",
]
