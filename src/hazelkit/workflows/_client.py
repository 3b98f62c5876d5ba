"""``cluster.workflows``: start, message, watch and run workflows from any node."""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import datetime
import time
from collections.abc import AsyncIterator, Callable, Collection
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from hazelkit._core import _lowlevel as lowlevel
from hazelkit._core._exceptions import (
    ArgumentError,
    EntityFailedError,
    NoSuchEntityError,
    OperationTimeoutError,
)
from hazelkit._runtime._client import EntityClient
from hazelkit._runtime._entities import host_entities
from hazelkit._runtime._host import HostedSpace, host_of
from hazelkit._runtime._leases import LeaseRecord
from hazelkit._runtime._record import EntityRecord, Status
from hazelkit._runtime._space import SpaceShape
from hazelkit.workflows._context import WorkflowBehavior
from hazelkit.workflows._definition import Workflow

if TYPE_CHECKING:
    from hazelkit._core._cluster import Cluster

__all__ = ["Hosting", "Transition", "WorkflowHandle", "WorkflowSnapshot", "Workflows"]

WorkflowStatus = Status
RECORDS_MAP = "hazelkit.workflows"
FINISHED = frozenset({Status.COMPLETED, Status.FAILED, Status.TERMINATED})
Until = Status | str | Collection[Status | str] | Callable[["WorkflowSnapshot"], bool]


@dataclass(frozen=True, slots=True)
class Transition:
    """One entry of a workflow's history: what was applied, when, and the status after."""

    at: datetime.datetime
    sequence: int  #: the inbox sequence (-1 for a timer or a held message)
    what: str
    status: str


@dataclass(frozen=True, slots=True)
class WorkflowSnapshot:
    """A workflow as last committed, readable from any node or client."""

    id: str
    type: str
    version: int
    status: Status
    state: Any
    result: Any
    error: str | None  #: the last error (why it paused, failed or was terminated)
    messages_applied: int
    last_sequence: int  #: the last inbox sequence applied
    owner: str | None  #: the node that committed last
    epoch: int  #: the lease epoch of that commit
    timers: dict[str, datetime.datetime]
    held: int  #: messages held while paused (the first one failed)
    topics: dict[str, int]  #: reliable topics it subscribes to: the next sequence of each
    waiting_for_version: int | None  #: set while no node runs a new enough definition
    created: datetime.datetime
    updated: datetime.datetime

    @classmethod
    def of(cls, record: EntityRecord) -> WorkflowSnapshot:
        return cls(
            id=record.id,
            type=record.type,
            version=record.version,
            status=record.status,
            state=record.state,
            result=record.result,
            error=record.error,
            messages_applied=record.count,
            last_sequence=record.applied,
            owner=record.owner,
            epoch=record.epoch,
            timers={name: _utc(due) for name, due in record.timers.items()},
            held=len(record.held),
            topics=dict(record.topics),
            waiting_for_version=record.waiting_for_version,
            created=_utc(record.created),
            updated=_utc(record.updated),
        )


