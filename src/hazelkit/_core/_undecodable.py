"""Stored bytes this node cannot decode are never thrown away.

A node may meet bytes it cannot decode: a value of a type registered only on other
nodes, encrypted with a key it lacks, or corrupt. Reading such a value raises and
changes nothing. An operation that *takes* a value out of a structure (``Queue.get``,
``List.pop``, ...) must not lose it either: depending on the structure, the bytes are
put back where they were, or parked in a dead-letter list, and the error raised carries
them (``.data``) and says where they went (``.stored_in``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Final

from hazelkit._core import _lowlevel as lowlevel
from hazelkit._core._exceptions import HazelkitError, SerializationError, UndecodableError

if TYPE_CHECKING:
    from hazelkit._core._cluster import Cluster

__all__ = [
    "DEAD_LETTERS",
    "dead_letters_name",
    "park",
    "store_again",
    "try_decode",
]

logger = logging.getLogger("hazelkit")

#: The prefix of the dead-letter lists: a queue's undecodable items go to the List
#: ``hazelkit.undecodable/QUEUE``.
DEAD_LETTERS: Final = "hazelkit.undecodable/"


def dead_letters_name(queue: str) -> str:
    """The name of the List where ``queue``'s undecodable items are parked."""
    return DEAD_LETTERS + queue


async def park(
    cluster: Cluster, queue: str, data: bytes, error: SerializationError
) -> UndecodableError:
    """Append ``data`` (taken from ``queue``) to its dead-letter list; the error to raise."""
    target = dead_letters_name(queue)

    async def append() -> None:
        await lowlevel.backend(cluster).list(target).append(data)

    return await store_again(
        append, data, error, target, f"an item taken from queue {queue!r} could not be decoded"
    )


async def store_again(
    store: Callable[[], Awaitable[None]],
    data: bytes,
    error: SerializationError,
    where: str,
    what: str,
) -> UndecodableError:
    """Run ``store`` (which stores ``data`` into ``where``); return the error to raise.

    ``what`` says what happened ("an item of queue 'q' could not be decoded").
    """
    try:
        await store()
    except HazelkitError as failure:
        logger.error("%s and could not be stored again (%s): it is lost", what, failure)
        message = f"{what} ({error}); storing it again failed, its bytes are only in .data"
        return UndecodableError(message, data=data, stored_in=None)
    logger.warning("%s (%s): its bytes are in %r", what, error, where)
    message = f"{what} ({error}); its bytes are in {where!r} (and in .data)"
    return UndecodableError(message, data=data, stored_in=where)


def try_decode(decode: Callable[[bytes], Any], data: bytes) -> tuple[bool, Any]:
    """``(True, decode(data))``, or ``(False, None)`` if the bytes cannot be decoded."""
    try:
        return True, decode(data)
    except SerializationError:
        return False, None
