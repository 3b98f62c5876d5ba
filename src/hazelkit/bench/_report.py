"""Writing a run: ``results.md`` (tables, goals, charts), ``results.json`` and PNGs."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hazelkit.bench._charts import charts_available, render
from hazelkit.bench._model import Mode, Result, Table

__all__ = ["Run", "markdown", "write_report"]

MARKDOWN_NAME = "results.md"
JSON_NAME = "results.json"


@dataclass
class Run:
    """One invocation of the benchmarks and everything it measured."""

    mode: Mode
    command: str
    started_at: str
    machine: dict[str, Any]
    load_before: list[float]
    load_after: list[float] = field(default_factory=list)
    hazelcast: dict[str, Any] = field(default_factory=dict)
    results: list[Result] = field(default_factory=list)
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The run as a JSON-ready dict."""
        return {
            "mode": self.mode.value,
            "command": self.command,
            "started_at": self.started_at,
            "seconds": self.seconds,
            "machine": self.machine,
            "load_average": {"start": self.load_before, "end": self.load_after},
            "hazelcast": self.hazelcast,
            "notes": self.notes,
            "benchmarks": {result.name: result.to_json() for result in self.results},
        }


def write_report(run: Run, out: Path) -> list[Path]:
    """Write the charts, ``results.md`` and ``results.json`` into ``out`` (created if
    needed, files replaced); return the paths written, markdown first."""
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    if charts_available():
        for result in run.results:
            for chart in result.charts:
                render(chart, out / chart.filename)
                written.append(out / chart.filename)
    else:
        run.notes.append(
            "charts skipped: matplotlib is not installed (pip install 'hazelkit[bench]')"
        )
    (out / MARKDOWN_NAME).write_text(markdown(run, charts=charts_available()), encoding="utf-8")
    document = json.dumps(_rounded(run.to_json()), indent=1, ensure_ascii=False)
    (out / JSON_NAME).write_text(document + "\n", encoding="utf-8")
    return [out / MARKDOWN_NAME, out / JSON_NAME, *written]


def _rounded(data: Any) -> Any:
    """``data`` with every float cut to 4 significant digits (the noise is larger)."""
    if isinstance(data, float):
        return float(f"{data:.4g}")
    if isinstance(data, dict):
        return {key: _rounded(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [_rounded(value) for value in data]
    return data


def markdown(run: Run, *, charts: bool = True) -> str:
    """The run as a markdown document: where and how it ran, the goals, then each
    benchmark's tables and charts."""
    lines = ["# hazelkit benchmarks", "", *_header(run), ""]
    lines += _goal_table(run)
    for result in run.results:
        lines += ["", f"## {result.title}", "", result.description, ""]
        for table in result.tables:
            lines += [f"### {table.title}", "", *table_lines(table), ""]
        if charts:
            lines += [f"![{chart.title}]({chart.filename})" for chart in result.charts]
            lines.append("")
        lines += [f"- {note}" for note in result.notes]
    return "\n".join(lines).rstrip() + "\n"


def table_lines(table: Table) -> list[str]:
    """A table in GitHub markdown, its notes as a paragraph under it."""
    lines = [_row(table.columns), _row(["---"] * len(table.columns))]
    lines += [_row(row) for row in table.rows]
    if table.notes:
        lines += ["", " ".join(table.notes)]
    return lines


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def _header(run: Run) -> list[str]:
    machine = run.machine
    packages = ", ".join(f"{name} {version}" for name, version in machine["packages"].items())
    load = f"load average {_load(run.load_before)} at start, {_load(run.load_after)} at end"
    lines = [
        f"- Run: {run.started_at}, {run.mode.value} mode, {run.seconds:.0f} s: `{run.command}`",
        f"- Machine: {machine['cpu']}, {machine['cpus']} CPUs, {machine['memory']} RAM, "
        f"{machine['platform']}; {load}",
        f"- Software: {machine['python']}, {packages}",
    ]
    if "source" in run.hazelcast:
        version = run.hazelcast.get("version")
        lines.append(
            f"- Hazelcast: {run.hazelcast['source']}"
            + (f", Hazelcast {version}" if version else "")
        )
    elif "unavailable" in run.hazelcast:
        lines.append(f"- Hazelcast: not measured ({run.hazelcast['unavailable']})")
    lines += [f"- {note}" for note in run.notes]
    return lines


def _load(values: list[float]) -> str:
    return " / ".join(f"{value:.2f}" for value in values) if values else "unknown"


def _goal_table(run: Run) -> list[str]:
    table = Table("Goals", ["benchmark", "goal", "target", "measured", "verdict", "bottleneck"])
    for result in run.results:
        for goal in result.goals:
            verdict = f"**{goal.verdict}**" if goal.met is False else goal.verdict
            table.add(
                result.name, goal.name, goal.target, goal.measured, verdict, goal.bottleneck or ""
            )
    if not table.rows:
        return []
    return ["## Goals", "", *table_lines(table)]
