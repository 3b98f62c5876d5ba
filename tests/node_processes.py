"""Node and sender processes for multi-process tests on Hazelcast members.

A test starts each process through :class:`Processes`, which keeps its ``Popen``: only
those are signalled, and every one is stopped at the end (SIGTERM, then SIGKILL after a
bound). A worker script takes one JSON argument (its config, with ``role``, ``label``,
``url``, ``prefix`` and ``folder`` filled in) and talks back through files in ``folder``.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


class Processes:
    """The processes this test started from ``worker`` (stopped by their Popen only)."""

    def __init__(self, worker: Path, folder: Path, url: str, prefix: str) -> None:
        self.worker, self.folder, self.url, self.prefix = worker, folder, url, prefix
        self.started: dict[str, subprocess.Popen[bytes]] = {}

    def spawn(self, role: str, label: str, **config: Any) -> subprocess.Popen[bytes]:
        """Start ``worker`` as ``role``; its output goes to ``LABEL.log`` in the folder."""
        config = {
            "role": role,
            "label": label,
            "url": self.url,
            "prefix": self.prefix,
            "folder": str(self.folder),
            **config,
        }
        with (self.folder / f"{label}.log").open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, str(self.worker), json.dumps(config)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.started[label] = process
        return process

    async def info(self, name: str, timeout: float = 60) -> dict[str, Any]:
        """The JSON a worker wrote to ``NAME.json`` (waiting for it up to ``timeout``)."""
        path = self.folder / f"{name}.json"
        await self.until(path.exists, timeout, f"{name}.json written")
        await asyncio.sleep(0.05)  # the file is written in one call; let it land
        found: dict[str, Any] = json.loads(path.read_text())
        return found

    def kill(self, label: str) -> None:
        """SIGKILL process ``label`` (one of ours) and reap it."""
        process = self.started[label]
        process.kill()
        process.wait(timeout=10)

    def label_of(self, pid: int) -> str:
        """The label of our process ``pid``."""
        return next(label for label, p in self.started.items() if p.pid == pid)

    async def until(self, condition: Callable[[], bool], timeout: float, what: str) -> None:
        """Wait until ``condition()``; fail (with the logs) after ``timeout`` seconds or
        as soon as one of our processes exits with an error."""
        deadline = time.monotonic() + timeout
        while not condition():
            dead = [label for label, p in self.started.items() if died(p)]
            if dead or time.monotonic() > deadline:
                pytest.fail(f"{what}: not so within {timeout:g} s (died: {dead}){self.logs()}")
            await asyncio.sleep(0.1)

    async def exited(self, labels: list[str], timeout: float) -> list[int]:
        """The exit codes of processes ``labels`` once all have exited."""
        processes = [self.started[label] for label in labels]
        await self.until(
            lambda: all(p.poll() is not None for p in processes), timeout, f"{labels} exited"
        )
        return [p.returncode for p in processes]

    def stop_all(self) -> None:
        """Stop every process still running: SIGTERM, then SIGKILL after 20 s."""
        for process in self.started.values():
            if process.poll() is None:
                process.send_signal(signal.SIGCONT)  # a paused one must see its SIGTERM
                process.terminate()
        for process in self.started.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)

    def logs(self) -> str:
        """The last lines of every process's log, for failure messages."""
        tails = []
        for log in sorted(self.folder.glob("*.log")):
            lines = log.read_text(errors="replace").splitlines()[-15:]
            tails.append(f"\n--- {log.name}:\n" + "\n".join(lines))
        return "".join(tails)


def died(process: subprocess.Popen[bytes]) -> bool:
    """Exited with an error (not killed by the test: those are reaped and forgotten)."""
    code = process.poll()
    return code is not None and code not in (0, -signal.SIGKILL, -signal.SIGTERM)
