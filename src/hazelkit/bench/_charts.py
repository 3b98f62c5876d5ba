"""PNG charts with matplotlib (Agg backend, imported only when a chart is drawn).

matplotlib comes with the ``bench`` extra; without it charts are skipped and the
report says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hazelkit.bench._model import Chart, Panel

__all__ = ["charts_available", "render"]

_PANEL_SIZE = (6.4, 4.4)


def charts_available() -> bool:
    """Whether matplotlib can be imported."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def render(chart: Chart, path: Path) -> None:
    """Draw ``chart`` into the PNG file ``path`` (replacing it).

    Raises ImportError if matplotlib is missing.
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    count = len(chart.panels)
    columns = 2 if count == 4 else min(count, 3)
    rows = -(-count // columns)
    figure, axes = pyplot.subplots(
        rows, columns, figsize=(_PANEL_SIZE[0] * columns, _PANEL_SIZE[1] * rows), squeeze=False
    )
    try:
        cells = [ax for row in axes for ax in row]
        for panel, ax in zip(chart.panels, cells, strict=False):
            _DRAW[chart.kind](ax, panel)
            _decorate(ax, panel)
        for ax in cells[count:]:
            ax.set_visible(False)
        figure.suptitle(chart.title)
        figure.tight_layout()
        figure.savefig(path, dpi=100)
    finally:
        pyplot.close(figure)


def _bars(ax: Any, panel: Panel) -> None:
    names = list(panel.series)
    width = 0.8 / max(len(names), 1)
    for index, name in enumerate(names):
        offsets = [i + (index - (len(names) - 1) / 2) * width for i in range(len(panel.x))]
        ax.bar(offsets, panel.series[name], width, label=name)
    ax.set_xticks(range(len(panel.x)), [str(label) for label in panel.x], rotation=20, ha="right")
    if panel.reference is not None:
        ax.axhline(panel.reference, color="black", linewidth=0.8, linestyle="--")


def _lines(ax: Any, panel: Panel) -> None:
    for name, values in panel.series.items():
        ax.plot(panel.x, values, marker="o", label=name)
    if not panel.log_x:
        ax.set_xticks(panel.x, [str(x) for x in panel.x])
    if panel.reference is not None:
        ax.axhline(panel.reference, color="black", linewidth=0.8, linestyle="--")


def _cdf(ax: Any, panel: Panel) -> None:
    for name, quantiles in panel.series.items():
        levels = [i / (len(quantiles) - 1) for i in range(len(quantiles))]
        ax.plot(quantiles, levels, label=name)
    if panel.reference is not None:
        ax.axvline(panel.reference, color="black", linewidth=0.8, linestyle="--")


_DRAW = {"bars": _bars, "lines": _lines, "cdf": _cdf}


def _plain(value: float, _position: object = None) -> str:
    """Tick labels as plain numbers (``0.5``, ``20``, ``10,000``), not powers of ten."""
    return f"{value:,.0f}" if value >= 1000 else f"{value:g}"


def _decorate(ax: Any, panel: Panel) -> None:
    from matplotlib import ticker

    ax.set_title(panel.title)
    ax.set_xlabel(panel.xlabel)
    ax.set_ylabel(panel.ylabel)
    if panel.log_x:
        ax.set_xscale("log")
        if panel.x:
            ax.set_xticks(panel.x, [_plain(x) for x in panel.x])
        ax.xaxis.set_minor_formatter(ticker.NullFormatter())
    if panel.log_y:
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(ticker.FuncFormatter(_plain))
        ax.yaxis.set_minor_formatter(ticker.NullFormatter())
    if panel.log_x and not panel.x:
        ax.xaxis.set_major_formatter(ticker.FuncFormatter(_plain))
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize="small")
