"""``hazelkit bench``: choose benchmarks, run them, write the report."""

from __future__ import annotations

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
    failed, 2 bad arguments; ``--help`` prints the help and returns 0)."""
    from hazelkit.cli import command

    try:
        command().main(args=["bench", *argv], prog_name="hazelkit", standalone_mode=True)
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else 1
    return 0


def run_command(
    names: Sequence[str], *, quick: bool, smoke: bool, url: str | None, out: Path
) -> int:
    """What ``hazelkit bench`` does once its arguments are read: the exit status."""
    if quick and smoke:
        print("hazelkit bench: error: --quick and --smoke exclude each other", file=sys.stderr)
        return 2
    benchmarks = discover()
    try:
        chosen = select(benchmarks, names)
    except ValueError as error:
        print(f"hazelkit bench: error: {error}", file=sys.stderr)
        return 2
    mode = Mode.SMOKE if smoke else Mode.QUICK if quick else Mode.FULL
    flags = [flag for flag, on in (("--quick", quick), ("--smoke", smoke)) if on]
    where = ["--url", url] if url else []
    command = shlex.join(["hazelkit", "bench", *names, *flags, *where, "--out", str(out)])
    try:
        run = asyncio.run(run_benchmarks(chosen, mode=mode, out=out, url=url, command=command))
    except (HazelkitError, OSError) as error:
        print(f"hazelkit bench: error: {error}", file=sys.stderr)
        return 1
    _print_goals(run)
    print(f"results written to {out}/ in {run.seconds:.0f} s")
    return 0


def _print_goals(run: Run) -> None:
    for result in run.results:
        for goal in result.goals:
            print(
                f"[{goal.verdict:^12}] {result.name}: {goal.name} {goal.target}: "
                f"{goal.measured}" + (f" ({goal.bottleneck})" if goal.bottleneck else "")
            )
