"""Every Python example in the README runs as written.

Each ```python block runs in a fresh interpreter, with nothing imported for it: a block
with a top-level ``await`` runs as ``python -m asyncio`` would run it. Blocks run on the
embedded backend, except those marked ``<!-- hazelcast: why -->`` right before them,
which run with ``HAZELKIT_URL`` naming the test run's Hazelcast members. A block that
defines a web ``app`` (FastAPI, Starlette or Flask) is then served two requests of
``GET /`` by its framework's test client, which must count two visits of one session.
A block that cannot run at all is marked ``<!-- not-runnable: why -->``; such markers
must stay rare and say why.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from hazelkit.testing import LocalCluster

README = Path(__file__).resolve().parent.parent / "README.md"
FENCE = re.compile(r"^```python\n(.*?)^```$", re.DOTALL | re.MULTILINE)
MARKER = re.compile(r"<!--\s*([a-z-]+):\s*(.*?)\s*-->\s*\Z")
KNOWN_MARKERS = {"hazelcast", "not-runnable"}
MAX_NOT_RUNNABLE = 2
TIMEOUT = 90

RUNNER = textwrap.dedent(
    """
    import ast, asyncio, inspect, json, sys

    path = sys.argv[1]
    with open(path, encoding="utf-8") as file:
        source = file.read()
    code = compile(source, path, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    namespace = {"__name__": "__main__"}
    result = eval(code, namespace)
    if inspect.iscoroutine(result):
        asyncio.run(result)

    app = namespace.get("app")
    if app is not None:
        if hasattr(app, "test_client"):  # Flask
            client = app.test_client()
            bodies = [client.get("/").get_json() for _ in range(2)]
        else:  # Starlette, FastAPI: the lifespan runs around the requests
            from asgi_client import asgi_client

            async def visit_twice():
                async with asgi_client(app) as client:
                    return [(await client.get("/")).raise_for_status().json() for _ in range(2)]

            bodies = asyncio.run(visit_twice())
        print("README-APP " + json.dumps(bodies))
    """
)


@dataclass(frozen=True)
class Block:
    line: int
    section: str
    source: str
    marker: str | None
    reason: str


def readme_blocks() -> list[Block]:
    text = README.read_text(encoding="utf-8")
    blocks = []
    for match in FENCE.finditer(text):
        before = text[: match.start()]
        line = before.count("\n") + 1
        headings = re.findall(r"^## (.+)$", before, re.MULTILINE)
        marker = MARKER.search(before.rstrip() + "\n")
        blocks.append(
            Block(
                line=line,
                section=headings[-1] if headings else "top",
                source=match.group(1),
                marker=marker.group(1) if marker else None,
                reason=marker.group(2) if marker else "",
            )
        )
    return blocks


BLOCKS = readme_blocks()


def block_id(block: Block) -> str:
    return f"line{block.line}-{block.section.split(':')[0].replace(' ', '_')}"


def test_the_readme_has_python_examples_and_few_exceptions() -> None:
    assert len(BLOCKS) >= 10
    markers = [block for block in BLOCKS if block.marker is not None]
    for block in markers:
        assert block.marker in KNOWN_MARKERS, f"README line {block.line}: {block.marker}"
        assert len(block.reason) >= 10, f"README line {block.line}: say why ({block.reason!r})"
    not_runnable = [block for block in markers if block.marker == "not-runnable"]
    assert len(not_runnable) <= MAX_NOT_RUNNABLE, [block.line for block in not_runnable]


@pytest.fixture(scope="module")
def readme_environment(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """What the README tells a reader to export (the embedded grid by default)."""
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("HAZELKIT_")
    }
    environment["SESSION_SECRET"] = "readme-test-session-secret-0123456789"
    environment["CODEC_PASSWORD"] = "readme-test-codec-password"
    environment["HAZELKIT_URL"] = "memory://readme"
    environment["HOME"] = str(tmp_path_factory.mktemp("home"))
    environment["PYTHONPATH"] = str(Path(__file__).resolve().parent)  # for asgi_client
    return environment


def run_block(block: Block, environment: dict[str, str], tmp_path: Path) -> str:
    script = tmp_path / f"readme_line_{block.line}.py"
    script.write_text(block.source, encoding="utf-8")
    completed = subprocess.run(
        [sys.executable, "-c", RUNNER, str(script)],
        capture_output=True,
        text=True,
        env=environment,
        cwd=tmp_path,
        timeout=TIMEOUT,
        check=False,
    )
    assert completed.returncode == 0, (
        f"README line {block.line} ({block.section}) failed:\n"
        f"{completed.stdout}\n{completed.stderr}"
    )
    return completed.stdout


def check_app_counted_two_visits(output: str) -> None:
    lines = [line for line in output.splitlines() if line.startswith("README-APP ")]
    if lines:
        bodies = json.loads(lines[-1].removeprefix("README-APP "))
        assert [body["visits"] for body in bodies] == [1, 2], bodies


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.marker is None], ids=block_id)
def test_readme_block_runs_on_the_embedded_backend(
    block: Block, readme_environment: dict[str, str], tmp_path: Path
) -> None:
    output = run_block(block, readme_environment, tmp_path)
    check_app_counted_two_visits(output)


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.marker == "hazelcast"], ids=block_id)
def test_readme_block_runs_on_hazelcast(
    block: Block,
    readme_environment: dict[str, str],
    hazelcast_members: LocalCluster,
    tmp_path: Path,
) -> None:
    environment = {**readme_environment, "HAZELKIT_URL": hazelcast_members.url}
    output = run_block(block, environment, tmp_path)
    check_app_counted_two_visits(output)


def test_readme_web_examples_pass_mypy_strict(tmp_path: Path) -> None:
    """The README's web patterns type-check as users' apps would (``mypy --strict``)."""
    web_blocks = [block for block in BLOCKS if "hazelkit.web" in block.source]
    assert len(web_blocks) >= 3
    scripts = []
    for block in web_blocks:
        script = tmp_path / f"readme_line_{block.line}.py"
        script.write_text(block.source, encoding="utf-8")
        scripts.append(str(script))
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--cache-dir",
            str(tmp_path / "cache"),
            *scripts,
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=TIMEOUT * 3,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
