"""Workflows without ``await``: ``blocking_cluster.workflows``, delegating every call."""

from __future__ import annotations

import builtins
from types import TracebackType
from typing import TYPE_CHECKING, Any

from hazelkit._blocking._runner import Runner

if TYPE_CHECKING:
    from hazelkit.workflows import (
        Hosting,
        Transition,
        Workflow,
        WorkflowHandle,
        Workflows,
        WorkflowSnapshot,
        WorkflowStatus,
    )
    from hazelkit.workflows._client import Until

__all__ = ["BlockingHosting", "BlockingWorkflows"]


class BlockingHosting:
    """:class:`~hazelkit.workflows.Hosting` from blocking code (``with`` or
    ``start()``/``stop()``): the node runs on the cluster's event loop thread."""

    def __init__(self, run: Runner, hosting: Hosting) -> None:
        self._run = run
        self._hosting = hosting

    def start(self) -> BlockingHosting:
        """Begin hosting (see :meth:`Hosting.start`)."""
        self._run(self._hosting.start)
        return self

    def stop(self) -> None:
        """Hand every partition off and stop hosting (see :meth:`Hosting.stop`)."""
        self._run(self._hosting.stop)

    def partitions(self) -> dict[str, list[int]]:
        """The partitions this node applies now, per workflow type."""
        return self._hosting.partitions()

    def __enter__(self) -> BlockingHosting:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class BlockingWorkflows:
    """:class:`~hazelkit.workflows.Workflows` without ``await``: the same methods, the
    same guarantees."""

    def __init__(self, run: Runner, workflows: Workflows) -> None:
        self._run = run
        self._workflows = workflows

    def host(self, *definitions: type[Workflow], **options: Any) -> BlockingHosting:
        """See :meth:`Workflows.host`."""
        return BlockingHosting(self._run, self._workflows.host(*definitions, **options))

    def start(
        self, workflow: type[Workflow] | str, workflow_id: str, args: Any = None
    ) -> WorkflowHandle:
        """See :meth:`Workflows.start`."""
        return self._run(self._workflows.start, workflow, workflow_id, args)

    def send(
        self, workflow_id: str, message: Any, *, key: str | None = None, timeout: float = 30.0
    ) -> None:
        """See :meth:`Workflows.send`."""
        self._run(self._workflows.send, workflow_id, message, key=key, timeout=timeout)

    def get(self, workflow_id: str) -> WorkflowSnapshot:
        """See :meth:`Workflows.get`."""
        return self._run(self._workflows.get, workflow_id)

    def wait(
        self, workflow_id: str, until: Until | None = None, *, timeout: float = 30.0
    ) -> WorkflowSnapshot:
        """See :meth:`Workflows.wait` (default: until finished)."""
        if until is None:
            return self._run(self._workflows.wait, workflow_id, timeout=timeout)
        return self._run(self._workflows.wait, workflow_id, until, timeout=timeout)

    def result(self, workflow_id: str, *, timeout: float = 30.0) -> Any:
        """See :meth:`Workflows.result`."""
        return self._run(self._workflows.result, workflow_id, timeout=timeout)

    def list(
        self, type: type[Workflow] | str | None = None, status: WorkflowStatus | str | None = None
    ) -> builtins.list[WorkflowSnapshot]:
        """See :meth:`Workflows.list` (here a list, read at once)."""

        async def collect() -> builtins.list[WorkflowSnapshot]:
            return [s async for s in self._workflows.list(type=type, status=status)]

        return self._run(collect)

    def history(self, workflow_id: str) -> builtins.list[Transition]:
        """See :meth:`Workflows.history`."""
        return self._run(self._workflows.history, workflow_id)

    def terminate(self, workflow_id: str, reason: str = "", *, timeout: float = 30.0) -> None:
        """See :meth:`Workflows.terminate`."""
        self._run(self._workflows.terminate, workflow_id, reason, timeout=timeout)

    def resume(self, workflow_id: str, *, timeout: float = 30.0) -> None:
        """See :meth:`Workflows.resume`."""
        self._run(self._workflows.resume, workflow_id, timeout=timeout)

    def skip(self, workflow_id: str, reason: str, *, timeout: float = 30.0) -> None:
        """See :meth:`Workflows.skip`."""
        self._run(self._workflows.skip, workflow_id, reason, timeout=timeout)
