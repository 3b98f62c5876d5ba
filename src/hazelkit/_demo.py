"""``hazelkit demo``: several nodes on one grid, and data moving between them.

Each node is a separate :class:`~hazelkit.Cluster` connected to the same grid, as separate
processes would be. The demo prints what each node does and what the others see.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import uuid
from collections.abc import AsyncIterator

from rich.console import Console
from rich.table import Table

import hazelkit
from hazelkit._demo_singletons import singleton_scene
from hazelkit._demo_workflows import Pace, workflow_scene


@contextlib.asynccontextmanager
async def _nodes(url: str, count: int) -> AsyncIterator[list[hazelkit.Cluster]]:
    async with contextlib.AsyncExitStack() as stack:
        nodes = [await stack.enter_async_context(hazelkit.connect(url)) for _ in range(count)]
        yield nodes


async def run_demo(
    url: str, count: int, console: Console, *, dashboard_port: int | None = None
) -> None:
    """Run the demo on ``url`` with ``count`` nodes, printing to ``console``; with
    ``dashboard_port``, serve the dashboard on it meanwhile (see :mod:`._demo_dashboard`)."""
    async with contextlib.AsyncExitStack() as stack:
        pace = None
        if dashboard_port is not None:
            from hazelkit._demo_dashboard import demo_dashboard

            pace = await stack.enter_async_context(demo_dashboard(url, dashboard_port, console))
        await _run(url, count, console, pace)


async def _run(url: str, count: int, console: Console, pace: Pace | None) -> None:
    run = uuid.uuid4().hex[:6]
    console.rule(f"[bold]hazelkit demo[/bold] on {url}")
    async with _nodes(url, count) as nodes:
        console.print(f"started {count} nodes; node 1 sees {len(nodes[0].members())} member(s)")
        await _maps(nodes, f"demo-users-{run}", console)
        await _structures(nodes, run, console)
        await _coordination(nodes, run, console)
        if url.startswith("memory://"):
            # Embedded nodes are grid members; Hazelcast clients are not, so only here
            # does a new node show up as a membership event.
            await _membership(url, nodes[0], console)
        await nodes[0].map(f"demo-users-{run}").destroy()
    await (workflow_scene(url, console) if pace is None else workflow_scene(url, console, pace))
    await singleton_scene(url, console)
    console.rule("done: every node closed, no background task left")


async def _maps(nodes: list[hazelkit.Cluster], name: str, console: Console) -> None:
    writer, *readers = nodes
    users = writer.map(name)
    records = {
        "ada": {
            "name": "Ada Lovelace",
            "born": datetime.date(1815, 12, 10),
            "langs": ("analytical",),
        },
        "grace": {"name": "Grace Hopper", "born": datetime.date(1906, 12, 9), "langs": ("COBOL",)},
    }
    await users.put_all(records)
    console.print(f"node 1 stored {len(records)} users in map {name!r}")
    table = Table("node", "reads", "type kept")
    for number, node in enumerate(readers, start=2):
        seen = await node.map(name).get_all(records)
        kept = all(
            seen[k] == v and isinstance(seen[k]["born"], datetime.date) for k, v in records.items()
        )
        table.add_row(
            f"node {number}", ", ".join(sorted(v["name"] for v in seen.values())), str(kept)
        )
    console.print(table)
    last = readers[-1].map(name)
    won = await last.replace_if_same(
        "ada", records["ada"], {**records["ada"], "langs": ("analytical", "notes")}
    )
    lost = await users.replace_if_same("ada", records["ada"], {**records["ada"], "langs": ()})
    now = await users.get("ada")
    console.print(
        f"compare-and-set: node {len(nodes)} updated ada: {won}; node 1, racing with a stale "
        f"copy: {lost}; everyone now reads {now['langs'] if now else None}"
    )


async def _membership(url: str, observer: hazelkit.Cluster, console: Console) -> None:
    async with observer.membership_events() as events:
        async with hazelkit.connect(url) as newcomer:
            joined = await events.get(timeout=30)
            console.print(
                f"a node joined: {joined.member.address}; members now {len(newcomer.members())}"
            )
        left = await events.get(timeout=30)
        console.print(
            f"it left again: {left.member.address}; members now {len(observer.members())}"
        )


async def _coordination(nodes: list[hazelkit.Cluster], run: str, console: Console) -> None:
    """A lock guarding a read-modify-write from every node, and a reliable topic that
    every node reads in order."""
    counts = f"demo-counts-{run}"

    async def increment(node: hazelkit.Cluster) -> list[int]:
        tokens = []
        for _ in range(5):
            async with node.lock(f"demo-lock-{run}", lease=10) as token:
                value = await node.map(counts).get("total", 0)
                await asyncio.sleep(0)  # let the others try to interleave
                await node.map(counts).set("total", value + 1)
                tokens.append(token)
        return tokens

    tokens = sorted(t for ts in await asyncio.gather(*map(increment, nodes)) for t in ts)
    total = await nodes[0].map(counts).get("total")
    console.print(
        f"lock: {len(nodes)} nodes each did 5 unprotected read-modify-writes inside a lock: "
        f"total {total} (exact: {total == 5 * len(nodes)}); fencing tokens "
        f"{tokens[0]}..{tokens[-1]}, all distinct: {len(set(tokens)) == len(tokens)}"
    )

    orders = nodes[0].reliable_topic(f"demo-orders-{run}", capacity=100)
    readers = [node.reliable_topic(orders.name).subscribe(start="oldest") for node in nodes[1:]]
    for order in range(5):
        await orders.publish({"order": order})

    async def read(subscription: hazelkit.ReliableSubscription[dict[str, int]]) -> list[int]:
        got: list[int] = []
        async with subscription:
            while len(got) < 5:
                message = await subscription.get(timeout=10)
                if isinstance(message, hazelkit.ReliableMessage):  # not a loss marker
                    got.append(message.value["order"])
        return got

    received = await asyncio.gather(*map(read, readers))
    console.print(
        "reliable topic: node 1 published orders 0..4; "
        + ", ".join(f"node {n} read {r}" for n, r in enumerate(received, start=2))
    )
    await nodes[0].map(counts).destroy()


async def _structures(nodes: list[hazelkit.Cluster], run: str, console: Console) -> None:
    """A queue moving jobs between nodes, an atom swapped from every node at once, and a
    memoized function computed once for all of them."""
    first, *others = nodes
    jobs = first.queue(f"demo-jobs-{run}", capacity=10)
    for job in range(len(others) * 2):
        await jobs.put({"job": job})
    taken = {
        number: [(await node.queue(jobs.name).get(timeout=10))["job"] for _ in range(2)]
        for number, node in enumerate(others, start=2)
    }
    console.print(
        f"queue: node 1 put {len(others) * 2} jobs; "
        + ", ".join(f"node {n} took {t}" for n, t in taken.items())
    )

    atom_name, swaps = f"demo-visits-{run}", 20
    seen: list[int] = []
    await first.atom(atom_name, initial=0).add_watch("demo", lambda old, new: seen.append(new))

    async def visit(node: hazelkit.Cluster) -> None:
        for _ in range(swaps):
            await node.atom(atom_name, initial=0).swap(lambda count: count + 1)

    await asyncio.gather(*(visit(node) for node in nodes))
    total = await first.atom(atom_name, initial=0).deref()
    console.print(
        f"atom: {len(nodes)} nodes swapped {swaps} times each at once: value {total} "
        f"(exact: {total == swaps * len(nodes)}); node 1's watch saw {len(seen)} changes so far"
    )

    runs: list[int] = []

    async def computed_by(node_number: int, node: hazelkit.Cluster) -> object:
        @node.cache(f"demo-cache-{run}").memoize(name="demo.report")
        async def report(year: int) -> str:
            runs.append(node_number)
            await asyncio.sleep(0.2)
            return f"report {year} by node {node_number}"

        return await report(2026)

    answers = await asyncio.gather(*(computed_by(n, node) for n, node in enumerate(nodes, 1)))
    console.print(
        f"memoize: {len(nodes)} nodes asked for one report at once; computed {len(runs)} "
        f"time(s), on node {runs[0]}; everyone got {answers[0]!r}"
    )
    await first.queue(jobs.name).destroy()
    await first.atom(atom_name).destroy()
    await first.cache(f"demo-cache-{run}").destroy()
