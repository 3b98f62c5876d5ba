"""``hazelkit bench``: choose benchmarks, run them, write the report."""

from __future__ import annotations

import argparse
import asyncio
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from hazelkit._core._exceptions import HazelkitError
from hazelkit.bench._context import Benchmark, Context
from hazelkit.bench._machine import load_average, machine_info
from hazelkit.bench._model import Mode
from hazelkit.bench._report import Run, write_report
from hazelkit.bench._suites import discover

__all__ = ["DEFAULT_OUT", "main", "run_benchmarks", "select"]

DEFAULT_OUT = Path("bench-results")


def _parser(benchmarks: list[Benchmark]) -> argparse.ArgumentParser:
    listing = "\n".join(f"  {b.name:<10} {b.summary or b.title}" for b in benchmarks)
    parser = argparse.ArgumentParser(
        prog="hazelkit bench",
        description="Run hazelkit's benchmarks side by side with the alternatives, and "
        "write results.md, results.json and PNG charts.",
        epilog=f"benchmarks (default: all, in this order):\n{listing}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("names", nargs="*", metavar="NAME", help="benchmarks to run")
    speed = parser.add_mutually_exclusive_group()
    speed.add_argument("--quick", action="store_true", help="rough figures in seconds")
    speed.add_argument(
        "--smoke",
        action="store_true",
        help="a few iterations, to check that the benchmarks work (for CI)",
    )
    parser.add_argument(
        "--url",
        help="hazelcast://... cluster to measure (default: start "
        "one local member); memory://... measures the embedded backend only",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help=f"directory for the results (default: {DEFAULT_OUT}/)",
    )
    return parser


def select(benchmarks: list[Benchmark], names: Sequence[str]) -> list[Benchmark]:
    """The benchmarks called ``names`` (all when empty), in run order.

    Raises ValueError naming the unknown ones and listing the known.
    """
    if not names:
        return benchmarks
    known = {benchmark.name for benchmark in benchmarks}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(
            f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(sorted(known))}"
        )
    return [benchmark for benchmark in benchmarks if benchmark.name in names]


async def run_benchmarks(
    benchmarks: Sequence[Benchmark],
    *,
    mode: Mode,
    out: Path,
    url: str | None = None,
    command: str = "hazelkit bench",
    echo: Callable[[str], None] = print,
) -> Run:
    """Run ``benchmarks`` one after the other and write their report into ``out``.

    A local Hazelcast member is started when a benchmark first asks for one and stopped
    at the end, even on error. Returns the Run (with each benchmark's Result); the
    files written are ``out/results.md``, ``out/results.json`` and the charts.
    """
    context = Context(mode=mode, out=out, url=url, echo=echo)
    run = Run(
        mode=mode,
        command=command,
        machine=machine_info(),
        load_before=load_average(),
        started_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    )
    started = time.perf_counter()
    try:
        for benchmark in benchmarks:
            echo(f"== {benchmark.name}: {benchmark.title}")
            run.results.append(await benchmark.run(context))
    finally:
        await context.aclose()
    run.seconds = time.perf_counter() - started
    run.load_after = load_average()
    run.hazelcast = dict(context.hazelcast)
    write_report(run, out)
    return run


def main(argv: list[str]) -> int:
    """Run ``hazelkit bench`` with ``argv``; return the exit status (0 ok, 1 a benchmark
    failed, 2 bad arguments)."""
    benchmarks = discover()
    parser = _parser(benchmarks)
    args = parser.parse_args(argv)
    try:
        chosen = select(benchmarks, args.names)
    except ValueError as error:
        parser.print_usage(sys.stderr)
        print(f"hazelkit bench: error: {error}", file=sys.stderr)
        return 2
    mode = Mode.SMOKE if args.smoke else Mode.QUICK if args.quick else Mode.FULL
    command = shlex.join(["hazelkit", "bench", *argv])
    try:
        run = asyncio.run(
            run_benchmarks(chosen, mode=mode, out=args.out, url=args.url, command=command)
        )
    except (HazelkitError, OSError) as error:
        print(f"hazelkit bench: error: {error}", file=sys.stderr)
        return 1
    _print_goals(run)
    print(f"results written to {args.out}/ in {run.seconds:.0f} s")
    return 0


def _print_goals(run: Run) -> None:
    for result in run.results:
        for goal in result.goals:
            print(
                f"[{goal.verdict:^12}] {result.name}: {goal.name} {goal.target}: "
                f"{goal.measured}" + (f" ({goal.bottleneck})" if goal.bottleneck else "")
            )
