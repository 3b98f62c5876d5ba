"""Every error hazelkit raises, under one root.

    HazelkitError
    ├── ConfigurationError           a bad URL, an unknown scheme, a bad option or definition
    ├── ArgumentError                an argument of the wrong type (also a TypeError)
    ├── InvalidArgumentError         an argument value the operation cannot take (a ValueError)
    ├── IndexOutOfRangeError         a list index out of range (also an IndexError)
    ├── NotFoundError                what was asked for is not there
    │   ├── KeyNotFoundError         a mapping key (also a KeyError)
    │   └── ItemNotFoundError        a list or set item (also a ValueError)
    ├── ClusterError
    │   ├── ClusterUnavailableError  the cluster could not be reached, or was lost
    │   ├── ClusterClosedError       the Cluster (or a handle of it) was used after close()
    │   │   └── ForkedClusterError   ... or in a child process, after fork()
    │   ├── WrongEventLoopError      the Cluster was used from another event loop (also a
    │   │                            RuntimeError)
    │   ├── IndeterminateOperationError  the outcome is unknown: it may have been applied
    │   └── BackendError             any other failure reported by the backend
    ├── OperationTimeoutError        a wait ran out of time (also a TimeoutError)
    ├── SerializationError           bytes that cannot be encoded or decoded
    │   ├── EncodeError              a value of a type the codec cannot encode
    │   ├── CorruptDataError         truncated, malformed or oversized bytes
    │   ├── DecryptionError          wrong key, tampered ciphertext, or no key configured
    │   ├── UnknownTypeError         a registered-type name this process does not know
    │   ├── UnsupportedVersionError  a format version or flag this codec does not read
    │   └── UndecodableError         a value taken from a structure could not be decoded
    │                                here; its bytes were put back or parked, not lost
    ├── CapacityError                a bounded structure is full and the policy is to fail
    │   └── QueueFull                a queue is full (also queue.Full)
    ├── QueueEmpty                   a queue stayed empty (also queue.Empty)
    ├── ValidationError              a validator rejected a new value; nothing was changed
    ├── ConflictError                an optimistic update lost too many races in a row
    ├── LockError
    │   ├── NotLockOwnerError        release or renewal by a task that does not hold it
    │   └── LeaseExpiredError        the holder's lease lapsed and another may hold it now
    ├── ComponentError               a component of a System failed to start or stop, or a
    │                                step run once (or a migration) failed, here or on another
    │                                node; ``component`` names it
    ├── ComponentStopError           components failed to stop (also an ExceptionGroup of
    │                                their ComponentErrors)
    ├── EntityError                  a workflow (or another entity) cannot do what was asked
    │   ├── NoSuchEntityError        no entity has that id (also a LookupError)
    │   └── EntityFailedError        it ended failed or terminated (``result()``)
    └── MessageLossError             a subscriber fell behind and messages were overwritten

Backend exceptions (from hazelcast-python-client, or the embedded grid) never leave
hazelkit: they are translated where the backend is called, and the original is kept as
``__cause__``.
"""

from __future__ import annotations

import queue
from typing import Any

__all__ = [
    "ArgumentError",
    "BackendError",
    "CapacityError",
    "ClusterClosedError",
    "ClusterError",
    "ClusterUnavailableError",
    "ComponentError",
    "ComponentStopError",
    "ConfigurationError",
    "ConflictError",
    "CorruptDataError",
    "DecryptionError",
    "EncodeError",
    "EntityError",
    "EntityFailedError",
    "ForkedClusterError",
    "HazelkitError",
    "IndeterminateOperationError",
    "IndexOutOfRangeError",
    "InvalidArgumentError",
    "ItemNotFoundError",
    "KeyNotFoundError",
    "LeaseExpiredError",
    "LockError",
    "MessageLossError",
    "NoSuchEntityError",
    "NotFoundError",
    "NotLockOwnerError",
    "OperationTimeoutError",
    "QueueEmpty",
    "QueueFull",
    "SerializationError",
    "UndecodableError",
    "UnknownTypeError",
    "UnsupportedVersionError",
    "ValidationError",
    "WrongEventLoopError",
]