def _utc(timestamp: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(timestamp, datetime.UTC)


class Hosting:
    """This Cluster hosting some workflow definitions, as a node (see
    :meth:`Workflows.host`). Use ``async with``, or ``await start()`` and ``stop()``."""

    def __init__(
        self,
        workflows: Workflows,
        definitions: tuple[type[Workflow], ...],
        *,
        lease: float,
        shape: SpaceShape | None,
    ) -> None:
        self._workflows = workflows
        self._definitions = definitions
        self._lease = lease
        self._shape = shape
        self._hosted: list[HostedSpace] = []

    async def start(self) -> Self:
        """Begin hosting; ConfigurationError if a space runs with another shape."""
        cluster, client = self._workflows._cluster, self._workflows._client
        for definition in self._definitions:
            behavior = WorkflowBehavior(definition())
            hosted = await host_entities(
                cluster, behavior, client, lease=self._lease, shape=self._shape
            )
            self._hosted.append(hosted)
        return self

    async def stop(self) -> None:
        """Hand every partition off gracefully and stop hosting (idempotent)."""
        cluster = self._workflows._cluster
        hosted, self._hosted = self._hosted, []
        if cluster.closed:
            return  # closing handed everything off already (or it crashed: nothing to do)
        host = host_of.get(cluster)
        for space in hosted:
            await host.remove(space)

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def node(self) -> str | None:
        """This node's id (as snapshots name it in ``owner``), once started."""
        host = host_of.peek(self._workflows._cluster)
        return None if host is None or host.registry is None else host.registry.id

    def partitions(self) -> dict[str, list[int]]:
        """The partitions this node applies now, per workflow type (a snapshot)."""
        return {hosted.name.partition(":")[2]: hosted.held() for hosted in self._hosted}


class Workflows:
    """The workflows of a Cluster (``cluster.workflows``); see the module docs of
    :mod:`hazelkit.workflows` for the guarantees."""

    def __init__(self, cluster: Cluster) -> None:
        self._cluster = cluster
        self._client = EntityClient(cluster, "workflow", RECORDS_MAP)

    def host(
        self,
        *definitions: type[Workflow],
        lease: float = 5.0,
        partitions: int | None = None,
        inbox_capacity: int | None = None,
    ) -> Hosting:
        """Make this Cluster a node running workflows of these types (any number of
        nodes share the work). ``lease``: seconds after which the work of a node that died
        moves to the others (failover within about ``lease + 2`` s). ``partitions`` and
        ``inbox_capacity`` fix the shape of a type's space the first time it is used
        (defaults 16 and 10,000); every node must agree."""
        for definition in definitions:
            if not (isinstance(definition, type) and issubclass(definition, Workflow)):
                raise ArgumentError(f"host() takes Workflow classes, not {definition!r}")
        shape = None
        if partitions is not None or inbox_capacity is not None:
            shape = SpaceShape(partitions or 16, inbox_capacity or 10_000)
        return Hosting(self, definitions, lease=lease, shape=shape)

    async def start(
        self, workflow: type[Workflow] | str, workflow_id: str, args: Any = None
    ) -> WorkflowHandle:
        """Start workflow ``workflow_id`` of type ``workflow`` (a class or its name) with
        ``args`` for its ``initial``; returns once stored. Starting an id that exists
        with the same type changes nothing; with another type it raises
        ConfigurationError."""
        type_name = workflow if isinstance(workflow, str) else workflow.name
        await self._client.create(type_name, workflow_id, args)
        return WorkflowHandle(self, workflow_id)

    async def send(
        self, workflow_id: str, message: Any, *, key: str | None = None, timeout: float = 30.0
    ) -> None:
        """Store ``message`` for the workflow; returns once it is durably in its inbox.

        It changes the workflow's state exactly once, through crashes and failover. A
        send retried with the same ``key`` (after an error that left you unsure) is
        applied once (within the workflow's last 128 messages). Waits up to ``timeout``
        for room when the inbox is full (CapacityError after); NoSuchEntityError if the
        workflow was never started."""
        await self._client.send(workflow_id, message, key=key, timeout=timeout)

    async def get(self, workflow_id: str) -> WorkflowSnapshot:
        """The workflow as last committed (NoSuchEntityError if there is none)."""
        record = await self._client.read(workflow_id)
        if record is None:
            raise NoSuchEntityError(f"no workflow {workflow_id!r}")
        return WorkflowSnapshot.of(record)

    async def wait(
        self, workflow_id: str, until: Until = FINISHED, *, timeout: float = 30.0
    ) -> WorkflowSnapshot:
        """Wait until the workflow satisfies ``until`` (a status, several, or a predicate
        of its snapshot; default: finished) and return that snapshot.
        OperationTimeoutError after ``timeout`` seconds."""
        check = _condition(until)
        wake = asyncio.Event()
        store = lowlevel.backend(self._cluster).map(RECORDS_MAP)
        key = self._cluster.codec.encode_key(workflow_id)
        registration = await store.listen(lambda _event: wake.set(), key=key, include_values=False)
        deadline = time.monotonic() + timeout
        try:
            while True:
                wake.clear()
                snapshot = await self.get(workflow_id)
                if check(snapshot):
                    return snapshot
                left = deadline - time.monotonic()
                if left <= 0:
                    raise OperationTimeoutError(
                        f"workflow {workflow_id!r} is {snapshot.status.value}, not as awaited,"
                        f" after {timeout:g} s"
                    )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), min(left, 1.0))
        finally:
            await registration.close()

    async def result(self, workflow_id: str, *, timeout: float = 30.0) -> Any:
        """The result of the workflow once completed; EntityFailedError if it failed or
        was terminated, OperationTimeoutError after ``timeout`` seconds."""
        snapshot = await self.wait(workflow_id, FINISHED, timeout=timeout)
        if snapshot.status is not Status.COMPLETED:
            raise EntityFailedError(
                f"workflow {workflow_id!r} {snapshot.status.value}: {snapshot.error}",
                status=snapshot.status.value,
                reason=snapshot.error,
            )
        return snapshot.result

    async def list(
        self, type: type[Workflow] | str | None = None, status: Status | str | None = None
    ) -> AsyncIterator[WorkflowSnapshot]:
        """Every workflow (of ``type``, in ``status``), from one snapshot of the records.
        It reads them all: meant for tools and modest numbers."""
        wanted_type = type if isinstance(type, str) or type is None else type.name
        wanted_status = None if status is None else Status(status)
        async for record in self._client.records():
            if wanted_type is not None and record.type != wanted_type:
                continue
            if wanted_status is not None and record.status is not wanted_status:
                continue
            yield WorkflowSnapshot.of(record)

    async def history(self, workflow_id: str) -> builtins.list[Transition]:
        """The workflow's last transitions (``history_limit`` of its definition), oldest
        first."""
        record = await self._client.read(workflow_id)
        if record is None:
            raise NoSuchEntityError(f"no workflow {workflow_id!r}")
        return [Transition(_utc(at), seq, what, status) for at, seq, what, status in record.history]

    async def terminate(self, workflow_id: str, reason: str = "", *, timeout: float = 30.0) -> None:
        """End the workflow as terminated (after the messages stored before this one)."""
        await self._control(workflow_id, "terminate", reason, timeout)

    async def resume(self, workflow_id: str, *, timeout: float = 30.0) -> None:
        """Run a paused workflow again, from the message that failed."""
        await self._control(workflow_id, "resume", "", timeout)

    async def skip(self, workflow_id: str, reason: str, *, timeout: float = 30.0) -> None:
        """Drop the message a paused workflow failed on (``reason`` is recorded in its
        history), then run it again from the next one."""
        await self._control(workflow_id, "skip", reason, timeout)

    async def _control(self, workflow_id: str, kind: str, reason: str, timeout: float) -> None:
        await self._client.send(workflow_id, reason, key=None, timeout=timeout, kind=kind)

    async def owners(self, type: type[Workflow] | str) -> dict[int, LeaseRecord]:
        """Who holds each partition of a workflow type's space now (for tools)."""
        from hazelkit._runtime._leases import PartitionLeases

        type_name = type if isinstance(type, str) else type.name
        space = self._client.space(type_name)
        shape = await space.fix_shape()
        leases = PartitionLeases(self._cluster, space.name, shape.partitions, 5.0, "")
        found = await leases.read_all()
        result = {}
        for partition, raw in found.items():
            record = leases._decode(raw)
            if record is not None:
                result[partition] = record
        return result


