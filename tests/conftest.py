"""The backend fixture: every conformance test runs on the embedded grid and on Hazelcast.

``backend`` is parametrized over ``memory`` and ``hazelcast`` (as anyio's ``anyio_backend``
is over asyncio and trio). The Hazelcast parameter uses one session-wide set of real
members started from the Hazelcast jar on free loopback ports, and stopped at the end.

Select one backend with ``-k memory`` or ``-k hazelcast``. With ``CI=true`` a missing JDK
or jar fails the run; elsewhere the Hazelcast half is skipped with the reason shown.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

import hazelkit
from hazelkit.testing import LocalCluster
from member_helpers import start_members
from timing import GridTime

BACKENDS = ["memory", "hazelcast"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--hazelcast-members",
        type=int,
        default=1,
        help="members in the session-wide Hazelcast cluster of the conformance suite",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test marked ``hazelcast_only`` never runs on the embedded grid: its memory
    variant is deselected (and reported as such), whatever its fixtures are."""
    deselected = [item for item in items if _hazelcast_only_on_memory(item)]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if item not in deselected]
    # The long fault tests first (otherwise in order): with several workers (pytest-xdist,
    # as ./scripts/test runs them) none of them starts last and stretches the run.
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def _hazelcast_only_on_memory(item: pytest.Item) -> bool:
    if item.get_closest_marker("hazelcast_only") is None:
        return False
    params = getattr(getattr(item, "callspec", None), "params", {})
    return params.get("backend") == "memory"


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def hazelcast_members(request: pytest.FixtureRequest) -> Iterator[LocalCluster]:
    """Real Hazelcast members for the whole session (started on first use)."""
    members = request.config.getoption("--hazelcast-members")
    local = LocalCluster(members=members, cluster_name=f"hazelkit-test-{uuid.uuid4().hex[:8]}")
    start_members(local)
    try:
        yield local
    finally:
        local.stop()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The backend name of this run of the test: ``memory`` or ``hazelcast``."""
    return str(request.param)


@pytest.fixture
def url(backend: str, request: pytest.FixtureRequest) -> str:
    """A URL for this test: a fresh embedded grid, or the session's Hazelcast cluster."""
    if backend == "memory":
        return f"memory://test-{uuid.uuid4().hex[:12]}"
    members: LocalCluster = request.getfixturevalue("hazelcast_members")
    return members.url


@pytest.fixture
def name() -> str:
    """A structure name no other test uses (the Hazelcast cluster is shared)."""
    return f"t-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def grid_time(backend: str) -> GridTime:
    """Grid time for this test (see tests/timing.py): asking for it puts ``cluster`` and
    ``cluster2`` on a frozen ManualClock on the embedded grid."""
    return GridTime(backend)


def _connect_options(request: pytest.FixtureRequest) -> dict[str, Any]:
    if "grid_time" not in request.fixturenames:
        return {}
    grid_time: GridTime = request.getfixturevalue("grid_time")
    return grid_time.options


@pytest.fixture
async def cluster(url: str, request: pytest.FixtureRequest) -> AsyncIterator[hazelkit.Cluster]:
    async with hazelkit.connect(url, **_connect_options(request)) as connected:
        yield connected


@pytest.fixture
async def cluster2(url: str, request: pytest.FixtureRequest) -> AsyncIterator[hazelkit.Cluster]:
    """A second, independent connection to the same grid (another node)."""
    async with hazelkit.connect(url, **_connect_options(request)) as connected:
        yield connected


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Show how many tests passed on each backend, so a run proves both were exercised."""
    counts: dict[str, dict[str, int]] = {b: {} for b in BACKENDS}
    for outcome in ("passed", "failed", "skipped", "error"):
        for report in terminalreporter.stats.get(outcome, []):
            nodeid = getattr(report, "nodeid", "")
            params = nodeid.rpartition("[")[2].rstrip("]").split("-") if "[" in nodeid else []
            for backend_name in BACKENDS:
                if backend_name in params:
                    bucket = counts[backend_name]
                    bucket[outcome] = bucket.get(outcome, 0) + 1
    if any(counts.values()):
        terminalreporter.section("tests per backend")
        for backend_name, bucket in counts.items():
            summary = ", ".join(f"{n} {outcome}" for outcome, n in sorted(bucket.items()))
            terminalreporter.write_line(f"{backend_name}: {summary or 'none'}")