class HazelkitError(Exception):
    """The root of every error hazelkit raises."""


class ConfigurationError(HazelkitError, ValueError):
    """A URL, option or definition is malformed or names something unknown."""


class ArgumentError(HazelkitError, TypeError):
    """An argument is of the wrong type (a function that is not callable, say)."""


class InvalidArgumentError(HazelkitError, ValueError):
    """An argument has a value the operation cannot take (out of the range the backend
    can represent, say). Nothing was changed."""


class IndexOutOfRangeError(HazelkitError, IndexError):
    """A list index is out of range (also an ``IndexError``, as for a Python list)."""


class NotFoundError(HazelkitError):
    """What was asked for is not there."""


class KeyNotFoundError(NotFoundError, KeyError):
    """A key is not in the map (also a ``KeyError``, as for a dict)."""


class ItemNotFoundError(NotFoundError, ValueError):
    """An item is not in the list or set (also a ``ValueError``, as ``list.index`` raises)."""


class ClusterError(HazelkitError):
    """A problem with the connection to the cluster or with the cluster itself."""


class ClusterUnavailableError(ClusterError):
    """The cluster could not be reached within the configured timeout, or is not connected
    now (a Cluster reconnects by itself). The operation was not applied: safe to retry.
    (A write that was under way when the connection was lost raises
    IndeterminateOperationError instead.)"""


class ClusterClosedError(ClusterError):
    """The :class:`~hazelkit.Cluster` was used after it was closed."""


class ForkedClusterError(ClusterClosedError):
    """A Cluster connected before ``fork()`` was used in the child process.

    Its connection and its event loop (for a blocking Cluster, its helper thread) belong
    to the parent: the child must connect its own Cluster (in gunicorn's ``post_fork``
    hook, or in the function a ``multiprocessing`` process runs). Nothing was sent.
    """


class WrongEventLoopError(ClusterError, RuntimeError):
    """A Cluster was used from an event loop other than the one that started it.

    A Cluster, like the Hazelcast client under it, belongs to one event loop (each
    ``asyncio.run`` starts a new one). Nothing was sent. Connect on the loop that uses
    it, or hand work to its loop (``asyncio.run_coroutine_threadsafe``).
    """


class IndeterminateOperationError(ClusterError):
    """The operation may or may not have been applied: the connection or a member was
    lost after the request was sent and before its outcome was known.

    Never retry such an operation blindly: read back first (hazelkit's own retried writes
    carry a write id for exactly that). ``operation`` names what was attempted.
    """

    def __init__(self, message: str, *, operation: str = "") -> None:
        super().__init__(message)
        self.operation = operation


class BackendError(ClusterError):
    """The backend reported a failure that has no more specific hazelkit error.

    The backend's own exception is available as ``__cause__``.
    """


class OperationTimeoutError(HazelkitError, TimeoutError):
    """A wait ran out of time. Nothing was taken, changed or acquired by the timed-out call.

    (A write whose reply did not come in time may have been applied: that raises
    IndeterminateOperationError, never this.)"""


class SerializationError(HazelkitError):
    """A value could not be encoded, or bytes could not be decoded.

    Decoding never runs code from the data and never changes stored data.
    """


class EncodeError(SerializationError, TypeError):
    """The value (or something inside it) is of a type the codec cannot encode."""


class CorruptDataError(SerializationError):
    """The bytes are truncated, malformed, or larger than the configured limits."""


class DecryptionError(SerializationError):
    """The bytes are encrypted with another key, were tampered with, or no key is configured."""


class UnknownTypeError(SerializationError):
    """The bytes name a user type that is not registered in this process."""


class UnsupportedVersionError(SerializationError):
    """The bytes carry a format version or flag that this codec cannot read."""


