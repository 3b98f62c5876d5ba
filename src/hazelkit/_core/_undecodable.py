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
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any, Final, TypeVar

from hazelkit._core import _lowlevel as lowlevel
from hazelkit._core._exceptions import HazelkitError, SerializationError, UndecodableError

if TYPE_CHECKING:
    from hazelkit._core._cluster import Cluster

__all__ = [
    "DEAD_LETTERS",
    "dead_letters_name",
    "decode_many",
    "left_in_place",
    "park",
    "store_again",
    "try_decode",
]

R = TypeVar("R")
T = TypeVar("T")

logger = logging.getLogger("hazelkit")

#: The prefix of the dead-letter lists: a queue's undecodable items go to the List
#: ``hazelkit.undecodable/QUEUE``.
DEAD_LETTERS: Final = "hazelkit.undecodable/"


def dead_letters_name(queue: str) -> str:
    """The name of the List where ``queue``'s undecodable items are parked."""
    return DEAD_LETTERS + queue


async def park(
    cluster: Cluster, queue: str, data: bytes, error: SerializationError, *, what: str = ""
) -> UndecodableError:
    """Append ``data`` (taken from ``queue``, or a topic) to its dead-letter list; the
    error to raise. ``what`` says what happened, for the log and the error."""
    target = dead_letters_name(queue)

    async def append() -> None:
        await lowlevel.backend(cluster).list(target).append(data)

    what = what or f"an item taken from queue {queue!r} could not be decoded"
    return await store_again(append, data, error, target, what)


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


def left_in_place(
    what: str, data: bytes, error: SerializationError, where: str
) -> UndecodableError:
    """The error for a value read (not taken) that cannot be decoded: it stays in
    ``where``, untouched."""
    return UndecodableError(
        f"{what} could not be decoded here ({error}); it is left in {where!r}",
        data=data,
        stored_in=where,
    )


def decode_many(
    decode: Callable[[R], T],
    raws: Iterable[R],
    *,
    raw_bytes: Callable[[R], bytes],
    what: str,
    where: str,
    shape: Callable[[list[T]], Any] = list,
) -> list[T]:
    """``[decode(raw) for raw in raws]``; if some cannot be decoded, UndecodableError with
    ``shape(the others)`` as ``partial`` and the rest as ``undecodable`` (all left in
    ``where``)."""
    results: list[T] = []
    bad: list[R] = []
    first: SerializationError | None = None
    for raw in raws:
        try:
            results.append(decode(raw))
        except SerializationError as error:
            bad.append(raw)
            first = first or error
    if first is None:
        return results
    message = (
        f"{len(bad)} of the {what} of {where!r} could not be decoded here (the first: "
        f"{first}); they are left in place, .partial holds the {len(results)} others"
    )
    raise UndecodableError(
        message, data=raw_bytes(bad[0]), stored_in=where, partial=shape(results), undecodable=bad
    ) from first
