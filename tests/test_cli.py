"""The hazelkit command: help, the demo, local members and member listing."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import pytest

import hazelkit
from hazelkit.testing import LocalCluster

HAZELKIT = [sys.executable, "-m", "hazelkit"]


def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*HAZELKIT, *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def test_help_lists_the_commands() -> None:
    result = run("--help")
    assert result.returncode == 0
    for command in ("local-cluster", "demo", "bench", "members", "inspect", "dashboard"):
        assert command in result.stdout


def test_demo_runs_on_the_embedded_grid() -> None:
    result = run("demo")
    assert result.returncode == 0, result.stderr
    assert "node 1 stored 2 users" in result.stdout
    assert "a node joined" in result.stdout
    assert "the singleton was cancelled there" in result.stdout
    assert "two instances at once: 0 times" in result.stdout
    assert "done" in result.stdout


def test_demo_runs_on_hazelcast(hazelcast_members: LocalCluster) -> None:
    result = run("demo", "--url", hazelcast_members.url)
    assert result.returncode == 0, result.stderr
    assert "type kept" in result.stdout


def test_members_lists_hazelcast_members(hazelcast_members: LocalCluster) -> None:
    result = run("members", hazelcast_members.url)
    assert result.returncode == 0, result.stderr
    for address in hazelcast_members.addresses:
        assert address in result.stdout


def test_bad_url_is_a_clear_error_and_exit_code() -> None:
    result = run("members", "redis://nowhere")
    assert result.returncode == 2  # a usage error: the URL itself is wrong
    assert "unknown cluster URL scheme 'redis'" in result.stderr


@pytest.mark.timeout(180)
def test_local_cluster_serves_until_ctrl_c() -> None:
    process = subprocess.Popen(
        [*HAZELKIT, "local-cluster", "--members", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    try:
        url = None
        output = []
        deadline = time.monotonic() + 120
        assert process.stdout is not None
        while url is None and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            output.append(line)
            found = re.search(r"(hazelcast://\S+)", line)
            url = found.group(1) if found else None
        assert url, "".join(output)
        with hazelkit.connect_blocking(url) as cluster:
            cluster.map("cli")["k"] = "v"
            assert cluster.map("cli")["k"] == "v"
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=60)
        assert process.returncode == 0, "".join(output) + rest
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
