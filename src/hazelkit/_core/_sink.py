"""Sinks: anything with ``await sink.send(item)``, and piping a source into one."""

from __future__ import annotations

from collections.abc import AsyncIterable, Callable
from typing import Any, Protocol, TypeVar, runtime_checkable

from hazelkit._core._exceptions import ConfigurationError

__all__ = ["Sink", "pipe"]

T = TypeVar("T")
T_contra = TypeVar("T_contra", contravariant=True)


@runtime_checkable
class Sink(Protocol[T_contra]):
    """Where a stream can be sent: a :class:`~hazelkit.Topic`, a
    :class:`~hazelkit.ReliableTopic`, or any object with an async ``send``."""

    async def send(self, item: T_contra, /) -> Any:
        """Deliver one item (for a topic: publish it)."""
        ...


async def pipe(
    source: AsyncIterable[T],
    sink: Sink[Any],
    *,
    transform: Callable[[T], Any] | None = None,
    limit: int | None = None,
) -> int:
    """Send every item of ``source`` to ``sink``, in order, one at a time.

    Each item is sent only after the previous send returned, so a sink that waits (a
    reliable topic storing each message) slows the source down. ``transform`` maps each
    item first (e.g. ``lambda message: message.value`` to republish a subscription's
    values); ``limit`` stops after that many items. Returns how many were sent. An
    error of the source or the sink stops the pipe and propagates; items already sent
    stay sent.

    A reliable-topic subscription made with ``tolerate_loss=True`` also yields
    :class:`~hazelkit.MessageLoss` markers, which have no ``value``: the transform
    above would fail on them. Either subscribe without ``tolerate_loss`` (a loss then
    stops the pipe with MessageLossError) or let the transform handle markers.
    """
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise ConfigurationError(f"limit must be None or an int >= 0, not {limit!r}")
    sent = 0
    if limit == 0:
        return 0
    async for item in source:
        await sink.send(item if transform is None else transform(item))
        sent += 1
        if limit is not None and sent >= limit:
            break
    return sent
