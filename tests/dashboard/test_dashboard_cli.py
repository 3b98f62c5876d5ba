"""``hazelkit dashboard`` and ``hazelkit demo --dashboard`` as a user runs them: real
processes, stopped with Ctrl-C (SIGINT) while a page is open."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

import httpx
import pytest

HAZELKIT = [sys.executable, "-m", "hazelkit"]
pytestmark = pytest.mark.timeout(180)


@contextmanager
def started(*args: str) -> Iterator[subprocess.Popen[str]]:
    """``hazelkit ARGS`` running, stopped (killed if need be) afterwards."""
    process = subprocess.Popen(
        [*HAZELKIT, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


def wait_for_line(stream: IO[str] | None, pattern: str, seen: list[str]) -> re.Match[str]:
    """Read lines until one matches ``pattern`` (the test's timeout bounds the wait)."""
    assert stream is not None
    for line in stream:
        seen.append(line)
        found = re.search(pattern, line)
        if found:
            return found
    raise AssertionError(f"no line matching {pattern!r} in:\n{''.join(seen)}")


def stream_frames(http: httpx.Client) -> Iterator[dict[str, Any]]:
    with http.stream("GET", "/api/events") as response:
        for line in response.iter_lines():
            if line.startswith("data:"):
                yield json.loads(line.removeprefix("data:"))


def stop(process: subprocess.Popen[str], seen: list[str]) -> str:
    process.send_signal(signal.SIGINT)
    rest, _ = process.communicate(timeout=30)
    output = "".join(seen) + rest
    assert process.returncode == 0, output
    return output


def test_the_dashboard_serves_a_cluster_until_ctrl_c_with_a_page_open(url: str) -> None:
    seen: list[str] = []
    with started("dashboard", url, "--port", "0", "--interval", "0.2") as process:
        address = wait_for_line(process.stdout, r"at (http://\S+) \(Ctrl-C", seen).group(1)
        with httpx.Client(base_url=address, timeout=30) as http:
            snapshot = http.get("/api/snapshot").json()
            page = http.get("/")
            frames = stream_frames(http)
            first = next(frames)
            output = stop(process, seen)  # with the event stream still open
            rest = list(frames)  # it ends (cleanly, no hang) as the server stops
    assert all(frame["url"] == first["url"] for frame in rest)
    assert page.status_code == 200
    assert snapshot["url"] == first["url"]
    assert snapshot["actions"] is False
    assert "dashboard stopped" in output


def test_actions_from_the_command_line_need_the_printed_token() -> None:
    seen: list[str] = []
    grid = f"memory://cli-{uuid.uuid4().hex[:8]}"
    with started("dashboard", grid, "--port", "0", "--allow-actions") as process:
        token = wait_for_line(process.stdout, r"token .*: (\S+)$", seen).group(1)
        address = wait_for_line(process.stdout, r"at (http://\S+) \(Ctrl-C", seen).group(1)
        with httpx.Client(base_url=address, timeout=30) as http:
            without = http.post("/api/workflows/nobody/resume")
            with_token = http.post(
                "/api/workflows/nobody/resume", headers={"authorization": f"Bearer {token}"}
            )
        stop(process, seen)
    assert without.status_code == 403
    assert with_token.status_code == 404  # let in; there is no such workflow


def test_bad_options_and_an_unreachable_cluster_have_their_exit_codes() -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*HAZELKIT, "dashboard", *args], capture_output=True, text=True, timeout=60
        )

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = run("memory://cli", "--port", str(port))
        nobody = run(f"hazelcast://127.0.0.1:{port}?cluster=none", "--connect-timeout", "1")
    token_alone = run("memory://cli", "--token", "t")
    assert (busy.returncode, token_alone.returncode) == (2, 2)
    assert f"cannot listen on 127.0.0.1:{port}" in busy.stderr
    assert "--allow-actions" in token_alone.stderr
    assert nobody.returncode == 3, nobody.stderr


@pytest.mark.slow
def test_the_demo_shows_its_failover_in_the_dashboard() -> None:
    seen: list[str] = []
    grid = f"memory://demo-{uuid.uuid4().hex[:8]}"
    args = ("demo", "--url", grid, "--dashboard", "--dashboard-port", "0")
    with started(*args) as process:
        address = wait_for_line(process.stdout, r"dashboard: (http://\S+)", seen).group(1)
        with httpx.Client(base_url=address, timeout=30) as http:
            deadline = time.monotonic() + 120
            for frame in stream_frames(http):  # an open page lets the demo go on
                moved = [c for c in frame["changes"] if c["kind"] == "failover"]
                if sum(c["workflows"] for c in moved) > 0 or time.monotonic() > deadline:
                    break
            wait_for_line(process.stdout, r"Ctrl-C to end", seen)
            statuses = http.get("/api/snapshot").json()["workflow_statuses"]
        output = stop(process, seen)
    assert sum(c["workflows"] for c in moved) > 0, frame["changes"]
    assert {c["previous"] for c in moved} == {moved[0]["previous"]}  # one node crashed
    assert statuses == {"running": 24}  # the nodes stay up at the end, workflows too
    assert "node 1 crashed" in output
    assert "exactly once" in output
    assert "demo stopped" in output
