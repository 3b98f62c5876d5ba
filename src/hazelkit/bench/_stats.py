"""Statistics of benchmark samples: medians, spread, percentiles and paired ratios.

Every figure a benchmark reports is a median over rounds with its spread (the
interquartile range and the min-max), so one disturbed round cannot move it. Ratios
between two contenders are taken round by round (the contenders ran next to each other
in the same round, so machine drift hits both alike) and then summarized the same way.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Summary", "geomean", "paired_ratios", "percentile", "quantile_curve", "summarize"]


@dataclass(frozen=True, slots=True)
class Summary:
    """The median and spread of one measured quantity over ``n`` rounds."""

    median: float
    q1: float
    q3: float
    min: float
    max: float
    n: int

    def scaled(self, factor: float) -> Summary:
        """The same summary in other units (every figure multiplied by ``factor``)."""
        if factor < 0:
            raise ValueError("a scale factor must not be negative")
        return Summary(
            self.median * factor,
            self.q1 * factor,
            self.q3 * factor,
            self.min * factor,
            self.max * factor,
            self.n,
        )

    def to_json(self) -> dict[str, Any]:
        """The summary as a JSON-ready dict."""
        return {
            "median": self.median,
            "q1": self.q1,
            "q3": self.q3,
            "min": self.min,
            "max": self.max,
            "n": self.n,
        }


def percentile(ordered: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (0-100) of ``ordered`` (sorted), linearly interpolated.

    Raises ValueError for an empty sequence or ``p`` outside 0-100.
    """
    if not ordered:
        raise ValueError("percentile of no samples")
    if not 0.0 <= p <= 100.0:
        raise ValueError(f"percentile must be within 0..100, got {p}")
    position = (len(ordered) - 1) * p / 100.0
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    fraction = position - low
    return ordered[low] + (ordered[high] - ordered[low]) * fraction


def summarize(values: Sequence[float]) -> Summary:
    """Median, quartiles and extremes of ``values``. Raises ValueError if empty."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("cannot summarize no samples")
    return Summary(
        median=percentile(ordered, 50),
        q1=percentile(ordered, 25),
        q3=percentile(ordered, 75),
        min=ordered[0],
        max=ordered[-1],
        n=len(ordered),
    )


def paired_ratios(numerators: Sequence[float], denominators: Sequence[float]) -> Summary:
    """The summary of ``numerators[i] / denominators[i]`` over rounds ``i``.

    Both sequences come from the same interleaved rounds, so each ratio compares two
    measurements taken moments apart. Raises ValueError if the lengths differ, or
    if either is empty or a denominator is not positive.
    """
    if len(numerators) != len(denominators):
        raise ValueError("paired ratios need the same number of rounds on both sides")
    if any(d <= 0 for d in denominators):
        raise ValueError("a ratio's denominator must be positive")
    return summarize([n / d for n, d in zip(numerators, denominators, strict=True)])


def geomean(values: Sequence[float]) -> float:
    """The geometric mean of positive ``values``. Raises ValueError otherwise."""
    if not values or any(v <= 0 for v in values):
        raise ValueError("a geometric mean needs one or more positive values")
    return math.exp(sum(math.log(v) for v in values) / len(values))


def quantile_curve(values: Sequence[float], points: int = 101) -> list[float]:
    """``points`` evenly spaced quantiles of ``values`` (from min to max): a compact
    description of a distribution, for CDF charts and JSON. Raises ValueError if
    ``values`` is empty or ``points`` < 2."""
    if points < 2:
        raise ValueError("a quantile curve needs at least 2 points")
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no samples to describe")
    return [percentile(ordered, 100.0 * i / (points - 1)) for i in range(points)]
