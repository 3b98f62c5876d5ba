"""One Cluster object through a whole outage of its only member (real Hazelcast).

A writer keeps calling ``map.put`` while the member is stopped (gracefully or by
SIGKILL) for a while and then restarted on the same port. The same Cluster must work
again afterwards, its lifecycle stream must tell RUNNING -> DISCONNECTED -> RUNNING, and
every call made while the member was down must fail fast with ClusterUnavailableError
(nothing sent), never hang. A restarted only member starts empty: these tests check that
operations work again, not that old data survived.
"""

from __future__ import annotations

import contextlib
import gc
import socket
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import anyio
import pytest

import hazelkit
from hazelkit import ClusterState, LifecycleEvent
from hazelkit.testing import LocalCluster
from member_helpers import start_members

pytestmark = [pytest.mark.hazelcast_only]

CONNECT_TIMEOUT = 2.0
FAST = 1.0  # seconds a call may take while the member is down
RECOVERY = 30.0  # seconds after the restart within which a put must succeed again
CALL_LIMIT = 15.0  # a call taking longer than this counts as hung (and is cut off)
PAUSE = 0.05  # between two calls of the writer


@dataclass
class Call:
    began: float
    seconds: float
    outcome: str  # "ok", "unavailable", "unknown", "hung" or the exception's class name


@dataclass
class Ledger:
    """What the writer did, and when the test did what (all ``time.monotonic()``)."""

    calls: list[Call] = field(default_factory=list)
    events: list[tuple[float, LifecycleEvent]] = field(default_factory=list)
    down_at: float = 0.0  # the member's process is gone
    restart_at: float = 0.0  # restart_member was called
    up_at: float = 0.0  # restart_member returned

    def record(self, began: float, outcome: str) -> None:
        self.calls.append(Call(began, time.monotonic() - began, outcome))

    def disconnected_at(self) -> float:
        return next(at for at, e in self.events if e.state is ClusterState.DISCONNECTED)

    def check(self, down_for: float) -> str:
        """Assert the outage went as promised; return a one-line summary."""
        states = [(e.previous, e.state) for _, e in self.events]
        running, disconnected = ClusterState.RUNNING, ClusterState.DISCONNECTED
        assert states == [(running, disconnected), (disconnected, running)], states
        seen_down = self.disconnected_at()
        assert seen_down - self.down_at < 10, "the Cluster noticed the outage within 10 s"
        after_fault = [c for c in self.calls if c.began >= self.down_at]
        while_down = [c for c in after_fault if seen_down <= c.began < self.restart_at]
        assert len(while_down) >= down_for / 2, "the writer kept calling while it was down"
        assert {c.outcome for c in while_down} == {"unavailable"}, _show(while_down)
        slow = [c for c in after_fault if c.began < self.restart_at and c.seconds >= FAST]
        assert not slow, f"calls made while the member was down took >= {FAST} s: {slow}"
        assert "hung" not in {c.outcome for c in self.calls}, _show(self.calls)
        # Before the Cluster noticed, a put may have been in flight: unknown, never hung.
        early = {c.outcome for c in after_fault if c.began < seen_down}
        assert early <= {"unavailable", "unknown"}, early
        first_ok = next(c for c in after_fault if c.outcome == "ok")
        recovered = first_ok.began + first_ok.seconds - self.up_at
        assert recovered < RECOVERY, f"a put succeeded again {recovered:.1f} s after restart"
        return (
            f"down {self.restart_at - self.down_at:.1f} s; noticed after"
            f" {seen_down - self.down_at:.2f} s; {len(while_down)} calls while down, slowest"
            f" {max(c.seconds for c in while_down) * 1000:.0f} ms; first put ok"
            f" {recovered:.2f} s after the restart returned; outcomes"
            f" {_counts(self.calls)}"
        )