class UndecodableError(SerializationError):
    """Bytes taken from a structure could not be decoded on this node.

    ``data`` holds the bytes; ``stored_in`` names the structure that holds them now (a
    dead-letter list such as ``hazelkit.undecodable/QUEUE``, or the structure they were
    read from and left in), or is None if they could not be stored again and ``data`` is
    the only copy left. The decoding error is the ``__cause__``.

    A read of many values (``keys()``, ``items()``, ``values()``...) that met some it
    cannot decode raises this error with ``partial``: what it could decode, in the shape
    the call returns; ``undecodable`` lists the raw form of every entry left out (bytes,
    or ``(key, value)`` bytes for entries). A value written by another kind of client (a
    Hazelcast str, number, JSON, pickle) is undecodable here too: hazelkit never
    interprets it.
    """

    def __init__(
        self,
        message: str,
        *,
        data: bytes,
        stored_in: str | None,
        partial: Any = None,
        undecodable: list[Any] | None = None,
        sequence: int | None = None,
    ) -> None:
        super().__init__(message)
        self.data = data
        self.stored_in = stored_in
        #: For a message of a reliable topic: its sequence in the ringbuffer.
        self.sequence = sequence
        self.partial = partial
        self.undecodable = undecodable if undecodable is not None else [data]


class CapacityError(HazelkitError):
    """A bounded structure (queue, ringbuffer, session store) is full and the policy is to fail."""


class QueueFull(CapacityError, queue.Full):
    """A bounded queue had no room (within the timeout); nothing was added.

    Also a ``queue.Full``, so code written for ``queue.Queue`` catches it unchanged.
    """


class QueueEmpty(HazelkitError, queue.Empty):
    """A queue had no item (within the timeout); nothing was taken.

    Also a ``queue.Empty``, so code written for ``queue.Queue`` catches it unchanged.
    """


class ValidationError(HazelkitError, ValueError):
    """A validator rejected a new value. The stored value is unchanged."""


class ConflictError(HazelkitError):
    """An optimistic (compare-and-set) update lost the race more times than allowed."""


class LockError(HazelkitError):
    """A lock, semaphore or lease was used against its rules."""


class NotLockOwnerError(LockError):
    """The caller tried to release or renew something it does not hold."""


class LeaseExpiredError(LockError):
    """The holder's lease lapsed; another holder may have acquired it since."""


class ComponentError(HazelkitError):
    """A component failed to start or stop (or was used before it started), or a step
    meant to run once (or a migration) failed, or this node may not run it.

    ``component`` names the component (or the step, or the set of migrations).
    ``error`` is the failure as recorded for every node (``"ValueError: boom"``) when it
    happened in a step run once or a migration, else None. Where this node saw the
    original exception, it is the ``__cause__``.
    """

    def __init__(self, message: str, *, component: str, error: str | None = None) -> None:
        super().__init__(message)
        self.component = component
        self.error = error


class ComponentStopError(HazelkitError, ExceptionGroup[ComponentError]):
    """Some components failed to stop; every other component was stopped all the same.

    Also an ExceptionGroup of one ComponentError per failed component (``except*
    ComponentError`` matches them), each with its original error as ``__cause__``.
    """

    @property
    def components(self) -> list[str]:
        """The names of the components that failed to stop, in the order they failed."""
        return [error.component for error in self.exceptions if isinstance(error, ComponentError)]


class EntityError(HazelkitError):
    """A workflow (or another entity of the runtime) cannot do what was asked."""


class NoSuchEntityError(EntityError, LookupError):
    """No entity has that id: start it first."""


class EntityFailedError(EntityError):
    """The entity ended failed or terminated; ``status`` and ``reason`` say how."""

    def __init__(self, message: str, *, status: str, reason: str | None) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason


class MessageLossError(HazelkitError):
    """A subscriber fell behind and the messages it had not read were overwritten.

    ``lost`` tells how many messages were skipped and ``next_sequence`` where reading
    can resume.
    """

    def __init__(self, message: str, *, lost: int, next_sequence: int) -> None:
        super().__init__(message)
        self.lost = lost
        self.next_sequence = next_sequence
