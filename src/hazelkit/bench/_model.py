"""What a benchmark produces: tables, goals, charts and raw data, all plain values.

A benchmark returns one :class:`Result`; the reporting modules turn results into
markdown, JSON and PNG files. Nothing here measures or draws.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

__all__ = ["Chart", "Goal", "Mode", "Panel", "Result", "Table"]

T = TypeVar("T")


class Mode(enum.Enum):
    """How long a run measures.

    ``SMOKE`` runs a handful of iterations so that tests can check that every benchmark
    still works (its numbers mean nothing); ``QUICK`` gives rough figures in seconds;
    ``FULL`` gives the published figures.
    """

    SMOKE = "smoke"
    QUICK = "quick"
    FULL = "full"

    def pick(self, smoke: T, quick: T, full: T) -> T:
        """The value for this mode among the three given."""
        if self is Mode.SMOKE:
            return smoke
        return quick if self is Mode.QUICK else full


@dataclass
class Table:
    """A table of formatted cells; ``notes`` are printed under it."""

    title: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, *cells: object) -> None:
        """Append a row; raises ValueError if it does not have one cell per column."""
        if len(cells) != len(self.columns):
            raise ValueError(
                f"row has {len(cells)} cells, table {self.title!r} has {len(self.columns)} columns"
            )
        self.rows.append([str(cell) for cell in cells])

    def to_json(self) -> dict[str, Any]:
        """The table as a JSON-ready dict."""
        return {
            "title": self.title,
            "columns": self.columns,
            "rows": self.rows,
            "notes": self.notes,
        }


@dataclass
class Goal:
    """A target a benchmark tracks, and whether this run met it.

    ``met`` is None when the run could not measure it (e.g. no Hazelcast members);
    ``bottleneck`` names what holds the figure back when it is not met.
    """

    name: str
    target: str
    measured: str
    met: bool | None
    bottleneck: str = ""

    @property
    def verdict(self) -> str:
        """``met``, ``NOT met`` or ``not measured``."""
        if self.met is None:
            return "not measured"
        return "met" if self.met else "NOT met"

    def to_json(self) -> dict[str, Any]:
        """The goal as a JSON-ready dict."""
        return {
            "name": self.name,
            "target": self.target,
            "measured": self.measured,
            "met": self.met,
            "bottleneck": self.bottleneck,
        }


@dataclass
class Panel:
    """One plot of a chart.

    For ``bars`` charts ``x`` holds the category labels and each series one value per
    category; for ``lines`` ``x`` holds the x values; for ``cdf`` each series is a
    quantile curve (:func:`~hazelkit.bench._stats.quantile_curve`) and ``x`` is unused.
    ``reference`` draws a horizontal (bars, lines) or vertical (cdf) guide line.
    """

    title: str
    xlabel: str
    ylabel: str
    series: dict[str, list[float]]
    x: list[Any] = field(default_factory=list)
    log_x: bool = False
    log_y: bool = False
    reference: float | None = None


@dataclass
class Chart:
    """A PNG figure of one or more panels side by side, written as ``filename``."""

    filename: str
    title: str
    kind: Literal["bars", "lines", "cdf"]
    panels: list[Panel]

    def to_json(self) -> dict[str, Any]:
        """The chart's file and panels (its figures are in the result's data)."""
        return {
            "filename": self.filename,
            "title": self.title,
            "kind": self.kind,
            "panels": [panel.title for panel in self.panels],
        }


@dataclass
class Result:
    """Everything one benchmark reports from one run.

    ``data`` holds the raw figures (medians, spreads, sample counts) in JSON-ready
    form; ``notes`` explain what was measured and how to read it.
    """

    name: str
    title: str
    description: str
    tables: list[Table] = field(default_factory=list)
    goals: list[Goal] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """The result as a JSON-ready dict."""
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "seconds": self.seconds,
            "goals": [goal.to_json() for goal in self.goals],
            "tables": [table.to_json() for table in self.tables],
            "charts": [chart.to_json() for chart in self.charts],
            "notes": self.notes,
            "data": self.data,
        }
