"""Benchmark 1: hazelkit's codec against pickle, msgpack and msgspec.

For each payload of the fixed set, every contender encodes the value ``n`` times and
decodes the result ``n`` times per round (garbage collector off, as in ``timeit``);
contenders alternate round by round. The figure is encode + decode time per operation;
the speed ratio against pickle is taken per round and then its median.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hazelkit.bench._context import Benchmark, Context
from hazelkit.bench._model import Result
from hazelkit.bench._payloads import Payload, codec_payloads
from hazelkit.bench._runner import calibrate, interleave, timed
from hazelkit.bench._stats import Summary, paired_ratios, summarize
from hazelkit.bench._suites._codec_contenders import (
    BASELINE,
    CodecContender,
    codec_contenders,
    lost_types,
)
from hazelkit.bench._suites._codec_report import build_result

__all__ = ["BENCHMARK", "CodecPoint"]


@dataclass(frozen=True)
class CodecPoint:
    """One contender on one payload: per-operation times (seconds), size, types lost."""

    encode: Summary
    decode: Summary
    total: Summary
    speed_vs_baseline: Summary
    size: int
    lost: list[str]
    loops: int

    def to_json(self) -> dict[str, Any]:
        """The point as a JSON-ready dict (times in seconds per operation)."""
        return {
            "encode_s": self.encode.to_json(),
            "decode_s": self.decode.to_json(),
            "encode_decode_s": self.total.to_json(),
            "speed_vs_pickle": self.speed_vs_baseline.to_json(),
            "size_bytes": self.size,
            "types_lost": self.lost,
            "loops_per_round": self.loops,
        }


def _loop(contender: CodecContender, value: Any) -> Callable[[int], tuple[float, float]]:
    """A function timing ``n`` encodes then ``n`` decodes, returning both durations."""
    encode, decode = contender.encode, contender.decode
    data = encode(value)

    def run(count: int) -> tuple[float, float]:
        def encodes() -> None:
            for _ in range(count):
                encode(value)

        def decodes() -> None:
            for _ in range(count):
                decode(data)

        return timed(encodes), timed(decodes)

    return run


def measure_payload(
    payload: Payload, contenders: list[CodecContender], *, target: float, rounds: int
) -> dict[str, CodecPoint]:
    """Every contender on ``payload``, interleaved; keyed by contender name."""
    loops: dict[str, int] = {}
    rounds_of: dict[str, Callable[[], tuple[float, float]]] = {}
    for contender in contenders:
        loop = _loop(contender, payload.value)
        count = calibrate(lambda n, loop=loop: sum(loop(n)), target)  # type: ignore[misc]
        loops[contender.name] = count
        rounds_of[contender.name] = _round(loop, count)
    samples = interleave(rounds_of, rounds=rounds, warmup=1)
    totals = {name: [e + d for e, d in pairs] for name, pairs in samples.items()}
    points: dict[str, CodecPoint] = {}
    for contender in contenders:
        data = contender.encode(payload.value)
        name = contender.name
        points[name] = CodecPoint(
            encode=summarize([e for e, _ in samples[name]]),
            decode=summarize([d for _, d in samples[name]]),
            total=summarize(totals[name]),
            speed_vs_baseline=paired_ratios(totals[BASELINE], totals[name]),
            size=len(data),
            lost=lost_types(payload.value, contender.decode(data)),
            loops=loops[name],
        )
    return points


def _round(
    loop: Callable[[int], tuple[float, float]], count: int
) -> Callable[[], tuple[float, float]]:
    """One round: ``count`` encodes and decodes, as seconds per operation each."""

    def run() -> tuple[float, float]:
        encode, decode = loop(count)
        return encode / count, decode / count

    return run


async def run(context: Context) -> Result:
    """Measure every payload with every contender; see the module docstring."""
    target, rounds = context.mode.pick(smoke=(0.0002, 2), quick=(0.004, 7), full=(0.02, 21))
    contenders = codec_contenders()
    started = time.perf_counter()
    measured: dict[str, dict[str, CodecPoint]] = {}
    payloads = codec_payloads()
    for payload in payloads:
        context.echo(f"codec: {payload.label}")
        measured[payload.name] = measure_payload(payload, contenders, target=target, rounds=rounds)
    result = build_result(payloads, contenders, measured, rounds=rounds, target=target)
    result.seconds = time.perf_counter() - started
    return result


BENCHMARK = Benchmark(
    name="codec",
    title="Codec: hazelkit against pickle, msgpack and msgspec",
    order=10,
    run=run,
    summary="encode+decode time and encoded size over a fixed payload set",
)
