"""hazelkit's benchmarks: ``hazelkit bench [NAME...] [--quick] [--url URL] [--out DIR]``.

Each benchmark compares hazelkit with what a user would pick instead, in the same
process and the same run, contenders interleaved round by round; it reports medians,
spreads and ratios, checks the goals it tracks, and writes ``results.md``,
``results.json`` and PNG charts (into ``bench-results/`` by default).

Adding a benchmark is adding one module to ``hazelkit/bench/_suites/`` (its name not
starting with ``_``) that defines ``BENCHMARK = Benchmark(name=..., title=...,
order=..., run=run)``, where ``async def run(context: Context) -> Result`` measures with
the helpers of ``_runner`` and fills a ``Result`` with tables, goals and charts. See
``_suites/codec.py`` and ``_suites/map.py``.
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