def _counts(calls: list[Call]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for call in calls:
        counts[call.outcome] = counts.get(call.outcome, 0) + 1
    return counts


def _show(calls: list[Call]) -> str:
    return "; ".join(f"{c.outcome} in {c.seconds:.2f} s" for c in calls if c.outcome != "ok")


def _outcome(error: BaseException) -> str:
    if isinstance(error, hazelkit.ClusterUnavailableError):
        return "unavailable"
    if isinstance(error, hazelkit.IndeterminateOperationError):
        return "unknown"
    return f"{type(error).__name__}: {error}"


@pytest.fixture
def member() -> Iterator[LocalCluster]:
    """One private member for this test, always stopped afterwards."""
    local = LocalCluster(1)
    start_members(local)
    try:
        yield local
    finally:
        local.stop()


def fault(local: LocalCluster, crash: bool) -> Callable[[], object]:
    return (lambda: local.kill_member(0)) if crash else (lambda: local.stop_member(0))


# --- the async API ------------------------------------------------------------------------


async def outage(local: LocalCluster, *, down_for: float, crash: bool) -> None:
    ledger = Ledger()
    name = f"reconnect-{uuid.uuid4().hex[:8]}"
    async with hazelkit.connect(local.url, connect_timeout=CONNECT_TIMEOUT) as cluster:
        entries = cluster.map(name)
        writing = True

        async def write() -> None:
            for i in range(100_000):  # bounded; ends when the scenario is over
                if not writing:
                    return
                began = time.monotonic()
                outcome = "hung"
                with anyio.move_on_after(CALL_LIMIT):
                    try:
                        await entries.put(f"k{i % 50}", i)
                        outcome = "ok"
                    except hazelkit.HazelkitError as error:
                        outcome = _outcome(error)
                ledger.record(began, outcome)
                await anyio.sleep(PAUSE)

        async def watch() -> None:
            async for event in cluster.lifecycle_events():
                ledger.events.append((time.monotonic(), event))

        async def scenario() -> None:
            nonlocal writing
            while sum(c.outcome == "ok" for c in ledger.calls) < 20:
                await anyio.sleep(PAUSE)
            await anyio.to_thread.run_sync(fault(local, crash))
            ledger.down_at = time.monotonic()
            await anyio.sleep(down_for)
            ledger.restart_at = time.monotonic()
            await anyio.to_thread.run_sync(local.restart_member, 0)
            ledger.up_at = time.monotonic()
            with anyio.fail_after(RECOVERY):
                while not any(c.outcome == "ok" and c.began > ledger.up_at for c in ledger.calls):
                    await anyio.sleep(PAUSE)
            writing = False

        with anyio.fail_after(down_for + 120):
            async with anyio.create_task_group() as tg:
                tg.start_soon(watch)
                tg.start_soon(write)
                await scenario()
                await entries.put("after", "restart")
                assert await entries.get("after") == "restart"
                assert cluster.state is ClusterState.RUNNING
                tg.cancel_scope.cancel()
    print(ledger.check(down_for))


@pytest.mark.timeout(150)
async def test_graceful_stop_for_15_s_then_restart(member: LocalCluster) -> None:
    await outage(member, down_for=15, crash=False)


@pytest.mark.timeout(150)
async def test_crash_for_15_s_then_restart(member: LocalCluster) -> None:
    await outage(member, down_for=15, crash=True)


@pytest.mark.slow
@pytest.mark.timeout(240)
async def test_crash_for_60_s_then_restart(member: LocalCluster) -> None:
    await outage(member, down_for=60, crash=True)


# --- the blocking API ---------------------------------------------------------------------


@pytest.mark.timeout(150)
def test_blocking_cluster_through_a_15_s_crash(member: LocalCluster) -> None:
    ledger = Ledger()
    with hazelkit.connect_blocking(member.url, connect_timeout=CONNECT_TIMEOUT) as cluster:
        entries = cluster.map(f"reconnect-{uuid.uuid4().hex[:8]}")
        events = cluster.lifecycle_events()

        def watch() -> None:
            for event in events:  # ends when the cluster closes
                if event.state is ClusterState.CLOSING:
                    return
                ledger.events.append((time.monotonic(), event))

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()

        def put_for(seconds: float, *, until_ok: bool = False) -> None:
            end = time.monotonic() + seconds
            while time.monotonic() < end:  # bounded by ``seconds``
                began = time.monotonic()
                try:
                    entries.put("k", began)
                    ledger.record(began, "ok")
                    if until_ok:
                        return
                except hazelkit.HazelkitError as error:
                    ledger.record(began, _outcome(error))
                time.sleep(PAUSE)

        put_for(1.0)
        member.kill_member(0)
        ledger.down_at = time.monotonic()
        put_for(15.0)
        ledger.restart_at = time.monotonic()
        member.restart_member(0)
        ledger.up_at = time.monotonic()
        put_for(RECOVERY, until_ok=True)
        entries.put("after", "restart")
        assert entries.get("after") == "restart"
    watcher.join(timeout=10)
    assert not watcher.is_alive()
    assert cluster.state is ClusterState.CLOSED
    print(ledger.check(15.0))


# --- giving up, and a peer that never answers ---------------------------------------------


@pytest.mark.timeout(120)
async def test_reconnect_option_closes_the_cluster_when_it_runs_out(
    member: LocalCluster,
) -> None:
    reconnect = 5.0
    async with hazelkit.connect(
        member.url, connect_timeout=CONNECT_TIMEOUT, reconnect=reconnect
    ) as cluster:
        entries = cluster.map("gives-up")
        await entries.put("k", 1)
        states: list[ClusterState] = []
        async with cluster.lifecycle_events() as events:
            await anyio.to_thread.run_sync(member.kill_member, 0)
            killed_at = time.monotonic()
            with anyio.fail_after(reconnect + 30):
                async for event in events:  # ends when the Cluster closes
                    states.append(event.state)
            closed_after = time.monotonic() - killed_at
        assert states == [
            ClusterState.DISCONNECTED,
            ClusterState.CLOSING,
            ClusterState.CLOSED,
        ], states
        assert cluster.closed
        assert cluster.state is ClusterState.CLOSED
        assert closed_after >= reconnect - 0.5
        with pytest.raises(hazelkit.ClusterClosedError, match="gave up reconnecting"):
            await entries.put("k", 2)
        with pytest.raises(hazelkit.ClusterClosedError, match="gave up reconnecting"):
            await cluster.map("other").get("k")
    print(f"closed itself {closed_after:.1f} s after the only member died (reconnect=5)")


class SilentServer:
    """A loopback port that accepts TCP connections and never sends a byte (a hung
    process, a black-holing proxy). Serves in a thread until :meth:`close`."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._held: list[socket.socket] = []
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen()
        self._listener.settimeout(0.1)
        self.port: int = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():  # bounded: close() sets it
            with contextlib.suppress(TimeoutError):
                connection, _ = self._listener.accept()
                self._held.append(connection)

    def accepted(self) -> int:
        return len(self._held)

    def open_connections(self) -> int:
        """How many accepted connections the peer has not closed (reads what they sent)."""
        still_open = 0
        for connection in list(self._held):
            connection.setblocking(False)
            try:
                while connection.recv(65536):  # bounded: a silent peer sends little
                    pass
            except BlockingIOError:
                still_open += 1  # nothing more to read, and not closed
            except OSError:
                pass  # reset by the peer: closed
        return still_open

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for connection in self._held:
            connection.close()
        self._listener.close()


@contextlib.contextmanager
def silent_server() -> Iterator[SilentServer]:
    server = SilentServer()
    try:
        yield server
    finally:
        server.close()


def resource_warnings() -> list[str]:
    """The ResourceWarnings (unclosed sockets, transports) of what is garbage now."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        gc.collect()
    return [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]


@pytest.mark.timeout(60)
async def test_connecting_to_a_port_that_never_answers_fails_in_time() -> None:
    with silent_server() as server:
        url = f"hazelcast://127.0.0.1:{server.port}?cluster=nobody"
        began = time.monotonic()
        with pytest.raises(hazelkit.ClusterUnavailableError, match="connect_timeout"):
            await hazelkit.connect(url, connect_timeout=CONNECT_TIMEOUT)
        took = time.monotonic() - began
        assert server.accepted() >= 1
    assert took < CONNECT_TIMEOUT + 0.5, took
    print(f"gave up after {took:.2f} s (connect_timeout {CONNECT_TIMEOUT:g} s)")


@pytest.mark.timeout(60)
async def test_a_connect_that_timed_out_leaves_no_connection_open() -> None:
    # The half-started client is shut down: its connection to the peer must go too.
    with silent_server() as server:
        url = f"hazelcast://127.0.0.1:{server.port}?cluster=nobody"
        with pytest.raises(hazelkit.ClusterUnavailableError, match="connect_timeout"):
            await hazelkit.connect(url, connect_timeout=CONNECT_TIMEOUT)
        await anyio.sleep(1.0)  # the event loop runs on: any close has happened by now
        assert server.accepted() >= 1
        left_open = server.open_connections()
    leaks = resource_warnings()
    assert left_open == 0, f"{left_open} connection(s) still open after the failed connect"
    assert not leaks, leaks


@pytest.mark.timeout(60)
def test_blocking_connect_to_a_port_that_never_answers_fails_in_time() -> None:
    with silent_server() as server:
        url = f"hazelcast://127.0.0.1:{server.port}?cluster=nobody"
        began = time.monotonic()
        with pytest.raises(hazelkit.ClusterUnavailableError, match="connect_timeout"):
            hazelkit.connect_blocking(url, connect_timeout=CONNECT_TIMEOUT)
        took = time.monotonic() - began
        leaks = resource_warnings()  # its loop has stopped: whatever was left is garbage
    assert took < CONNECT_TIMEOUT + 0.5, took
    assert not leaks, f"connect_blocking left unclosed resources behind: {leaks}"
