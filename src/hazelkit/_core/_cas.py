"""Optimistic updates of one map entry: read the bytes, compute, compare-and-set, retry.

Every atomic read-modify-write of hazelkit's structures (``Map.compute``, ``Atom.swap``,
``Counter.add``) is this loop. The write compares against the *exact bytes* that were
read (``replace_if_same``/``remove_if_same``, or ``put_if_absent`` when the entry was
absent), never a re-encoding, so it succeeds only if nobody wrote in between; a loser
backs off for a short random time and tries again with what it reads then.

Updates of one entry through one Cluster take turns (a local lock per entry being
updated), so they never race each other on the grid: only updates from other nodes can
make an attempt lose, and many tasks of one node swapping one atom cost no more grid
calls than one task doing the same number of swaps.

A write whose reply is lost (IndeterminateOperationError) is never simply retried. For
*witnessed* entries (hazelkit's own records: atoms, counters, latches, the runtime's
state; see :mod:`._witness`) the loop reads the record back and knows whether its write
landed: applied, it returns; not applied, it goes round again; unknown, it raises.
For other entries (a user's map, through ``Map.compute``) the error goes to the caller.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import random
import time
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Final, TypeVar

from hazelkit._backends.protocol import MapStore
from hazelkit._core import _witness as witness
from hazelkit._core._exceptions import (
    ArgumentError,
    ClusterUnavailableError,
    ConflictError,
    IndeterminateOperationError,
    OperationTimeoutError,
)
from hazelkit._core._handle import check_count
from hazelkit._core._local import ClusterLocal

if TYPE_CHECKING:
    from hazelkit._core._cluster import Cluster

__all__ = [
    "UNCHANGED",
    "Unchanged",
    "backoff",
    "check_attempts",
    "local_turn",
    "plain_result",
    "update_entry",
    "write_if_same",
]

T = TypeVar("T")

#: The longest pause between two attempts, in seconds.
MAX_BACKOFF: Final = 0.05


class Unchanged:
    """What a transform returns to end the loop without writing."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED: Final = Unchanged()

Transform = Callable[[bytes | None], "bytes | Unchanged | None"]


def check_attempts(max_attempts: int | None) -> int | None:
    """Validate a ``max_attempts`` option (None: retry until the update wins)."""
    return check_count(max_attempts, "max_attempts", optional=True)


def plain_result(result: T, what: str) -> T:
    """``result``, unless it is awaitable: ``what`` (a swap or compute function, a
    validator) ran inside a compare-and-set loop, which cannot wait for it, so it must
    be a plain function. Raises ArgumentError (closing a coroutine, so no warning)."""
    if inspect.isawaitable(result):
        if inspect.iscoroutine(result):
            result.close()
        raise ArgumentError(f"{what} must be a plain function; it returned an awaitable")
    return result


async def backoff(attempt: int) -> None:
    """Pause after losing the ``attempt``-th race: a random time growing to 50 ms.

    The randomness spreads competing writers apart so that one of them wins soon.
    """
    if attempt == 0:
        await asyncio.sleep(0)
        return
    ceiling = min(MAX_BACKOFF, 0.001 * 2**attempt)
    await asyncio.sleep(random.uniform(0, ceiling))  # noqa: S311 - jitter, not secrecy


async def write_if_same(store: MapStore, key: bytes, old: bytes | None, new: bytes | None) -> bool:
    """Write ``new`` (None: remove) only if the entry still holds exactly ``old``."""
    if old is None:
        return new is None or await store.put_if_absent(key, new) is None
    if new is None:
        return await store.remove_if_same(key, old)
    return await store.replace_if_same(key, old, new)


async def update_entry(
    cluster: Cluster,
    store: MapStore,
    key: bytes,
    transform: Transform,
    *,
    max_attempts: int | None = None,
    witnessed: bool = False,
) -> tuple[bytes | None, bytes | None]:
    """Apply ``transform`` to the entry's bytes atomically; returns ``(old, new)`` bytes.

    With ``witnessed``, the entry is stored as a :mod:`._witness` record: ``transform``
    sees and returns the value's bytes, and a lost reply is resolved by reading back
    (IndeterminateOperationError only if that cannot tell).

    ``transform`` gets the stored bytes (None: absent) and returns the bytes to store,
    None to remove the entry, or :data:`UNCHANGED` to stop without writing. It may run
    several times (once per attempt) and must not have side effects; an exception from
    it propagates and nothing is written. After ``max_attempts`` lost races (None:
    no limit) raises ConflictError, and nothing was written by this call. Updates of
    one entry through one ``cluster`` run one at a time, in arrival order.
    """
    async with local_turn(cluster, store.name, key):
        if witnessed:
            return await _update_witnessed(store, key, transform, max_attempts)
        return await _update(store, key, transform, max_attempts)


