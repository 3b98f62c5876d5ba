"""The one place where hazelcast-python-client exceptions become hazelkit errors.

Every failed operation has one of three outcomes, and the error says which:

- **not applied**: the request never left this process (no connection, the client is
  shut down, a bad argument) or the member refused it. ClusterUnavailableError,
  ClusterClosedError, InvalidArgumentError...: safe to retry.
- **unknown**: a request that changes something was sent, and the connection or the
  member was lost (or the client's invocation timeout ran out) before its reply came.
  The member may have applied it. IndeterminateOperationError: never retry blindly.
- **applied**: the call returned. The client is configured with
  ``fail_on_indeterminate_operation_state=False``: an operation the primary applied but
  whose backup did not acknowledge in time is reported as applied, because it was. (It
  can still be lost if the primary dies before its backup is made; that is Hazelcast's
  replication, and with ``True`` the same write would have been reported as failed
  while it stood, which made callers apply it twice.)

A read that fails is never "unknown": nothing changed, so its errors are the retryable
ones. Which operations change something is decided by name (:data:`READS`).
"""

from __future__ import annotations

import functools
import struct
from collections.abc import Callable, Coroutine
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

from hazelcast import errors as hz

from hazelkit._core._exceptions import (
    BackendError,
    ClusterClosedError,
    ClusterUnavailableError,
    ConfigurationError,
    HazelkitError,
    IndeterminateOperationError,
    IndexOutOfRangeError,
    InvalidArgumentError,
    OperationTimeoutError,
    SerializationError,
)

P = ParamSpec("P")
R = TypeVar("R")

#: Store methods that change nothing: their failures are never "unknown".
READS = frozenset(
    {
        "get", "get_all", "contains", "contains_key", "contains_value", "contains_entry",
        "value_count", "size", "keys", "values", "items", "peek", "remaining_capacity",
        "index", "slice", "capacity", "head", "tail", "read_many", "listen", "new_id",
    }
)  # fmt: skip

# The request did not leave this process, or the member refused it before doing it.
_NOT_SENT = (
    hz.ClientOfflineError,
    hz.NoDataMemberInClusterError,
    hz.AuthenticationError,
    hz.ClientNotAllowedInClusterError,
    hz.TargetNotMemberError,
    hz.HazelcastInstanceNotActiveError,
)
# The request may have been sent and done: the connection or member was lost meanwhile.
_LOST = (
    hz.HazelcastIOError,
    hz.TargetDisconnectedError,
    hz.MemberLeftError,
    hz.IndeterminateOperationStateError,
    IOError,
)
_TIMEOUT = (hz.OperationTimeoutError, hz.HazelcastTimeoutError, TimeoutError)
# struct.error: a number too large for the client protocol's fixed-size fields.
_BAD_ARGUMENT = (
    hz.IllegalArgumentError,
    hz.NullPointerError,
    AssertionError,
    struct.error,
    ValueError,
)
# Everything the client raises: its own errors, and Python's for what it could not send.
_CLIENT_ERRORS = (
    hz.HazelcastError,
    OSError,
    TimeoutError,
    AssertionError,
    struct.error,
    IndexError,
    ValueError,
)


def translate(error: BaseException, where: str, *, changes: bool = False) -> BaseException:
    """The hazelkit error for ``error`` raised by the client while doing ``where``;
    ``changes`` says whether that operation changes anything (see the module)."""
    if isinstance(error, HazelkitError):
        return error
    message = f"{where}: {error}"
    if isinstance(error, hz.IndexOutOfBoundsError | hz.ArrayIndexOutOfBoundsError | IndexError):
        return IndexOutOfRangeError(message)
    if isinstance(error, hz.HazelcastClientNotActiveError):
        return ClusterClosedError(f"{where}: the Hazelcast client is shut down")
    if isinstance(error, _NOT_SENT):
        return ClusterUnavailableError(message)
    if changes and isinstance(error, (*_LOST, *_TIMEOUT)):
        return IndeterminateOperationError(
            f"{message}; the connection or member was lost before the reply, so it may or"
            " may not have been applied (read back before retrying)",
            operation=where,
        )
    if isinstance(error, _TIMEOUT):
        return OperationTimeoutError(message)
    if isinstance(error, _LOST):
        return ClusterUnavailableError(message)
    if isinstance(error, hz.HazelcastSerializationError):
        return SerializationError(message)
    if isinstance(error, hz.InvalidConfigurationError | hz.ConfigMismatchError):
        return ConfigurationError(message)
    if isinstance(error, _BAD_ARGUMENT):
        return InvalidArgumentError(message)
    return BackendError(message)


def call_site(operation: str, name: str) -> str:
    """How an error names a store call: ``put on 'users'``."""
    return f"{operation} on {name!r}"


class _Link(Protocol):
    def check_connected(self, operation: str, name: str) -> None: ...


class _Named(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def _link(self) -> _Link: ...


S = TypeVar("S", bound=_Named)


def translated(
    method: Callable[Concatenate[S, P], Coroutine[Any, Any, R]],
) -> Callable[Concatenate[S, P], Coroutine[Any, Any, R]]:
    """Decorate a store method: while the client is disconnected it fails fast (not
    sent), and client exceptions leave it as hazelkit errors naming their outcome.

    The message's ``where`` is formatted only when a call fails, not on every call
    (``repr`` of the name). With the proxy read in ``_structures`` (``_cached``), this
    took a put through the adapter over a no-I/O proxy from 1.34 to 1.10 us, a get
    from 0.97 to 0.80 us (min of 30 rounds).
    """
    operation = method.__name__
    changes = operation not in READS

    @functools.wraps(method)
    async def wrapper(self: S, /, *args: P.args, **kwargs: P.kwargs) -> R:
        self._link.check_connected(operation, self.name)
        try:
            return await method(self, *args, **kwargs)
        except _CLIENT_ERRORS as error:
            raise translate(error, call_site(operation, self.name), changes=changes) from error

    return wrapper
