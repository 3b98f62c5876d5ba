"""Once per cluster: a step that runs on one node, whose outcome every node gets.

The protocol, for a step called NAME (records in the map ``hazelkit.once``):

1. Read the record of NAME. If there is one, it is the outcome: done (with the
   result) or failed (with the error, as a message).
2. Take the lock ``hazelkit.once/NAME`` (a lease with a fencing token; the lease of a
   node that dies lapses, and the lock is free again).
3. Read the record again: the node that held the lock before may have recorded it.
4. Run the step, and record its outcome with ``put_if_absent`` *before* releasing the
   lock. Then release.

So a step runs once and every caller, on every node, gets the same outcome. A step
runs again only if the node running it died (or lost the cluster, or stalled past its
lease) before recording: steps must be idempotent, as migrations are. If a node stalled
past its lease and another ran the step meanwhile, the record written first wins, and
both callers get it.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from hazelkit._core._exceptions import ComponentError, HazelkitError, SerializationError
from hazelkit._core._handle import check_name
from hazelkit.components._health import describe

if TYPE_CHECKING:
    from hazelkit._coordination._lock import Lock
    from hazelkit._core._cluster import Cluster
    from hazelkit._structures._map import Map

__all__ = ["ONCE_MAP", "forget_once", "node_name", "once", "release_quietly"]

#: The map holding the outcome of every step run once, by step name.
ONCE_MAP = "hazelkit.once"

logger = logging.getLogger("hazelkit")


async def once(
    cluster: Cluster,
    name: str,
    step: Callable[[], Awaitable[Any]],
    *,
    lease: float = 30.0,
    timeout: float | None = None,
) -> Any:
    """Run ``await step()`` once in the whole cluster; return its result on every node.

    However many nodes call ``once`` with the same ``name``, at the same moment or
    years apart, one of them runs ``step`` and records its outcome; the others wait
    for it (on a lock with ``lease`` seconds) and get the same outcome: its result,
    which must be encodable by the cluster's codec, or ComponentError carrying its
    error as a message (``error``; on the node that ran it, the original is the
    ``__cause__``). A failure is recorded like a result: call :func:`forget_once` to
    let the step run again.

    The step runs again only if its node died (or stalled past ``lease``) before
    recording its outcome, so write it to be idempotent. Raises OperationTimeoutError
    if the lock is not free within ``timeout`` seconds (None: wait as long as it takes).
    """
    check_name(name, "once step")
    records = cluster.map(ONCE_MAP)
    if (record := await records.get(name)) is not None:
        return _outcome(name, record)
    lock = cluster.lock(f"{ONCE_MAP}/{name}", lease=lease)
    token = await lock.acquire(timeout)
    try:
        if (record := await records.get(name)) is not None:
            return _outcome(name, record)
        return _outcome(name, await _run(records, name, step, token))
    finally:
        await release_quietly(lock)


async def forget_once(cluster: Cluster, name: str, *, timeout: float | None = None) -> None:
    """Remove the recorded outcome of step ``name``, so that the next :func:`once`
    runs it again (after a failure was fixed, say). Waits for a run under way to end;
    raises OperationTimeoutError if it does not within ``timeout`` seconds."""
    check_name(name, "once step")
    lock = cluster.lock(f"{ONCE_MAP}/{name}")
    await lock.acquire(timeout)
    try:
        await cluster.map(ONCE_MAP).delete(name)
    finally:
        await release_quietly(lock)


async def _run(
    records: Map[Any, Any], name: str, step: Callable[[], Awaitable[Any]], token: int
) -> Any:
    """Run the step and record its outcome; return the record that won."""
    error: Exception | None = None
    try:
        result = await step()
        record = {"status": "done", "result": result}
    except Exception as failure:
        error = failure
        record = {"status": "failed", "error": describe(failure)}
    record |= {"node": node_name(), "token": token, "at": time.time()}
    try:
        stored = await records.put_if_absent(name, record)
    except SerializationError as unencodable:  # the result: record that instead
        error = unencodable
        record |= {"status": "failed", "error": f"its result cannot be stored: {unencodable}"}
        record.pop("result")
        stored = await records.put_if_absent(name, record)
    if stored is not None:
        logger.warning(
            "step %r ran here and elsewhere (a lease lapsed); the first record won", name
        )
        return stored
    if error is not None:
        record["cause"] = error
    return record


def _outcome(name: str, record: Any) -> Any:
    if not isinstance(record, dict) or record.get("status") not in ("done", "failed"):
        raise ComponentError(f"step {name!r} has an unreadable record: {record!r}", component=name)
    if record["status"] == "done":
        return record.get("result")
    node = record.get("node", "an unknown node")
    error = ComponentError(
        f"step {name!r} failed on {node}: {record['error']}", component=name, error=record["error"]
    )
    raise error from record.get("cause")


def node_name() -> str:
    """This process as recorded in outcomes: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


async def release_quietly(lock: Lock) -> None:
    """Release ``lock``; a lapsed lease or a closed Cluster is only logged, so that it
    never hides the outcome (recorded already) or the error under way."""
    try:
        await lock.release()
    except HazelkitError as error:
        logger.warning("releasing %r: %s", lock, error)
