"""Workflows: durable state machines, each applied by one node at a time.

    from hazelkit.workflows import Workflow, Context

    class Counter(Workflow):
        name = "demo.counter"      # how every node finds the definition (nothing is pickled)
        version = 1

        def initial(self, args):
            return {"total": args or 0}

        async def handle(self, ctx: Context, state, message):
            return {"total": state["total"] + message}

    async with cluster.workflows.host(Counter):          # this process is now a node
        await cluster.workflows.start(Counter, "c-1", 10)
        await cluster.workflows.send("c-1", 5)
        print((await cluster.workflows.get("c-1")).state)

Guarantees (each tested on the embedded grid and on Hazelcast):

- **Effectively once.** A message whose ``send`` returned changes its workflow's state
  exactly once, through node crashes, graceful handoffs and the loss of a Hazelcast member
  (with one backup): state, the applied inbox sequence and the outbox are one
  compare-and-set. Side effects a handler performs itself may repeat after a crash: give
  them ``ctx.idempotency_key``.
- **One owner.** At most one node applies a workflow's messages at a time: a lease with
  an epoch fences every commit, and a node paused past its lease stops by itself.
- **Failover** within about ``lease + 2`` seconds after a node dies; a graceful leave
  hands off with no gap beyond the message in hand.
- **No silent loss.** A full inbox makes ``send`` wait or fail; it never overwrites.
- **Poison messages** are retried, then pause only their workflow, kept for
  ``resume``/``skip``; an undecodable message does the same, bytes kept.
- **Timers** live in the state record, survive failover, and fire once (late if no node
  owned the workflow when they fell due).
- **Versions.** A node with a newer definition migrates older states (``migrate``); one
  with an older definition never loads a newer state, and work moves to the newest nodes.

Under a backlog, commits are grouped: up to 32 messages of one workflow that only change
its state are committed by one compare-and-set, all or none. Readers (``get``, ``wait``)
see one change per commit, so they may not see every intermediate state.
"""

from hazelkit._core._public import publish as _publish
from hazelkit._runtime._record import Status as WorkflowStatus
from hazelkit.workflows._client import (
    Hosting,
    Transition,
    WorkflowHandle,
    Workflows,
    WorkflowSnapshot,
)
from hazelkit.workflows._context import Context
from hazelkit.workflows._definition import Workflow, on, on_timer

__all__ = [
    "Context",
    "Hosting",
    "Transition",
    "Workflow",
    "WorkflowHandle",
    "WorkflowSnapshot",
    "WorkflowStatus",
    "Workflows",
    "on",
    "on_timer",
]

_publish(__name__, globals(), __all__)
