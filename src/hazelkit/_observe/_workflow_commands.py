"""``hazelkit workflows``: list, read and steer workflows from the command line.

Every command works through ``cluster.workflows`` (so from any client, hosting nothing)
and connects to ``--url`` (default ``$HAZELKIT_URL``). ``terminate`` and ``skip`` change a
workflow for good: they ask first unless ``--yes``. Exit codes as for every cluster
command (see :mod:`._connect`).
"""

from __future__ import annotations

import datetime
import json
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from hazelkit._core._exceptions import ConfigurationError
from hazelkit._observe._connect import EXIT_ERROR, EXIT_USAGE, on_cluster
from hazelkit._observe._options import ConnectTimeout, Yes
from hazelkit._runtime._record import Status

if TYPE_CHECKING:
    from hazelkit._core._cluster import Cluster
    from hazelkit.workflows import Transition, WorkflowSnapshot

__all__ = ["snapshot_json", "workflows_app"]

workflows_app = typer.Typer(
    help="List, read and steer workflows (start nothing, host nothing).",
    no_args_is_help=True,
)
console = Console()

UrlOption = Annotated[
    str | None,
    typer.Option(
        "--url",
        "-u",
        metavar="URL",
        envvar="HAZELKIT_URL",
        show_envvar=False,
        help="hazelcast://HOST:PORT?cluster=NAME (default: $HAZELKIT_URL).",
    ),
]
Id = Annotated[str, typer.Argument(metavar="ID", help="The workflow's id.", show_default=False)]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON (for scripts).")]
Timeout = Annotated[
    float, typer.Option(metavar="SECONDS", help="How long to wait for room in its inbox.")
]


def _jsonable(value: Any) -> Any:
    """``value`` as JSON can say it (datetimes as ISO text, other types by ``repr``)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return repr(value)


def snapshot_json(snapshot: WorkflowSnapshot) -> dict[str, Any]:
    """A workflow snapshot as plain JSON values."""
    fields = {name: getattr(snapshot, name) for name in snapshot.__dataclass_fields__}
    return {**_jsonable(fields), "status": snapshot.status.value}


def _print_json(value: Any) -> None:
    typer.echo(json.dumps(_jsonable(value), indent=2, sort_keys=True))


@workflows_app.command("list")
def list_workflows(
    url: UrlOption = None,
    type_name: Annotated[
        str | None, typer.Option("--type", metavar="TYPE", help="Only workflows of this type.")
    ] = None,
    status: Annotated[
        str | None,
        typer.Option(metavar="STATUS", help="Only in this status: " + ", ".join(Status) + "."),
    ] = None,
    search: Annotated[
        str | None, typer.Option(metavar="TEXT", help="Only ids containing this text.")
    ] = None,
    as_json: AsJson = False,
    connect_timeout: ConnectTimeout = 5.0,
) -> None:
    """List workflows (one read of every record: meant for modest numbers)."""
    if status is not None and status not in set(Status):
        raise _usage(f"unknown status {status!r}; choose from {', '.join(Status)}")

    async def collect(cluster: Cluster) -> list[WorkflowSnapshot]:
        found = [s async for s in cluster.workflows.list(type_name, status)]
        return sorted((s for s in found if not search or search in s.id), key=lambda s: s.id)

    snapshots = on_cluster(url, connect_timeout, collect)
    if as_json:
        _print_json([snapshot_json(s) for s in snapshots])
        return
    table = Table("id", "type", "status", "owner", "applied", "updated", title="workflows")
    for s in snapshots:
        table.add_row(
            s.id, s.type, s.status.value, s.owner or "-", str(s.messages_applied), _at(s.updated)
        )
    console.print(table)


@workflows_app.command()
def show(
    workflow_id: Id, url: UrlOption = None, as_json: AsJson = False,
    connect_timeout: ConnectTimeout = 5.0,
) -> None:  # fmt: skip
    """Show a workflow: status, state, owner, timers and its last error."""

    async def get(cluster: Cluster) -> WorkflowSnapshot:
        return await cluster.workflows.get(workflow_id)

    snapshot = on_cluster(url, connect_timeout, get)
    if as_json:
        _print_json(snapshot_json(snapshot))
        return
    table = Table(show_header=False, title=f"workflow {snapshot.id}", title_justify="left")
    for name, value in _show_rows(snapshot):
        table.add_row(name, value)
    console.print(table)


def _show_rows(s: WorkflowSnapshot) -> list[tuple[str, str]]:
    timers = ", ".join(f"{name} at {_at(due)}" for name, due in sorted(s.timers.items()))
    return [
        ("type", f"{s.type} (version {s.version})"),
        ("status", s.status.value),
        ("state", repr(s.state)),
        ("result", repr(s.result)),
        ("last error", s.error or "-"),
        ("owner", f"{s.owner or '-'} (epoch {s.epoch})"),
        ("messages applied", f"{s.messages_applied} (last inbox sequence {s.last_sequence})"),
        ("held", str(s.held)),
        ("timers", timers or "-"),
        ("created", _at(s.created)),
        ("updated", _at(s.updated)),
    ]


@workflows_app.command()
def history(
    workflow_id: Id, url: UrlOption = None, as_json: AsJson = False,
    connect_timeout: ConnectTimeout = 5.0,
) -> None:  # fmt: skip
    """Show a workflow's last transitions, oldest first."""

    async def read(cluster: Cluster) -> list[Transition]:
        return await cluster.workflows.history(workflow_id)

    transitions = on_cluster(url, connect_timeout, read)
    if as_json:
        _print_json([_fields(t) for t in transitions])
        return
    table = Table("at", "sequence", "what", "status after", title=f"history of {workflow_id}")
    for t in transitions:
        table.add_row(_at(t.at), str(t.sequence), t.what, t.status)
    console.print(table)


