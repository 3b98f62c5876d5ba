"""Two app processes (uvicorn subprocesses) sharing one Hazelcast cluster share sessions."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx

from hazelkit.testing import LocalCluster

HERE = Path(__file__).parent
START_TIMEOUT = 60.0
_RUNNING = re.compile(r"Uvicorn running on (http://127\.0\.0\.1:\d+)")


@contextmanager
def app_process(url: str, map_name: str, log: Path) -> Iterator[str]:
    """Start ``web_apps:env_app`` under uvicorn in a child process; yield its base URL;
    stop the process (terminate, then kill) whatever happens."""
    command = [
        sys.executable, "-m", "uvicorn", "--factory", "web_apps:env_app",
        "--app-dir", str(HERE), "--host", "127.0.0.1", "--port", "0",
        "--log-level", "info", "--no-access-log",
    ]  # fmt: skip
    env = {**os.environ, "HAZELKIT_URL": url, "WEB_TEST_MAP": map_name}
    with log.open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=env)
    try:
        yield _wait_for_start(process, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


def _wait_for_start(process: subprocess.Popen[bytes], log: Path) -> str:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        found = _RUNNING.search(log.read_text(errors="replace"))
        if found:
            return found.group(1)
        if process.poll() is not None:
            break
        time.sleep(0.05)
    raise AssertionError(f"the app process did not start:\n{log.read_text(errors='replace')}")


async def test_two_processes_share_sessions(
    hazelcast_members: LocalCluster, name: str, tmp_path: Path
) -> None:
    with ExitStack() as stack:
        first = stack.enter_context(app_process(hazelcast_members.url, name, tmp_path / "a.log"))
        second = stack.enter_context(app_process(hazelcast_members.url, name, tmp_path / "b.log"))
        async with httpx.AsyncClient(timeout=30) as http:

            async def call(base: str, action: str, cookie: str, **params: str) -> httpx.Response:
                headers = {"cookie": f"session={cookie}"} if cookie else {}
                return await http.post(f"{base}/{action}", params=params, headers=headers)

            login = await call(first, "login", "", user="ada")
            cookie = login.headers["set-cookie"].split(";")[0].split("=", 1)[1]
            assert (await call(second, "get", cookie, key="user")).json() == {"value": "ada"}

            # Concurrent writes through both processes: every key survives.
            writes = [
                call((first, second)[i % 2], "set", cookie, key=f"k{i}", value=str(i))
                for i in range(20)
            ]
            assert all(r.status_code == 200 for r in await asyncio.gather(*writes))
            stored = (await call(first, "all", cookie)).json()
            assert stored == {"user": "ada", **{f"k{i}": str(i) for i in range(20)}}

            await call(second, "logout", cookie)  # logging out on one process ...
            after = await call(first, "get", cookie, key="user")
            assert after.json() == {"value": None}  # ... ends the session on the other
