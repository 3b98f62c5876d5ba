"""``hazelkit inspect`` for people: a :class:`ClusterReport` as rich tables."""

from __future__ import annotations

import datetime
from collections.abc import Iterator

from rich.console import Console, RenderableType
from rich.table import Table

from hazelkit._observe._report import ClusterReport

__all__ = ["render_report"]


def render_report(report: ClusterReport, console: Console) -> None:
    """Print ``report`` as tables (a section is left out when it has nothing to show)."""
    console.print(f"cluster {report.url} at {_clock(report.taken_at)}", markup=False)
    for table in _tables(report):
        console.print(table)


def _tables(report: ClusterReport) -> Iterator[RenderableType]:
    yield _members(report)
    yield _nodes(report)
    if report.partitions:
        yield _partitions(report)
    if report.workflows or report.agents:
        yield _entities(report)
    if report.leases:
        yield _leases(report)
    yield _structures(report)


def _table(title: str, *columns: str) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold")
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


def _members(report: ClusterReport) -> Table:
    table = _table(f"members ({len(report.members)})", "uuid", "address")
    for member in report.members:
        table.add_row(member.uuid, member.address)
    return table


def _nodes(report: ClusterReport) -> Table:
    table = _table(
        f"hazelkit nodes ({len(report.nodes)})",
        "node", "where", "hosting (version: partitions held)", "since", "heartbeat",
    )  # fmt: skip
    for node in report.nodes:
        held = report.partitions_of(node.id)
        hosting = ", ".join(
            f"{space} v{version}: {len(held.get(space, []))}"
            for space, version in sorted(node.spaces.items())
        )
        table.add_row(
            node.id,
            f"{node.host}:{node.pid}",
            hosting or "-",
            _clock(node.started),
            _ago(report.taken_at - node.heartbeat),
        )
    return table


def _partitions(report: ClusterReport) -> Table:
    table = _table("partitions", "space", "partition", "owner", "epoch", "since", "inbox")
    for view in report.partitions:
        table.add_row(
            view.space,
            str(view.partition),
            view.owner or "(free)",
            str(view.epoch),
            _clock(view.since) if view.since else "-",
            "-" if view.inbox_depth is None else str(view.inbox_depth),
        )
    return table


def _entities(report: ClusterReport) -> Table:
    table = _table("workflows and agents", "family", "type", "status", "count")
    for family, counts in (("workflow", report.workflows), ("agent", report.agents)):
        for (type_name, status), count in counts.items():
            table.add_row(family, type_name, status, str(count))
    return table


def _leases(report: ClusterReport) -> Table:
    table = _table("leases held", "kind", "name", "slot", "holder", "token", "held for", "lease")
    for lease in report.leases:
        table.add_row(
            lease.kind,
            lease.name,
            str(lease.slot),
            lease.holder,
            str(lease.token),
            _ago(report.taken_at - lease.since),
            "-" if lease.lease is None else f"{lease.lease:g} s",
        )
    return table


def _structures(report: ClusterReport) -> Table:
    table = _table(f"structures ({len(report.structures)})", "kind", "name", "size")
    for view in report.structures:
        table.add_row(view.kind, view.name, "-" if view.size is None else str(view.size))
    return table


def _clock(timestamp: float) -> str:
    moment = datetime.datetime.fromtimestamp(timestamp, datetime.UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _ago(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 120:
        return f"{seconds:.1f} s ago"
    return f"{seconds / 60:.0f} min ago"