class WorkflowHandle:
    """One workflow, by id: a shortcut to the :class:`Workflows` methods."""

    def __init__(self, workflows: Workflows, workflow_id: str) -> None:
        self._workflows = workflows
        self.id = workflow_id

    async def send(self, message: Any, *, key: str | None = None, timeout: float = 30.0) -> None:
        """See :meth:`Workflows.send`."""
        await self._workflows.send(self.id, message, key=key, timeout=timeout)

    async def get(self) -> WorkflowSnapshot:
        """See :meth:`Workflows.get`."""
        return await self._workflows.get(self.id)

    async def wait(self, until: Until = FINISHED, *, timeout: float = 30.0) -> WorkflowSnapshot:
        """See :meth:`Workflows.wait`."""
        return await self._workflows.wait(self.id, until, timeout=timeout)

    async def result(self, *, timeout: float = 30.0) -> Any:
        """See :meth:`Workflows.result`."""
        return await self._workflows.result(self.id, timeout=timeout)

    def __repr__(self) -> str:
        return f"<WorkflowHandle {self.id!r}>"


def _condition(until: Until) -> Callable[[WorkflowSnapshot], bool]:
    if callable(until) and not isinstance(until, Status | str):
        return until
    statuses = {Status(until)} if isinstance(until, Status | str) else {Status(s) for s in until}
    return lambda snapshot: snapshot.status in statuses
