"""The codec benchmark's tables, goals and chart, from its measurements."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hazelkit.bench import _format as fmt
from hazelkit.bench._model import Chart, Goal, Panel, Result, Table
from hazelkit.bench._payloads import Payload
from hazelkit.bench._stats import geomean
from hazelkit.bench._suites._codec_contenders import BASELINE, NO_LZ4, CodecContender

if TYPE_CHECKING:
    from hazelkit.bench._suites.codec import CodecPoint

__all__ = ["build_result"]

Measured = dict[str, dict[str, "CodecPoint"]]
HAZELKIT = "hazelkit"
SPEED_GOAL, WORST_GOAL, SIZE_GOAL = 1.5, 0.7, 0.8


def build_result(
    payloads: list[Payload],
    contenders: list[CodecContender],
    measured: Measured,
    *,
    rounds: int,
    target: float,
) -> Result:
    """The codec benchmark's Result: summary tables, details, goals and chart."""
    names = [contender.name for contender in contenders]
    result = Result(
        name="codec",
        title="Codec: hazelkit against pickle, msgpack and msgspec",
        description=(
            "Encode + decode time per operation (median of "
            f"{rounds} interleaved rounds of at least {fmt.duration(target)} each) and "
            "encoded size, on a fixed payload set. Ratios are against pickle (protocol 5): "
            "speed above 1x is faster than pickle, size below 1x is smaller."
        ),
        tables=[
            _time_table(payloads, names, measured),
            _size_table(payloads, names, measured),
            _detail_table(payloads, names, measured),
        ],
        goals=_goals(payloads, measured),
        charts=[_chart(payloads, names, measured)],
        notes=[f"{c.name}: {c.description}" for c in contenders],
    )
    result.data = {
        "rounds": rounds,
        "min_round_seconds": target,
        "contenders": {c.name: c.description for c in contenders},
        "payloads": {
            p.name: {"label": p.label, "results": {n: measured[p.name][n].to_json() for n in names}}
            for p in payloads
        },
    }
    return result


def _speed(point: CodecPoint) -> float:
    return point.speed_vs_baseline.median


def _size_ratio(measured: Measured, payload: str, name: str) -> float:
    return measured[payload][name].size / measured[payload][BASELINE].size


def _time_table(payloads: list[Payload], names: list[str], measured: Measured) -> Table:
    table = Table("Encode + decode, per operation (speed relative to pickle)", ["payload", *names])
    for payload in payloads:
        points = measured[payload.name]
        table.add(
            payload.label,
            *(
                f"{fmt.duration(points[n].total.median)} ({fmt.ratio(_speed(points[n]))})"
                for n in names
            ),
        )
    table.add(
        "**geometric mean of speed**",
        *(
            f"**{fmt.ratio(geomean([_speed(measured[p.name][n]) for p in payloads]))}**"
            for n in names
        ),
    )
    record = payloads[0].name
    table.add(
        "types kept (user record)", *(", ".join(measured[record][n].lost) or "all" for n in names)
    )
    return table


def _size_table(payloads: list[Payload], names: list[str], measured: Measured) -> Table:
    table = Table("Encoded size in bytes (relative to pickle)", ["payload", *names])
    for payload in payloads:
        table.add(
            payload.label,
            *(
                f"{fmt.size(measured[payload.name][n].size)} "
                f"({fmt.ratio(_size_ratio(measured, payload.name, n))})"
                for n in names
            ),
        )
    table.add(
        "**geometric mean of size**",
        *(
            f"**{fmt.ratio(geomean([_size_ratio(measured, p.name, n) for p in payloads]))}**"
            for n in names
        ),
    )
    return table


def _detail_table(payloads: list[Payload], names: list[str], measured: Measured) -> Table:
    table = Table(
        "Details",
        [
            "payload",
            "contender",
            "encode",
            "decode",
            "encode+decode",
            "spread (IQR)",
            "speed vs pickle",
            "size (bytes)",
            "types kept",
        ],
    )
    for payload in payloads:
        for name in names:
            point = measured[payload.name][name]
            table.add(
                payload.label,
                name,
                fmt.duration(point.encode.median),
                fmt.duration(point.decode.median),
                fmt.duration(point.total.median),
                fmt.spread(point.total),
                fmt.ratio(_speed(point)),
                fmt.size(point.size),
                ", ".join(point.lost) or "all",
            )
    table.notes.append(
        "spread: half the interquartile range of the rounds, relative to "
        "the median; speed ratios are medians of per-round ratios."
    )
    return table


