"""The Hazelcast backend: ``hazelcast://HOST:PORT[,HOST:PORT]?cluster=NAME``.

One ``hazelcast.asyncio.HazelcastClient`` per Cluster, on the event loop that connected
it (the client is not thread-safe). Values cross the client only as hazelkit Blobs, and
the client's pickle fallback is disabled in both directions.

Connecting and reconnecting are bounded separately. The client's own
``cluster_connect_timeout`` bounds every attempt to (re)connect, and a client that runs
out of it shuts itself down for good; so the client gets the ``reconnect`` option
(default: no bound, retrying with backoff however long an outage lasts), and the first
connect is bounded here, by ``connect_timeout``: past it the half-started client is shut
down and ClusterUnavailableError raised, whatever the peer does (a port that accepts and
never answers included).

While the client is disconnected, store calls fail at once with ClusterUnavailableError
(nothing was sent) instead of waiting in the client for the invocation timeout. What a
failure means for a call that was in flight is decided in :mod:`._errors`.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Sequence
from typing import Any

with warnings.catch_warnings():
    # hazelcast-python-client imports the asyncore module for its classic (threaded)
    # client, which hazelkit does not use; keep its deprecation warning from users.
    warnings.filterwarnings("ignore", "The asyncore module is deprecated", DeprecationWarning)
    from hazelcast import errors as hz_errors
    from hazelcast.asyncio import HazelcastClient

from hazelkit._backends.hazelcast._errors import call_site, translate
from hazelkit._backends.hazelcast._serialization import refuse_pickle, serializer_options
from hazelkit._backends.hazelcast._structures import (
    HzIdGenerator,
    HzList,
    HzMap,
    HzMultiMap,
    HzQueue,
    HzRingbuffer,
    HzSet,
    HzTopic,
)
from hazelkit._backends.protocol import (
    BackendListener,
    BackendState,
    MemberInfo,
    MembershipEventType,
    RawMembershipEvent,
)
from hazelkit._core._exceptions import ClusterClosedError, ClusterUnavailableError
from hazelkit._core._url import ClusterOptions

__all__ = ["HazelcastBackend", "backend_class"]

_CONNECTED_STATES = {"CONNECTED": BackendState.CONNECTED, "DISCONNECTED": BackendState.DISCONNECTED}


def _member(member: Any, local: bool = False) -> MemberInfo:
    return MemberInfo(uuid=str(member.uuid), address=f"{member.address.host}:{member.address.port}")


class HazelcastBackend:
    """A connection to a Hazelcast cluster through the asyncio client."""

    scheme = "hazelcast"

    def __init__(self, options: ClusterOptions) -> None:
        self.target = options.url
        self._options = options
        self._client: Any = None
        self._connected = False
        self._gave_up = False

    def check_connected(self, operation: str, name: str) -> None:
        """Raise ClusterUnavailableError (nothing sent) while disconnected; the error
        names ``operation`` on the structure ``name``."""
        if self._client is not None and not self._connected:
            where = call_site(operation, name)
            if self._gave_up:
                raise ClusterClosedError(
                    f"{where}: gave up reconnecting to {self.target} after "
                    f"{self._options.reconnect:g} s (the reconnect option)"
                )
            raise ClusterUnavailableError(
                f"{where}: not connected to {self.target} (reconnecting); nothing was sent"
            )

    def _client_config(self, listener: BackendListener) -> dict[str, Any]:
        options = self._options
        config: dict[str, Any] = {
            "cluster_name": options.cluster_name,
            "cluster_members": list(options.addresses),
            # Bounds every reconnection (not the first connect: see start()).
            "cluster_connect_timeout": -1 if options.reconnect is None else options.reconnect,
            "invocation_timeout": options.operation_timeout,
            "smart_routing": options.smart_routing,
            "statistics_enabled": False,
            # What the primary applied is reported as applied (see _errors).
            "fail_on_indeterminate_operation_state": False,
            "lifecycle_listeners": [self._on_lifecycle(listener)],
            "membership_listeners": [self._on_membership(listener)],
        }
        if options.username is not None:
            config["creds_username"] = options.username
            config["creds_password"] = options.password
        if options.tls is not None:
            tls = options.tls
            config.update(
                ssl_enabled=True,
                ssl_cafile=tls.cafile,
                ssl_certfile=tls.certfile,
                ssl_keyfile=tls.keyfile,
                ssl_password=tls.password,
                ssl_check_hostname=tls.check_hostname,
            )
        config.update(options.client_options)
        config.update(serializer_options())
        return config

    def _on_lifecycle(self, listener: BackendListener) -> Any:
        def on_state(state: str) -> None:
            mapped = _CONNECTED_STATES.get(state)
            if mapped is not None:
                self._connected = mapped is BackendState.CONNECTED
                listener.on_state(mapped)
            elif state == "SHUTDOWN" and self._client is not None:
                # The client shut itself down: it ran out of reconnection time.
                self._connected, self._gave_up = False, True
                listener.on_state(BackendState.LOST)

        return on_state

    @staticmethod
    def _on_membership(listener: BackendListener) -> tuple[Any, Any]:
        def joined(member: Any) -> None:
            listener.on_membership(RawMembershipEvent(MembershipEventType.JOINED, _member(member)))

        def left(member: Any) -> None:
            listener.on_membership(RawMembershipEvent(MembershipEventType.LEFT, _member(member)))

        return joined, left

    async def start(self, listener: BackendListener) -> None:
        client: Any = HazelcastClient(**self._client_config(listener))
        limit = self._options.connect_timeout
        opened = _track_connections(client)
        with _LastConnectError(self._options.cluster_name) as last:
            try:
                async with asyncio.timeout(limit):
                    # The client's own start (create_and_start without the create), so that
                    # a start cut off by the timeout leaves a client here to shut down.
                    await client._start()
            except TimeoutError as error:
                await _shut_down(client, opened)
                raise ClusterUnavailableError(
                    f"could not connect to {self.target} within {limit:g} s (connect_timeout)"
                    f"{last.describe()}"
                ) from error
            except BaseException as error:
                await _shut_down(client, opened)
                if isinstance(error, Exception):
                    raise translate(error, f"connecting to {self.target}") from error
                raise
        refuse_pickle(client)
        self._client = client
        self._connected = True

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await _shut_down(client, timeout=10.0)

    @property
    def client(self) -> Any:
        if self._client is None:
            raise ClusterClosedError(f"{self.target} is not connected")
        return self._client

    async def objects(self) -> list[tuple[str, str]]:
        from hazelkit._backends.hazelcast._objects import distributed_objects

        try:
            return await distributed_objects(self.client)
        except Exception as error:
            raise translate(error, f"listing the structures of {self.target}") from error

    def members(self) -> list[MemberInfo]:
        if self._client is None:
            return []
        return [_member(m) for m in self._client.cluster_service.get_members()]

    def map(self, name: str) -> HzMap:
        return HzMap(self, name)

    def multimap(self, name: str) -> HzMultiMap:
        return HzMultiMap(self, name)

    def queue(self, name: str, capacity: int | None = None) -> HzQueue:
        return HzQueue(self, name, capacity)

    def set(self, name: str) -> HzSet:
        return HzSet(self, name)

    def list(self, name: str) -> HzList:
        return HzList(self, name)

    def ringbuffer(
        self, name: str, capacity: int | None = None, ttl: float | None = None
    ) -> HzRingbuffer:
        return HzRingbuffer(self, name, capacity, ttl)

    def topic(self, name: str) -> HzTopic:
        return HzTopic(self, name)

    def id_generator(self, name: str) -> HzIdGenerator:
        return HzIdGenerator(self, name)


class _LastConnectError(logging.Handler):
    """Remembers why the client's last connection attempt failed (it only logs it), so a
    failed connect can say so: a wrong cluster name, refused, unreachable."""

    _LOGGER = "hazelcast.internal.asyncio_connection"

    def __init__(self, cluster_name: str) -> None:
        super().__init__(logging.DEBUG)
        self._cluster_name = cluster_name
        self.error: BaseException | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[1] is not None:
            self.error = record.exc_info[1]

    def describe(self) -> str:
        error = self.error
        if error is None:
            return ": no member answered"
        if isinstance(error, hz_errors.AuthenticationError):
            return (
                f"; the members refused this client ({error}): check the cluster name "
                f"({self._cluster_name!r}) and the credentials"
            )
        return f"; the last attempt failed with {type(error).__name__}: {error}"

    def __enter__(self) -> _LastConnectError:
        logger = logging.getLogger(self._LOGGER)
        self._level = logger.level
        if not logger.isEnabledFor(logging.WARNING):
            logger.setLevel(logging.WARNING)
        logger.addHandler(self)
        return self

    def __exit__(self, *exc_info: object) -> None:
        logger = logging.getLogger(self._LOGGER)
        logger.removeHandler(self)
        logger.setLevel(self._level)


def _track_connections(client: Any) -> list[Any]:
    """Every connection the client opens from now on (its shutdown closes only the
    authenticated ones, so a connect cut off mid-handshake would leave one open)."""
    opened: list[Any] = []
    manager = client._connection_manager
    create = manager._create_connection

    def tracked(*args: Any, **kwargs: Any) -> Any:
        connection = create(*args, **kwargs)
        opened.append(connection)
        return connection

    manager._create_connection = tracked
    return opened


async def _shut_down(client: Any, opened: Sequence[Any] = (), timeout: float = 0.4) -> None:
    """Shut ``client`` down and close every connection it opened, bounded: a broken
    connection may fail or stall it, and the client is gone for hazelkit either way."""
    try:
        async with asyncio.timeout(timeout):
            await client.shutdown()
            for connection in opened:
                await connection.close_connection("hazelkit: connect abandoned", None)
    except (Exception, TimeoutError):
        logging.getLogger(__name__).debug("error during client shutdown", exc_info=True)


backend_class = HazelcastBackend
