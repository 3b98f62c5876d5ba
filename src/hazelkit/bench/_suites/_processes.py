"""Running a benchmark's workload in several OS processes at once.

Each process runs ``python -m hazelkit.bench._suites._worker KIND URL NAME COUNT``:
it connects, prints ``ready``, waits for ``go`` on its standard input, performs
``COUNT`` operations and prints one JSON report. The parent starts them all, waits
until every one is ready (so interpreter start-up and connecting are not measured),
says ``go`` to all, and times until the last report arrives.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from dataclasses import dataclass
from typing import Any

from hazelkit._core._exceptions import HazelkitError

__all__ = ["WORKER_MODULE", "ProcessRun", "run_processes"]

WORKER_MODULE = "hazelkit.bench._suites._worker"
_LINE_LIMIT = 1 << 24


@dataclass
class ProcessRun:
    """What several worker processes did together."""

    #: Seconds from ``go`` to the last report.
    seconds: float
    #: Each process's report (``ops``, ``seconds``, ``latencies``, and what its kind adds).
    reports: list[dict[str, Any]]

    @property
    def ops(self) -> int:
        """Operations completed by all processes."""
        return sum(int(report["ops"]) for report in self.reports)

    @property
    def latencies(self) -> list[float]:
        """Every operation's latency, in seconds, all processes pooled."""
        return [latency for report in self.reports for latency in report["latencies"]]


async def _line(process: asyncio.subprocess.Process) -> bytes:
    assert process.stdout is not None
    line = await process.stdout.readline()
    if not line:
        assert process.stderr is not None
        error = (await process.stderr.read()).decode(errors="replace").strip()
        raise HazelkitError(f"a benchmark worker process failed:\n{error}")
    return line


async def run_processes(
    kind: str, url: str, name: str, count: int, *, processes: int, timeout: float
) -> ProcessRun:
    """Run ``processes`` workers of ``kind`` against ``url``, each doing ``count``
    operations on the structure ``name``; raise HazelkitError (with the worker's
    error output) if one fails, or TimeoutError after ``timeout`` seconds. Every
    process started here is gone when this returns."""
    started: list[asyncio.subprocess.Process] = []
    try:
        async with asyncio.timeout(timeout):
            for _ in range(processes):
                started.append(
                    await asyncio.create_subprocess_exec(
                        *(sys.executable, "-m", WORKER_MODULE, kind, url, name, str(count)),
                        stdin=asyncio.subprocess.PIPE,
                        stdout=asyncio.subprocess.PIPE,
                        stderr=asyncio.subprocess.PIPE,
                        limit=_LINE_LIMIT,
                    )
                )
            for process in started:
                if (await _line(process)).strip() != b"ready":
                    raise HazelkitError("a benchmark worker process did not say it was ready")
            began = time.perf_counter()
            for process in started:
                assert process.stdin is not None
                process.stdin.write(b"go\n")
            lines = await asyncio.gather(*(_line(process) for process in started))
            seconds = time.perf_counter() - began
            for process in started:
                await process.wait()
    finally:
        for process in started:
            if process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
    return ProcessRun(seconds, [json.loads(line) for line in lines])
