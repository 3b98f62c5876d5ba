"""The Hazelcast backend: ``hazelcast://HOST:PORT[,HOST:PORT]?cluster=NAME``.

One ``hazelcast.asyncio.HazelcastClient`` per Cluster, on the event loop that connected
it (the client is not thread-safe). Values cross the client only as hazelkit Blobs, and
the client's pickle fallback is disabled in both directions.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from typing import Any

with warnings.catch_warnings():
    # hazelcast-python-client imports the asyncore module for its classic (threaded)
    # client, which hazelkit does not use; keep its deprecation warning from users.
    warnings.filterwarnings("ignore", "The asyncore module is deprecated", DeprecationWarning)
    from hazelcast.asyncio import HazelcastClient

from hazelkit._backends.hazelcast._errors import translate
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

    def _client_config(self, listener: BackendListener) -> dict[str, Any]:
        options = self._options
        config: dict[str, Any] = {
            "cluster_name": options.cluster_name,
            "cluster_members": list(options.addresses),
            "cluster_connect_timeout": options.connect_timeout,
            "invocation_timeout": options.operation_timeout,
            "smart_routing": options.smart_routing,
            "statistics_enabled": False,
            # An operation whose backup did not acknowledge in time fails (retryably)
            # instead of passing as a success that a primary crash could then undo.
            "fail_on_indeterminate_operation_state": True,
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

    @staticmethod
    def _on_lifecycle(listener: BackendListener) -> Any:
        def on_state(state: str) -> None:
            mapped = _CONNECTED_STATES.get(state)
            if mapped is not None:
                listener.on_state(mapped)

        return on_state

    @staticmethod
    def _on_membership(listener: BackendListener) -> tuple[Any, Any]:
        def joined(member: Any) -> None:
            listener.on_membership(RawMembershipEvent(MembershipEventType.JOINED, _member(member)))

        def left(member: Any) -> None:
            listener.on_membership(RawMembershipEvent(MembershipEventType.LEFT, _member(member)))

        return joined, left

    async def start(self, listener: BackendListener) -> None:
        config = self._client_config(listener)
        # The client's own connect timeout bounds the attempt; ours adds a margin so a hung
        # handshake cannot hold the caller longer.
        limit = self._options.connect_timeout + 5.0
        try:
            client = await asyncio.wait_for(HazelcastClient.create_and_start(**config), limit)
        except TimeoutError as error:
            raise ClusterUnavailableError(
                f"could not connect to {self.target} within {limit:g} s"
            ) from error
        except Exception as error:
            if "cluster_connect_timeout" in str(error) or "Unable to connect" in str(error):
                raise ClusterUnavailableError(
                    f"could not connect to {self.target} within "
                    f"{self._options.connect_timeout:g} s: {error}"
                ) from error
            raise translate(error, f"connecting to {self.target}") from error
        refuse_pickle(client)
        self._client = client

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            try:
                await client.shutdown()
            except Exception:  # shutting down a broken connection may fail; it is gone anyway
                logging.getLogger(__name__).debug("error during client shutdown", exc_info=True)

    @property
    def client(self) -> Any:
        if self._client is None:
            raise ClusterClosedError(f"{self.target} is not connected")
        return self._client

    def members(self) -> list[MemberInfo]:
        if self._client is None:
            return []
        return [_member(m) for m in self._client.cluster_service.get_members()]

    def map(self, name: str) -> HzMap:
        return HzMap(self.client, name)

    def multimap(self, name: str) -> HzMultiMap:
        return HzMultiMap(self.client, name)

    def queue(self, name: str, capacity: int | None = None) -> HzQueue:
        return HzQueue(self.client, name, capacity)

    def set(self, name: str) -> HzSet:
        return HzSet(self.client, name)

    def list(self, name: str) -> HzList:
        return HzList(self.client, name)

    def ringbuffer(
        self, name: str, capacity: int | None = None, ttl: float | None = None
    ) -> HzRingbuffer:
        return HzRingbuffer(self.client, name, capacity, ttl)

    def topic(self, name: str) -> HzTopic:
        return HzTopic(self.client, name)

    def id_generator(self, name: str) -> HzIdGenerator:
        return HzIdGenerator(self.client, name)


backend_class = HazelcastBackend
