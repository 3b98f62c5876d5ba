"""The ``hazelkit`` command: local Hazelcast members, the demo, benchmarks, and seeing
a running cluster (``inspect``, ``workflows``).

Commands that talk to a cluster exit with 0 (done), 1 (failed), 2 (bad usage), 3 (the
cluster could not be reached within the connect timeout) or 4 (no such workflow).
"""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from typer.core import TyperCommand

from hazelkit._core._exceptions import HazelkitError
from hazelkit._observe._connect import on_cluster
from hazelkit._observe._options import ConnectTimeout, Url
from hazelkit._observe._style import tidy
from hazelkit._observe._workflow_commands import workflows_app

if TYPE_CHECKING:
    from hazelkit._core._cluster import Cluster

__all__ = ["app", "command", "main"]

app = typer.Typer(
    name="hazelkit",
    help="Clustered services on Hazelcast: local members, a demo, benchmarks, and a look "
    "inside a running cluster.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(workflows_app, name="workflows")
console = Console()


def _plain(text: str) -> None:
    """Print text that may contain brackets (log lines, cluster names) literally."""
    console.print(text, markup=False, highlight=False, soft_wrap=True)


def _fail(error: HazelkitError) -> typer.Exit:
    console.print(f"[red]error:[/red] {error}", highlight=False)
    return typer.Exit(1)


def _show_version(value: bool) -> None:
    if value:
        import hazelkit

        _plain(f"hazelkit {hazelkit.__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Clustered services on Hazelcast: local members, a demo, benchmarks, and a look
    inside a running cluster."""


@app.command("local-cluster")
def local_cluster(
    members: Annotated[
        int, typer.Option("--members", "-n", min=1, max=9, metavar="N", help="How many members.")
    ] = 1,
    jar: Annotated[
        Path | None,
        typer.Option(metavar="FILE", help="The hazelcast-5.7.0.jar (default: found or fetched)."),
    ] = None,
    cluster_name: Annotated[
        str | None, typer.Option(metavar="NAME", help="Cluster name (default: random).")
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(
            min=1, max=65535, metavar="PORT", help="The first member's port (default: a free one)."
        ),
    ] = None,
    heap: Annotated[
        str, typer.Option(metavar="SIZE", help="Java heap per member, e.g. 256m.")
    ] = "256m",
) -> None:
    """Start Hazelcast members on loopback ports until Ctrl-C, then stop them."""
    from hazelkit._local_cluster import run_local_cluster

    try:
        run_local_cluster(
            members, jar=jar, cluster_name=cluster_name, heap=heap, port=port, out=_plain
        )
    except HazelkitError as error:
        raise _fail(error) from None


@app.command()
def demo(
    url: Annotated[
        str, typer.Option(metavar="URL", help="Grid to run on; every node connects to it.")
    ] = "memory://demo",
    nodes: Annotated[
        int, typer.Option(min=2, max=9, metavar="N", help="How many nodes to start.")
    ] = 3,
    dashboard: Annotated[
        bool, typer.Option("--dashboard", help="Show it live in the dashboard, at a slower pace.")
    ] = False,
    dashboard_port: Annotated[
        int, typer.Option(min=0, max=65535, metavar="PORT", help="The dashboard's port.")
    ] = 8080,
) -> None:
    """Start several nodes on one grid and show data moving between them."""
    from hazelkit._demo import run_demo

    try:
        asyncio.run(
            run_demo(url, nodes, console, dashboard_port=dashboard_port if dashboard else None)
        )
    except HazelkitError as error:
        raise _fail(error) from None
    except KeyboardInterrupt:
        _plain("demo stopped")


class _BenchCommand(TyperCommand):
    """Lists the benchmarks under the help (found when help is asked for, not before)."""

    def get_help(self, ctx: Any) -> str:
        from hazelkit.bench import discover

        listing = "\n".join(f"{b.name}: {b.summary or b.title}" for b in discover())
        self.epilog = f"Benchmarks (default: all, in this order):\n\b\n{listing}"
        return super().get_help(ctx)


@app.command(cls=_BenchCommand)
def bench(
    names: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="NAME", help="Benchmarks to run (default: all).", show_default=False
        ),
    ] = None,
    quick: Annotated[bool, typer.Option("--quick", help="Rough figures in seconds.")] = False,
    smoke: Annotated[
        bool,
        typer.Option("--smoke", help="A few iterations, to check that they work (for CI)."),
    ] = False,
    url: Annotated[
        str | None,
        typer.Option(
            metavar="URL",
            help="hazelcast://... cluster to measure (default: start one local member); "
            "memory://... measures the embedded backend only.",
        ),
    ] = None,
    out: Annotated[Path, typer.Option(metavar="DIR", help="Directory for the results.")] = Path(
        "bench-results"
    ),
) -> None:
    """Run hazelkit's benchmarks side by side with the alternatives, and write
    results.md, results.json and PNG charts. SIGTERM stops it as Ctrl-C does: the
    Hazelcast members it started are stopped too."""
    from hazelkit.bench._main import run_command

    _stop_on_sigterm()
    raise typer.Exit(run_command(names or [], quick=quick, smoke=smoke, url=url, out=out))


def _stop_on_sigterm() -> None:
    """Make SIGTERM end this command by an exception, so that its clean-up (stopping the
    members it started) runs, instead of the process ending on the spot."""

    def stop(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)


@app.command()
def members(url: Url = None, connect_timeout: ConnectTimeout = 5.0) -> None:
    """List the members of a cluster."""

    async def show(cluster: Cluster) -> None:
        table = Table("uuid", "address", title=f"members of {cluster.url}")
        for member in cluster.members():
            table.add_row(member.uuid, member.address)
        console.print(table)

    on_cluster(url, connect_timeout, show)


@app.command()
def inspect(
    url: Url = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON document (for scripts).")
    ] = False,
    connect_timeout: ConnectTimeout = 5.0,
) -> None:
    """Show what runs where: members, hazelkit nodes, partitions and their owners,
    workflows by type and status, inbox depths, leases held, and every structure with
    its size. Reads only; changes nothing."""
    from hazelkit._observe._render import render_report
    from hazelkit._observe._report import gather

    report = on_cluster(url, connect_timeout, gather)
    if as_json:
        typer.echo(json.dumps(report.to_json(), indent=2, sort_keys=True))
    else:
        render_report(report, console)


@app.command()
def dashboard(
    url: Url = None,
    port: Annotated[
        int, typer.Option(min=0, max=65535, metavar="PORT", help="Port (0: a free one).")
    ] = 8080,
    host: Annotated[
        str, typer.Option(metavar="HOST", help="Address to listen on (keep it private).")
    ] = "127.0.0.1",
    allow_actions: Annotated[
        bool,
        typer.Option("--allow-actions", help="Allow resume, skip and terminate (with a token)."),
    ] = False,
    token: Annotated[
        str | None,
        typer.Option(
            metavar="TOKEN",
            help="The token actions need (default: $HAZELKIT_DASHBOARD_TOKEN, else a "
            "random one, printed).",
        ),
    ] = None,
    interval: Annotated[
        float, typer.Option(min=0.1, metavar="SECONDS", help="How often to read the cluster.")
    ] = 1.0,
    connect_timeout: ConnectTimeout = 5.0,
) -> None:
    """Serve a live view of the cluster in the browser until Ctrl-C: nodes, partition
    owners, workflows, leases, failovers. Read-only unless --allow-actions."""
    if token is not None and not allow_actions:
        raise _usage("--token is only used with --allow-actions")
    try:
        from hazelkit.dashboard._command import run_dashboard
    except ImportError as error:
        raise _usage(f"{error}: pip install 'hazelkit[dashboard]'") from None
    run_dashboard(
        url, host=host, port=port, allow_actions=allow_actions, token=token,
        interval=interval, connect_timeout=connect_timeout, out=_plain,
    )  # fmt: skip


def _usage(message: str) -> typer.Exit:
    Console(stderr=True).print(f"error: {message}", markup=False, highlight=False)
    return typer.Exit(2)


def command() -> typer.core.TyperGroup:
    """The ``hazelkit`` command (a click group), with help in hazelkit's style."""
    group = typer.main.get_command(app)
    assert isinstance(group, typer.core.TyperGroup)
    return tidy(group)


def main() -> None:
    """Entry point of the ``hazelkit`` console script."""
    command()(prog_name="hazelkit")
