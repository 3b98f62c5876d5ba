"""How figures are written in tables: durations, rates, sizes and ratios."""

from __future__ import annotations

from hazelkit.bench._stats import Summary

__all__ = ["duration", "rate", "ratio", "size", "spread"]


def duration(seconds: float) -> str:
    """``0.0000123`` → ``"12.3 µs"``; three significant digits, in ns, µs, ms or s."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{_three(seconds / scale)} {unit}"
    return f"{_three(seconds / 1e-9)} ns"


def rate(per_second: float) -> str:
    """Operations per second with thousands separators: ``"12,345"``."""
    return f"{per_second:,.0f}"


def ratio(value: float) -> str:
    """``1.234`` → ``"1.23x"``."""
    return f"{value:.2f}x"


def size(count: int) -> str:
    """Bytes with thousands separators: ``"14,167"``."""
    return f"{count:,}"


def spread(summary: Summary, unit: str = "") -> str:
    """The interquartile range relative to the median: ``"±3%"`` (half the IQR)."""
    if summary.median == 0:
        return "n/a"
    half = (summary.q3 - summary.q1) / 2 / abs(summary.median)
    return f"±{half * 100:.0f}%{unit}"


def _three(value: float) -> str:
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"
