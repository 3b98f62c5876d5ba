"""The benchmarks, one module each, found by name.

Every module here whose name does not start with ``_`` is a benchmark and must define
``BENCHMARK``, a :class:`~hazelkit.bench._context.Benchmark`. Helper modules start with
``_``. Adding a benchmark is adding a module: nothing else needs to change.
"""

from __future__ import annotations

import importlib
import pkgutil

from hazelkit.bench._context import Benchmark

__all__ = ["discover"]


def discover() -> list[Benchmark]:
    """Every benchmark of this package, in their ``order``.

    Raises TypeError naming a module that lacks a ``BENCHMARK``, and ValueError if two
    benchmarks share a name.
    """
    found: dict[str, Benchmark] = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        benchmark = getattr(module, "BENCHMARK", None)
        if not isinstance(benchmark, Benchmark):
            raise TypeError(f"benchmark module {module.__name__} must define BENCHMARK")
        if benchmark.name in found:
            raise ValueError(f"two benchmarks are named {benchmark.name!r}")
        found[benchmark.name] = benchmark
    return sorted(found.values(), key=lambda benchmark: (benchmark.order, benchmark.name))