#: Per Cluster: the entries being updated, each with its lock and number of users.
_turns: ClusterLocal[dict[tuple[str, bytes], tuple[asyncio.Lock, list[int]]]] = ClusterLocal(dict)


@contextlib.asynccontextmanager
async def local_turn(cluster: Cluster, name: str, key: bytes) -> AsyncIterator[None]:
    """Wait until no other task updates entry ``key`` of map ``name`` through ``cluster``."""
    turns = _turns.get(cluster)
    lock, users = turns.setdefault((name, key), (asyncio.Lock(), [0]))
    users[0] += 1
    try:
        async with lock:
            yield
    finally:
        users[0] -= 1
        if users[0] == 0:
            del turns[(name, key)]


async def _update(
    store: MapStore, key: bytes, transform: Transform, max_attempts: int | None
) -> tuple[bytes | None, bytes | None]:
    attempt = 0
    while True:
        old = await store.get(key)
        new = transform(old)
        if isinstance(new, Unchanged):
            return old, old
        if await write_if_same(store, key, old, new):
            return old, new
        attempt = await _lost_race(store, attempt, max_attempts)


async def _lost_race(store: MapStore, attempt: int, max_attempts: int | None) -> int:
    """Count a lost race: ConflictError after ``max_attempts``, else back off."""
    attempt += 1
    if max_attempts is not None and attempt >= max_attempts:
        raise ConflictError(f"update of an entry of {store.name!r} lost {attempt} races in a row")
    await backoff(attempt)
    return attempt


async def _update_witnessed(
    store: MapStore, key: bytes, transform: Transform, max_attempts: int | None
) -> tuple[bytes | None, bytes | None]:
    attempt = 0
    while True:
        raw = await store.get(key)
        record = witness.read(raw)
        new = transform(record.value)
        if isinstance(new, Unchanged):
            return record.value, record.value
        write_id = witness.new_write_id()
        stored = None if new is None else witness.write(new, record, write_id)
        try:
            won = await write_if_same(store, key, raw, stored)
        except IndeterminateOperationError as lost:
            outcome = await _resolve(store, key, raw, record, stored, write_id, lost)
            if outcome is witness.Outcome.APPLIED:
                return record.value, new
            continue  # not applied: the update runs again on what is there now
        if won:
            return record.value, new
        attempt = await _lost_race(store, attempt, max_attempts)


#: How long a lost reply is resolved by reading back (through a reconnection, say)
#: before the caller is told the outcome is unknown.
RESOLVE_TIMEOUT = 30.0


async def _resolve(
    store: MapStore,
    key: bytes,
    raw: bytes | None,
    record: witness.Record,
    stored: bytes | None,
    write_id: bytes,
    lost: IndeterminateOperationError,
) -> witness.Outcome:
    """Read the entry back to learn whether the write ``write_id`` landed; raise ``lost``
    if that cannot be told (or the entry cannot be read within RESOLVE_TIMEOUT)."""
    deadline = time.monotonic() + RESOLVE_TIMEOUT
    while True:
        try:
            current = await store.get(key)
            break
        except (ClusterUnavailableError, OperationTimeoutError, IndeterminateOperationError):
            if time.monotonic() > deadline:
                raise lost from None
            await asyncio.sleep(0.2)
    if stored is None:  # a removal: gone means done, unchanged means not done
        if current is None:
            return witness.Outcome.APPLIED
        outcome = witness.Outcome.NOT_APPLIED if current == raw else witness.Outcome.UNKNOWN
    else:
        outcome = witness.resolve(write_id, record, witness.read(current))
    if outcome is witness.Outcome.UNKNOWN:
        raise lost
    return outcome
