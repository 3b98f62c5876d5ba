"""The ``hazelkit`` command: local Hazelcast members, the demo, and cluster inspection."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from hazelkit._core._exceptions import HazelkitError

app = typer.Typer(
    name="hazelkit",
    help="Clustered services on Hazelcast: local members, a demo, and cluster inspection.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()


def _plain(text: str) -> None:
    """Print text that may contain brackets (log lines, cluster names) literally."""
    console.print(text, markup=False, highlight=False, soft_wrap=True)


@app.command("local-cluster")
def local_cluster(
    members: Annotated[
        int, typer.Option("--members", "-n", min=1, max=9, help="How many members.")
    ] = 1,
    jar: Annotated[
        Path | None, typer.Option(help="The hazelcast-5.7.0.jar (default: found or fetched).")
    ] = None,
    cluster_name: Annotated[
        str | None, typer.Option(help="Cluster name (default: random).")
    ] = None,
    heap: Annotated[str, typer.Option(help="Java heap per member, e.g. 256m.")] = "256m",
) -> None:
    """Start Hazelcast members on free loopback ports until Ctrl-C, then stop them."""
    from hazelkit._local_cluster import run_local_cluster

    try:
        run_local_cluster(members, jar=jar, cluster_name=cluster_name, heap=heap, out=_plain)
    except HazelkitError as error:
        console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(1) from None


@app.command()
def demo(
    url: Annotated[
        str, typer.Option(help="Grid to run on; every node connects to it.")
    ] = "memory://demo",
    nodes: Annotated[int, typer.Option(min=2, max=9, help="How many nodes to start.")] = 3,
) -> None:
    """Start several nodes on one grid and show data moving between them."""
    from hazelkit._demo import run_demo

    try:
        asyncio.run(run_demo(url, nodes, console))
    except HazelkitError as error:
        console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(1) from None


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    add_help_option=False,
)
def bench(ctx: typer.Context) -> None:
    """Run the benchmarks (``hazelkit bench --help`` for their options)."""
    from hazelkit.bench import main as bench_main

    raise typer.Exit(bench_main(list(ctx.args)))


@app.command()
def members(
    url: Annotated[str, typer.Argument(help="hazelcast://HOST:PORT?cluster=NAME")],
) -> None:
    """List the members of a cluster."""
    import hazelkit

    async def show() -> None:
        async with hazelkit.connect(url) as cluster:
            table = Table("uuid", "address", title=f"members of {cluster.url}")
            for member in cluster.members():
                table.add_row(member.uuid, member.address)
            console.print(table)

    try:
        asyncio.run(show())
    except HazelkitError as error:
        console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(1) from None


def main() -> None:
    """Entry point of the ``hazelkit`` console script."""
    app()
