"""One worker process of the nemesis test (``test_nemesis.py``); not a test itself.

Run as ``python nemesis_worker.py CONFIG_JSON``. It connects one Cluster, subscribes to
the reliable topic from its oldest message, creates the file ``ready``, then runs at
most ``iterations`` iterations (fewer if the file ``stop`` appears) of:

- ``atom.swap(+1)`` and ``counter.add(1)``;
- a read-modify-write of a map entry under a lock;
- ``queue.put`` of an item with a unique id, then ``queue.poll`` of whatever is there;
- ``reliable_topic.publish([worker, n])``.

Every call is recorded with its outcome: ``ok``; ``not_applied`` (ClusterUnavailableError
or OperationTimeoutError: retried, with ``gave_up`` after RETRY_FOR seconds of them);
``unknown`` (IndeterminateOperationError: recorded, never retried); ``other`` (any other
hazelkit error). Then it publishes an end marker ``[worker, -1]``, waits until its
subscriber has seen every worker's marker (bounded), and writes its record as JSON.
"""

from __future__ import annotations

import asyncio
import functools
import json
import random
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import hazelkit

NOT_APPLIED = (hazelkit.ClusterUnavailableError, hazelkit.OperationTimeoutError)
RETRY_FOR = 90.0  # seconds of "not applied" failures in a row before giving up
RETRY_PAUSE = 0.1
SUBSCRIBER_GRACE = 90.0  # seconds the subscriber may take to see every end marker
MAX_ERRORS = 40  # error messages kept per outcome


class Record:
    """Per operation: how many calls ended how; a sample of the error messages."""

    def __init__(self) -> None:
        self.counts: dict[str, dict[str, int]] = {}
        self.errors: list[str] = []

    def count(self, operation: str, outcome: str, error: BaseException | None = None) -> None:
        per_op = self.counts.setdefault(operation, {})
        per_op[outcome] = per_op.get(outcome, 0) + 1
        if error is not None and len(self.errors) < MAX_ERRORS:
            self.errors.append(
                f"{time.time():.3f} {operation} {outcome}: {type(error).__name__}: {error}"[:400]
            )

    async def call(self, operation: str, make: Callable[[], Awaitable[Any]]) -> tuple[str, Any]:
        """Call ``make()`` until it is applied, unknown or fails otherwise; return
        ``(outcome, result)``. Only "not applied" failures are retried."""
        deadline = time.monotonic() + RETRY_FOR
        while True:
            try:
                result = await make()
            except hazelkit.IndeterminateOperationError as error:
                self.count(operation, "unknown", error)
                return "unknown", None
            except NOT_APPLIED as error:
                self.count(operation, "not_applied", error)
                if time.monotonic() > deadline:
                    self.count(operation, "gave_up", error)
                    return "gave_up", None
                await asyncio.sleep(RETRY_PAUSE)
                continue
            except hazelkit.HazelkitError as error:
                self.count(operation, "other", error)
                return "other", None
            self.count(operation, "ok")
            return "ok", result


def increment(value: int) -> int:
    return value + 1


async def run(config: dict[str, Any]) -> dict[str, Any]:
    worker: int = config["worker"]
    prefix: str = config["prefix"]
    folder = Path(config["folder"])
    random.seed(config["seed"] * 1000 + worker)
    record = Record()
    puts: dict[str, str] = {}  # queue item id -> outcome of its put
    taken: list[str] = []  # item ids this worker took from the queue
    published: dict[int, str] = {}  # message number -> outcome of its publish
    received: list[list[int]] = []  # [publisher, number] in the order received
    subscriber_end: list[str] = []
    async with hazelkit.connect(config["url"], connect_timeout=30) as cluster:
        atom = cluster.atom(f"{prefix}-atom", initial=0)
        counter = cluster.counter(f"{prefix}-counter")
        lock = cluster.lock(f"{prefix}-lock", lease=15)
        guarded = cluster.map(f"{prefix}-guarded")
        queue = cluster.queue(f"{prefix}-queue")
        topic = cluster.reliable_topic(
            f"{prefix}-topic", capacity=config["topic_capacity"], publish_timeout=60
        )
        subscription = topic.subscribe("oldest")
        await subscription

        async def consume() -> None:
            ended: set[int] = set()
            try:
                async for message in subscription:
                    publisher, number = message.value
                    received.append([publisher, number])
                    if number == -1:
                        ended.add(publisher)
                        if len(ended) == config["workers"]:
                            return
            except hazelkit.HazelkitError as error:
                subscriber_end.append(f"{type(error).__name__}: {error}")

        async def locked_increment() -> None:
            outcome, _ = await record.call("lock.acquire", lambda: lock.acquire(timeout=30))
            if outcome != "ok":
                return
            try:
                outcome, value = await record.call("guarded.get", lambda: guarded.get("n", 0))
                if outcome != "ok":
                    return
                if not lock.held:  # the lease may have lapsed during an outage
                    record.count("guarded.put", "skipped_lease_lost")
                    return
                await record.call("guarded.put", lambda: guarded.put("n", value + 1))
            finally:
                try:
                    await lock.release()
                    record.count("lock.release", "ok")
                except hazelkit.HazelkitError as error:
                    record.count("lock.release", type(error).__name__, error)

        reader = asyncio.create_task(consume())
        (folder / f"ready-{worker}").touch()
        began = time.monotonic()
        iterations = 0
        for number in range(config["iterations"]):
            if (folder / "stop").exists():
                break
            iterations += 1
            await record.call("atom.swap", lambda: atom.swap(increment))
            await record.call("counter.add", lambda: counter.add(1))
            await locked_increment()
            item = f"{worker}-{number}"
            puts[item], _ = await record.call(
                "queue.put", functools.partial(queue.put, item, timeout=10)
            )
            outcome, got = await record.call("queue.poll", lambda: queue.poll(timeout=1))
            if outcome == "ok" and got is not None:
                taken.append(got)
            published[number], _ = await record.call(
                "topic.publish", functools.partial(topic.publish, [worker, number])
            )
        seconds = time.monotonic() - began
        await record.call("topic.publish", lambda: topic.publish([worker, -1]))
        try:
            await asyncio.wait_for(reader, SUBSCRIBER_GRACE)
        except TimeoutError:
            subscriber_end.append(f"did not see every end marker within {SUBSCRIBER_GRACE} s")
        await subscription.aclose()
    return {
        "worker": worker,
        "iterations": iterations,
        "seconds": seconds,
        "counts": record.counts,
        "errors": record.errors,
        "puts": puts,
        "taken": taken,
        "published": published,
        "received": received,
        "subscriber_end": subscriber_end,
    }


def main() -> None:
    config = json.loads(sys.argv[1])
    result = asyncio.run(run(config))
    out = Path(config["folder"]) / f"result-{config['worker']}.json"
    out.write_text(json.dumps(result), encoding="utf-8")
    print(f"worker {config['worker']}: {result['iterations']} iterations", flush=True)


if __name__ == "__main__":
    main()