def _goals(payloads: list[Payload], measured: Measured) -> list[Goal]:
    speeds = {p.name: _speed(measured[p.name][HAZELKIT]) for p in payloads}
    sizes = {p.label: _size_ratio(measured, p.name, HAZELKIT) for p in payloads}
    speed_mean, size_mean = geomean(list(speeds.values())), geomean(list(sizes.values()))
    worst = min(payloads, key=lambda p: speeds[p.name])
    largest = max(sizes, key=sizes.__getitem__)
    slow = [p for p in payloads if speeds[p.name] < SPEED_GOAL]
    plain_mean = geomean([_speed(measured[p.name][NO_LZ4]) for p in payloads])
    return [
        Goal(
            "codec speed, geometric mean",
            f">= {SPEED_GOAL}x pickle",
            fmt.ratio(speed_mean),
            speed_mean >= SPEED_GOAL,
            ""
            if speed_mean >= SPEED_GOAL
            else "; ".join(_why_slow(measured, p) for p in slow)
            + f"; geometric mean without lz4: {fmt.ratio(plain_mean)}",
        ),
        Goal(
            "codec speed, every payload",
            f">= {WORST_GOAL}x pickle",
            f"slowest: {worst.label} at {fmt.ratio(speeds[worst.name])}",
            speeds[worst.name] >= WORST_GOAL,
            "" if speeds[worst.name] >= WORST_GOAL else _why_slow(measured, worst),
        ),
        Goal(
            "codec size, geometric mean",
            f"<= {SIZE_GOAL}x pickle",
            fmt.ratio(size_mean),
            size_mean <= SIZE_GOAL,
            ""
            if size_mean <= SIZE_GOAL
            else f"largest relative to pickle: {largest} at {fmt.ratio(sizes[largest])}",
        ),
    ]


def _why_slow(measured: Measured, payload: Payload) -> str:
    """Which half (encode or decode) holds ``payload`` back against pickle, and what
    compression costs on it."""
    points = measured[payload.name]
    ours, theirs, plain = points[HAZELKIT], points[BASELINE], points[NO_LZ4]
    encode = theirs.encode.median / ours.encode.median
    decode = theirs.decode.median / ours.decode.median
    text = (
        f"{payload.label} {fmt.ratio(_speed(ours))}: encode {fmt.ratio(encode)}, "
        f"decode {fmt.ratio(decode)} pickle's speed"
    )
    if ours.size < plain.size:  # compressed by default
        lz4 = ours.total.median - plain.total.median
        cost = (
            f"lz4 takes {fmt.duration(lz4)} of {fmt.duration(ours.total.median)}"
            if lz4 > 0  # else within the noise: smaller input to decode can even win it back
            else "lz4 costs nothing measurable here"
        )
        text += f", {cost} (without it {fmt.ratio(_speed(plain))})"
    return text


def _chart(payloads: list[Payload], names: list[str], measured: Measured) -> Chart:
    others = [n for n in names if n != BASELINE]
    labels = [p.label for p in payloads]
    speed = {n: [_speed(measured[p.name][n]) for p in payloads] for n in others}
    size = {n: [_size_ratio(measured, p.name, n) for p in payloads] for n in others}
    return Chart(
        "codec.png",
        "Codec against pickle (pickle = 1)",
        "bars",
        [
            Panel(
                "Speed (higher is better)",
                "",
                "x pickle's speed",
                speed,
                x=labels,
                log_y=True,
                reference=1.0,
            ),
            Panel(
                "Encoded size (lower is better)",
                "",
                "x pickle's size",
                size,
                x=labels,
                log_y=True,
                reference=1.0,
            ),
        ],
    )
