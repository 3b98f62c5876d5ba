"""hazelkit's benchmarks: ``hazelkit bench [NAME...] [--quick] [--url URL] [--out DIR]``.

Each benchmark compares hazelkit with what a user would pick instead, in the same
process and the same run, contenders interleaved round by round (the order rotated each
round) so that machine drift touches all alike; it reports medians, spreads and
per-round ratios, checks the goals it tracks, and writes ``results.md``,
``results.json`` and PNG charts (into ``bench-results/`` by default).

Adding a benchmark is adding one module to ``hazelkit/bench/_suites/`` whose name does
not start with ``_`` (helpers do); it is found, listed, run, reported and smoke-tested
(``tests/test_bench_smoke.py`` runs every discovered benchmark) with no other change::

    # hazelkit/bench/_suites/atom.py
    from hazelkit.bench._context import Benchmark, Context
    from hazelkit.bench._model import Goal, Result, Table
    from hazelkit.bench._runner import drive, interleave_async, summarize_load

    async def run(context: Context) -> Result:
        duration, rounds = context.mode.pick(smoke=(0.01, 1), quick=(0.05, 3),
                                             full=(0.3, 10))
        url = await context.hazelcast_url()   # None: no Hazelcast, measure embedded only
        ...                                   # open contenders, context.name("atom") names
        loads = await interleave_async(
            {"hazelkit": lambda: drive(swap, concurrency=4, duration=duration), ...},
            rounds=rounds)
        summaries = {name: summarize_load(rounds) for name, rounds in loads.items()}
        return Result(name="atom", title="Atom swap under contention",
                      description="...", tables=[...], goals=[...], charts=[...],
                      data={...})

    BENCHMARK = Benchmark(name="atom", title="Atom swap under contention", order=30,
                          run=run, summary="one line for --help")

``Mode.SMOKE`` must finish in a second or two, ``--quick`` in a few seconds, a full run
in a few minutes. See ``_suites/codec.py`` (synchronous timed loops) and
``_suites/map.py`` (concurrent load against Hazelcast) for complete examples.
"""

from hazelkit.bench._context import Benchmark, Context
from hazelkit.bench._main import main, run_benchmarks, select
from hazelkit.bench._model import Chart, Goal, Mode, Panel, Result, Table
from hazelkit.bench._report import Run
from hazelkit.bench._suites import discover

__all__ = [
    "Benchmark",
    "Chart",
    "Context",
    "Goal",
    "Mode",
    "Panel",
    "Result",
    "Run",
    "Table",
    "discover",
    "main",
    "run_benchmarks",
    "select",
]