def _fields(transition: Transition) -> dict[str, Any]:
    return {name: getattr(transition, name) for name in transition.__dataclass_fields__}


@workflows_app.command()
def send(
    workflow_id: Id,
    message: Annotated[
        str,
        typer.Argument(metavar="MESSAGE", help="The message, as JSON.", show_default=False),
    ],
    url: UrlOption = None,
    key: Annotated[
        str | None,
        typer.Option(metavar="KEY", help="Idempotency key: a resend with it applies once."),
    ] = None,
    timeout: Timeout = 30.0,
    connect_timeout: ConnectTimeout = 5.0,
) -> None:
    """Send a message (JSON) to a workflow; returns once it is stored in its inbox."""
    try:
        value = json.loads(message)
    except json.JSONDecodeError as error:
        raise _usage(f"MESSAGE is not JSON: {error}") from None

    async def deliver(cluster: Cluster) -> None:
        await cluster.workflows.send(workflow_id, value, key=key, timeout=timeout)

    on_cluster(url, connect_timeout, deliver)
    console.print(f"sent to {workflow_id}", markup=False)


@workflows_app.command()
def resume(
    workflow_id: Id, url: UrlOption = None, timeout: Timeout = 30.0,
    connect_timeout: ConnectTimeout = 5.0,
) -> None:  # fmt: skip
    """Run a paused workflow again, from the message that failed."""

    async def control(cluster: Cluster) -> None:
        await cluster.workflows.resume(workflow_id, timeout=timeout)

    on_cluster(url, connect_timeout, control)
    console.print(f"resume sent to {workflow_id}", markup=False)


@workflows_app.command()
def skip(
    workflow_id: Id,
    reason: Annotated[str, typer.Option(metavar="TEXT", help="Why (kept in its history).")],
    url: UrlOption = None, yes: Yes = False, timeout: Timeout = 30.0,
    connect_timeout: ConnectTimeout = 5.0,
) -> None:  # fmt: skip
    """Drop the message a paused workflow failed on, then run it from the next one."""
    _confirm(f"Drop the message workflow {workflow_id!r} is paused on?", yes)

    async def control(cluster: Cluster) -> None:
        await cluster.workflows.skip(workflow_id, reason, timeout=timeout)

    on_cluster(url, connect_timeout, control)
    console.print(f"skip sent to {workflow_id}", markup=False)


@workflows_app.command()
def terminate(
    workflow_id: Id,
    reason: Annotated[str, typer.Option(metavar="TEXT", help="Why (its last error).")] = "",
    url: UrlOption = None, yes: Yes = False, timeout: Timeout = 30.0,
    connect_timeout: ConnectTimeout = 5.0,
) -> None:  # fmt: skip
    """End a workflow as terminated (after the messages stored before this request)."""
    _confirm(f"Terminate workflow {workflow_id!r}? This cannot be undone.", yes)

    async def control(cluster: Cluster) -> None:
        await cluster.workflows.terminate(workflow_id, reason, timeout=timeout)

    on_cluster(url, connect_timeout, control)
    console.print(f"terminate sent to {workflow_id}", markup=False)


def _confirm(question: str, yes: bool) -> None:
    if yes:
        return
    if not typer.confirm(question, default=False):
        console.print("aborted: nothing was sent", markup=False)
        raise typer.Exit(EXIT_ERROR)


def _usage(message: str) -> typer.Exit:
    Console(stderr=True).print(f"error: {ConfigurationError(message)}", markup=False)
    return typer.Exit(EXIT_USAGE)


def _at(moment: datetime.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")
