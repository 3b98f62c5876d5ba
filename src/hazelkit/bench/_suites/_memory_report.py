"""The memory benchmark's figures, tables and chart."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hazelkit.bench._model import Chart, Panel, Result, Table

__all__ = ["CACHE_SCENARIOS", "SUBSCRIPTION_SCENARIOS", "BackendMemory", "build_result"]

CACHE_SCENARIOS = ("cache", "near-cache")
SUBSCRIPTION_SCENARIOS = ("topic", "reliable-topic", "map-events")

_PROCESS = {
    "baseline": "connected, nothing else (baseline)",
    "cache": "{n:,} entries read through a cache, no near cache",
    "near-cache": "{n:,} entries read through a near cache (all kept)",
    "topic": "{n:,} open Topic subscriptions",
    "reliable-topic": "{n:,} open ReliableTopic subscriptions",
    "map-events": "{n:,} open Map event streams",
}
_ITEM = {
    "near-cache": "near-cache entry",
    "topic": "Topic subscription",
    "reliable-topic": "ReliableTopic subscription",
    "map-events": "Map event stream",
}


@dataclass
class BackendMemory:
    """Every scenario on one backend: its count, peak RSS and traced heap (bytes)."""

    label: str
    counts: dict[str, int]
    rss: dict[str, float]
    heap: dict[str, int]

    def per_item(self) -> dict[str, tuple[float, float]]:
        """Bytes per near-cache entry (over the cache without one) and per subscription
        (over the baseline): ``(peak RSS, Python heap)`` for each scenario but the two
        references."""
        entries = self.counts["near-cache"]
        costs = {
            "near-cache": (
                (self.rss["near-cache"] - self.rss["cache"]) / entries,
                (self.heap["near-cache"] - self.heap["cache"]) / entries,
            )
        }
        for scenario in SUBSCRIPTION_SCENARIOS:
            count = self.counts[scenario]
            costs[scenario] = (
                (self.rss[scenario] - self.rss["baseline"]) / count,
                self.heap[scenario] / count,
            )
        return costs

    def to_json(self) -> dict[str, Any]:
        """The figures as a JSON-ready dict (bytes)."""
        return {
            "counts": self.counts,
            "peak_rss": self.rss,
            "heap": self.heap,
            "per_item": {
                scenario: {"peak_rss": rss, "heap": heap}
                for scenario, (rss, heap) in self.per_item().items()
            },
        }


def amount(count: float) -> str:
    """Bytes for people: ``"296 B"``, ``"9.4 KiB"``, ``"29.5 MiB"`` (negatives kept)."""
    if abs(count) >= 1 << 20:
        return f"{count / (1 << 20):,.1f} MiB"
    if abs(count) >= 10 << 10:
        return f"{count / (1 << 10):,.1f} KiB"
    return f"{count:,.0f} B"


def _process_table(backends: list[BackendMemory]) -> Table:
    table = Table(
        "Peak memory of the client process",
        ["backend", "the process holds", "peak RSS", "over baseline", "Python heap held"],
    )
    for backend in backends:
        base = backend.rss["baseline"]
        for scenario, rss in backend.rss.items():
            heap = backend.heap.get(scenario)
            table.add(
                backend.label,
                _PROCESS[scenario].format(n=backend.counts[scenario]),
                amount(rss),
                "" if scenario == "baseline" else amount(rss - base),
                "" if heap is None else amount(heap),
            )
    table.notes = [
        "Python heap held: what tracemalloc counts as allocated by the scenario (after "
        "connecting) and still alive at its end, in a separate traced run.",
    ]
    return table


def _cost_table(backends: list[BackendMemory]) -> Table:
    table = Table(
        "Cost per near-cache entry and per subscription",
        ["backend", "item", "peak RSS per item", "Python heap per item"],
    )
    for backend in backends:
        for scenario, (rss, heap) in backend.per_item().items():
            table.add(backend.label, _ITEM[scenario], amount(rss), amount(heap))
    table.notes = [
        "near-cache entry: (near-cache process - cache process) ÷ entries; subscription: "
        "(subscriptions process - baseline) ÷ subscriptions.",
    ]
    return table


def _chart(backends: list[BackendMemory]) -> Chart:
    scenarios = list(_ITEM)
    series: dict[str, list[float]] = {}
    for backend in backends:
        costs = backend.per_item()
        series[f"{backend.label}, peak RSS"] = [max(costs[s][0], 1.0) for s in scenarios]
        series[f"{backend.label}, Python heap"] = [max(costs[s][1], 1.0) for s in scenarios]
    panel = Panel(
        "bytes per item", "", "bytes", series, x=[_ITEM[s] for s in scenarios], log_y=True
    )
    return Chart("memory.png", "Memory per near-cache entry and per subscription", "bars", [panel])


def build_result(backends: list[BackendMemory], *, repeats: int) -> Result:
    """The memory benchmark's Result from every backend's figures."""
    first = backends[0]
    result = Result(
        name="memory",
        title="Memory: near cache and subscriptions",
        description=(
            "Peak resident set size (`VmHWM`, the high-water mark of the process's own "
            f"address space; median of {repeats} fresh processes each) of a client "
            "process that imports hazelkit, "
            f"connects and then holds a near cache of {first.counts['near-cache']:,} small "
            f"entries (int keys, ~12-character str values) or "
            f"{first.counts['topic']:,} subscriptions; the Python heap from a traced run. "
            "A near-cache entry is charged against a process that read the same entries "
            "without a near cache; a subscription against the baseline process."
        ),
        tables=[_process_table(backends), _cost_table(backends)],
        charts=[_chart(backends)],
    )
    result.notes = [
        "Peak RSS moves in pages and includes allocator slack; the Python heap counts "
        "live objects only. On the embedded grid the cache's entries also live in the "
        "process, in the grid.",
        "Not `getrusage(RUSAGE_SELF).ru_maxrss`: on Linux a process started by fork and "
        "exec inherits its parent's high-water mark there (the benchmark runner's).",
    ]
    result.data = {"repeats": repeats, "backends": {b.label: b.to_json() for b in backends}}
    return result
