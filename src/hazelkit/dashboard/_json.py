"""What the dashboard's endpoints answer: frames and workflows as plain JSON values.

A workflow's ``node`` is the node that holds its partition's lease now (it moves at once
on a failover); its ``owner`` is the node that committed its state last.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from hazelkit._observe._workflow_commands import snapshot_json
from hazelkit._runtime._hashing import partition_of

if TYPE_CHECKING:
    from hazelkit._observe._report import ClusterReport
    from hazelkit.dashboard._watch import Frame
    from hazelkit.workflows import WorkflowSnapshot

__all__ = ["Places", "frame_json", "workflow_json", "workflow_rows"]

#: The most rows one workflow listing returns.
MAX_ROWS = 500


class Places:
    """Where workflows are in one report: their partition and the node holding its lease
    (None, None when their space is unknown to the report)."""

    def __init__(self, report: ClusterReport) -> None:
        self._shapes = report.spaces
        self._owners = {(view.space, view.partition): view.owner for view in report.partitions}

    def of(self, snapshot: WorkflowSnapshot) -> tuple[int | None, str | None]:
        """The partition of ``snapshot``'s workflow and the node holding it now."""
        space = f"workflow:{snapshot.type}"
        shape = self._shapes.get(space)
        if shape is None:
            return None, None
        partition = partition_of(snapshot.id, shape.partitions)
        return partition, self._owners.get((space, partition))


def workflow_json(report: ClusterReport | None, snapshot: WorkflowSnapshot) -> dict[str, Any]:
    """One workflow as last committed, with where it runs now (by ``report``; None:
    not known yet)."""
    partition, node = (None, None) if report is None else Places(report).of(snapshot)
    return {**snapshot_json(snapshot), "partition": partition, "node": node}


def frame_json(frame: Frame, *, actions: bool) -> dict[str, Any]:
    """A frame as the page reads it: the ``hazelkit inspect --json`` report, workflow
    totals by status, the recent ownership changes (with how many workflows each moved),
    and whether actions are enabled."""
    statuses = Counter(snapshot.status.value for snapshot in frame.workflows)
    places = Places(frame.report)
    in_partition = Counter(
        (f"workflow:{snapshot.type}", places.of(snapshot)[0]) for snapshot in frame.workflows
    )
    return {
        **frame.report.to_json(),
        "frame": frame.number,
        "error": frame.error,
        "actions": actions,
        "workflow_statuses": dict(sorted(statuses.items())),
        "workflow_total": len(frame.workflows),
        "changes": [
            {**asdict(change), "workflows": in_partition[(change.space, change.partition)]}
            for change in reversed(frame.changes)
        ],
    }


def workflow_rows(
    frame: Frame, *, search: str = "", status: str = "", type_name: str = "", limit: int = 100
) -> dict[str, Any]:
    """The workflows of ``frame`` whose id contains ``search`` (case-insensitive), in
    ``status`` and of ``type_name`` (empty: any), sorted by id: the first ``limit``
    (at most MAX_ROWS), and how many matched."""
    needle = search.casefold()
    matched = sorted(
        (
            s
            for s in frame.workflows
            if needle in s.id.casefold()
            and (not status or s.status.value == status)
            and (not type_name or s.type == type_name)
        ),
        key=lambda s: s.id,
    )
    places = Places(frame.report)
    rows = [_row(places, s) for s in matched[: max(0, min(limit, MAX_ROWS))]]
    return {"frame": frame.number, "matched": len(matched), "workflows": rows}


def _row(places: Places, snapshot: WorkflowSnapshot) -> dict[str, Any]:
    partition, node = places.of(snapshot)
    return {
        "id": snapshot.id,
        "type": snapshot.type,
        "status": snapshot.status.value,
        "node": node,
        "partition": partition,
        "owner": snapshot.owner,
        "messages_applied": snapshot.messages_applied,
        "updated": snapshot.updated.isoformat(),
        "error": snapshot.error,
    }
