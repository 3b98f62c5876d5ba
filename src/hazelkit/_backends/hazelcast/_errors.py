"""The one place where hazelcast-python-client exceptions become hazelkit errors."""

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
    IndexOutOfRangeError,
    InvalidArgumentError,
    OperationTimeoutError,
    SerializationError,
)

P = ParamSpec("P")
R = TypeVar("R")

_UNAVAILABLE = (
    hz.HazelcastIOError,
    hz.TargetDisconnectedError,
    hz.TargetNotMemberError,
    hz.MemberLeftError,
    hz.ClientOfflineError,
    hz.NoDataMemberInClusterError,
    hz.HazelcastInstanceNotActiveError,
    hz.AuthenticationError,
    hz.ClientNotAllowedInClusterError,
    # A write whose backup was not confirmed: it may or may not have happened; callers
    # retry it the way they retry a lost connection.
    hz.IndeterminateOperationStateError,
    IOError,
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
_TIMEOUT = (hz.OperationTimeoutError, hz.HazelcastTimeoutError, TimeoutError)
# struct.error: a number too large for the client protocol's fixed-size fields.
_BAD_ARGUMENT = (hz.IllegalArgumentError, hz.NullPointerError, AssertionError, struct.error)


def translate(error: BaseException, where: str) -> BaseException:
    """The hazelkit error for ``error`` raised by the client while doing ``where``.

    Every result is a HazelkitError: an index out of range is IndexOutOfRangeError (also
    an IndexError), a bad argument InvalidArgumentError (also a ValueError).
    """
    if isinstance(error, HazelkitError):
        return error
    message = f"{where}: {error}"
    if isinstance(error, hz.IndexOutOfBoundsError | hz.ArrayIndexOutOfBoundsError | IndexError):
        return IndexOutOfRangeError(message)
    if isinstance(error, hz.HazelcastClientNotActiveError):
        return ClusterClosedError(f"{where}: the Hazelcast client is shut down")
    if isinstance(error, _TIMEOUT):
        return OperationTimeoutError(message)
    if isinstance(error, _UNAVAILABLE):
        return ClusterUnavailableError(message)
    if isinstance(error, hz.HazelcastSerializationError):
        return SerializationError(message)
    if isinstance(error, hz.InvalidConfigurationError | hz.ConfigMismatchError):
        return ConfigurationError(message)
    if isinstance(error, (*_BAD_ARGUMENT, ValueError)):
        return InvalidArgumentError(message)
    return BackendError(message)


class _Named(Protocol):
    name: str


S = TypeVar("S", bound=_Named)


def translated(
    method: Callable[Concatenate[S, P], Coroutine[Any, Any, R]],
) -> Callable[Concatenate[S, P], Coroutine[Any, Any, R]]:
    """Decorate a structure method so client exceptions leave it as hazelkit errors."""
    operation = method.__name__

    @functools.wraps(method)
    async def wrapper(self: S, /, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await method(self, *args, **kwargs)
        except _CLIENT_ERRORS as error:
            raise translate(error, f"{operation} on {self.name!r}") from error

    return wrapper
