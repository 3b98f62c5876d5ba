"""Topic: best-effort publish/subscribe, delivered through bounded local buffers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from hazelkit._backends.protocol import RawMessage, Registration, TopicStore
from hazelkit._core import _lowlevel as lowlevel
from hazelkit._core._buffer import Overflow
from hazelkit._core._exceptions import (
    ConfigurationError,
    HazelkitError,
    SerializationError,
    UndecodableError,
)
from hazelkit._core._handle import check_name, place_of
from hazelkit._core._subscription import Subscription, background_subscription

if TYPE_CHECKING:
    from hazelkit._core._cluster import Cluster

__all__ = ["Message", "Topic", "check_buffer"]

logger = logging.getLogger("hazelkit")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Message(Generic[T]):
    """A message of a :class:`Topic`: its value and the publisher's wall-clock time."""

    value: T
    publish_time: float


def check_buffer(buffer: int, overflow: Overflow | str, *, block: bool) -> Overflow:
    """Validate a subscription's buffer; ``block`` says whether BLOCK is allowed."""
    if isinstance(buffer, bool) or not isinstance(buffer, int) or buffer < 1:
        raise ConfigurationError(f"buffer must be a positive int, not {buffer!r}")
    try:
        policy = Overflow(overflow)
    except ValueError:
        raise ConfigurationError(
            f"unknown overflow policy {overflow!r}: use 'block', 'drop' or 'slide'"
        ) from None
    if policy is Overflow.BLOCK and not block:
        raise ConfigurationError(
            "a topic delivers from a listener that cannot wait, so its subscriptions cannot"
            " use Overflow.BLOCK: use DROP or SLIDE, or a reliable topic for backpressure"
        )
    return policy


class Topic(Generic[T]):
    """A best-effort topic (``cluster.topic(name)``): every subscriber that is listening
    when a message is published receives it, at most once.

    Messages from one publishing node arrive in the order they were published;
    messages of different publishers may interleave. There is no history: a subscriber
    sees only what is published after it started (``async with topic.subscribe()``
    returns once it has). Delivery is *not* guaranteed: around a member failure, while
    the client re-registers its listener, messages can be lost, and a subscriber whose
    local buffer is full loses messages by its overflow policy (counted in
    ``statistics().dropped``). Use a :class:`~hazelkit.ReliableTopic` when every
    message matters.

    A topic is also a sink: ``await topic.send(x)`` publishes ``x``, so
    ``await hazelkit.pipe(source, topic)`` forwards a stream.
    """

    def __init__(self, cluster: Cluster, name: str) -> None:
        check_name(name, "topic")
        self._cluster = cluster
        self.name = name
        self._store_cache: TopicStore | None = None
        self._place = place_of(cluster, "topic", name)

    @property
    def _store(self) -> TopicStore:
        lowlevel.check_open(self._cluster)
        if self._store_cache is None:
            self._store_cache = lowlevel.backend(self._cluster).topic(self.name)
        return self._store_cache

    async def publish(self, value: T) -> None:
        """Publish ``value`` to the subscribers listening now (returns once sent)."""
        await self._store.publish(self._cluster.codec.encode(value, self._place))

    async def publish_all(self, values: Iterable[T]) -> None:
        """Publish several values in one batch, in order."""
        encode = self._cluster.codec.encode
        await self._store.publish_all([encode(value) for value in values])

    async def send(self, value: T) -> None:
        """The sink interface: the same as :meth:`publish`."""
        await self.publish(value)

    def subscribe(
        self, *, buffer: int = 1024, overflow: Overflow | str = Overflow.SLIDE
    ) -> Subscription[Message[T]]:
        """A subscription to the messages published from now on.

        Iterate it at once (``async for message in topic.subscribe():``), or ``await``
        it / ``async with`` it to wait until its listener is registered first. The local
        buffer holds ``buffer`` messages; when the reader falls behind, ``SLIDE`` drops
        the oldest, ``DROP`` the newest (``BLOCK`` is refused: a listener cannot wait).
        A message that cannot be decoded (another client's, a type not registered
        here) is delivered as an UndecodableError in its place, carrying its bytes; the
        messages after it still arrive. The subscription ends when closed or when the
        Cluster closes.
        """
        policy = check_buffer(buffer, overflow, block=False)
        store = self._store

        async def feed(subscription: Subscription[Message[T]]) -> None:
            await self._listen(store, subscription)

        return background_subscription(
            self._cluster,
            feed,
            Subscription(capacity=buffer, overflow=policy, started=False),
            name=f"topic {self.name!r}",
        )

    async def _listen(self, store: TopicStore, subscription: Subscription[Message[T]]) -> None:
        codec, place = self._cluster.codec, self._place

        def decode(data: bytes) -> Any:
            return codec.decode(data, place)

        def on_message(raw: RawMessage) -> None:
            if subscription.closed:
                return
            try:
                value = decode(raw.payload)
            except SerializationError as error:
                undecodable = UndecodableError(
                    f"a message of topic {self.name!r} could not be decoded here ({error});"
                    " a topic keeps no copy, its bytes are only in .data",
                    data=raw.payload,
                    stored_in=None,
                )
                undecodable.__cause__ = error
                subscription.push_error(undecodable)
                return
            subscription.push(Message(value, raw.publish_time))

        registration: Registration | None = None
        try:
            registration = await store.listen(on_message)
            subscription.mark_started()
            # The listener delivers; this task only owns the registration until it is
            # cancelled by aclose() or by the Cluster closing.
            await asyncio.Event().wait()
        except HazelkitError as error:
            subscription.end(error)
        finally:
            subscription.end()
            if registration is not None:
                with contextlib.suppress(HazelkitError, OSError):
                    await asyncio.wait_for(registration.close(), 5)

    async def destroy(self) -> None:
        """Remove the topic from the grid (its listeners stop receiving)."""
        await self._store.destroy()

    def __repr__(self) -> str:
        return f"<Topic {self.name!r} of {self._cluster.url}>"
