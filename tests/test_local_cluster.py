"""The local member launcher, on real Hazelcast members: nothing mocked, nothing skipped.

A missing JDK or jar fails these tests (in CI and elsewhere): they exist to prove that
members can be started.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import hazelkit
import hazelkit.testing
from hazelkit._core._exceptions import ClusterUnavailableError, ConfigurationError
from hazelkit._local_cluster._config import member_config
from hazelkit._local_cluster._discovery import JAR_NAME
from hazelkit.testing import (
    HAZELCAST_VERSION,
    LocalCluster,
    MemberProcess,
    find_hazelcast_jar,
    find_java,
)

START_TIMEOUT = 90  # pytest-timeout for a test that starts members: 2 cores, maybe busy
RUN_ONE = "from hazelkit._local_cluster import run_local_cluster; run_local_cluster(1)"
RUN_TWO = "from hazelkit._local_cluster import run_local_cluster; run_local_cluster(2)"


@pytest.fixture(scope="module")
def jar() -> Path:
    """The real jar (from ~/.m2 in CI: .ci/run fetches it). Missing means failure."""
    return find_hazelcast_jar()


@pytest.fixture
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No jar anywhere: empty HOME, cache directory and Maven repository."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("HAZELKIT_HAZELCAST_JAR", raising=False)
    monkeypatch.setenv("HAZELKIT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("MAVEN_REPO_LOCAL", str(tmp_path / "m2"))
    return tmp_path


def process_exists(pid: int) -> bool:
    """True if ``pid`` is a live (non-zombie) process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def wait_gone(pid: int, timeout: float = 10.0) -> bool:
    """Wait until ``pid`` no longer exists (init may need a moment to reap an orphan)."""
    deadline = time.monotonic() + timeout
    while process_exists(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def assert_all_gone(members: list[MemberProcess]) -> None:
    for member in members:
        assert member.pid is not None
        assert not member.is_running
        assert member.exit_code is not None
        assert not process_exists(member.pid), f"{member} still exists"


def accepts_connections(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A loopback port this test holds open, so a member cannot bind it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


# --- finding the jar and java --------------------------------------------------------------


def test_explicit_jar_is_used(tmp_path: Path) -> None:
    jar = tmp_path / "my.jar"
    jar.write_bytes(b"")
    assert find_hazelcast_jar(jar) == jar
    assert find_hazelcast_jar(str(jar)) == jar


def test_explicit_missing_jar_is_an_error_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "hazelcast.jar"
    with pytest.raises(ConfigurationError, match=re.escape(str(missing))):
        find_hazelcast_jar(missing)


def test_jar_from_environment_variable(
    isolated_env: Path, jar: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    linked = isolated_env / "linked.jar"
    linked.symlink_to(jar)
    monkeypatch.setenv("HAZELKIT_HAZELCAST_JAR", str(linked))
    assert find_hazelcast_jar(download=False) == linked


def test_environment_variable_naming_no_file_is_an_error(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = isolated_env / "gone.jar"
    monkeypatch.setenv("HAZELKIT_HAZELCAST_JAR", str(missing))
    with pytest.raises(ConfigurationError, match="HAZELKIT_HAZELCAST_JAR") as info:
        find_hazelcast_jar(download=False)
    assert str(missing) in str(info.value)


def test_jar_from_cache_directory(isolated_env: Path, jar: Path) -> None:
    cached = isolated_env / "cache" / JAR_NAME
    cached.parent.mkdir()
    cached.symlink_to(jar)
    assert find_hazelcast_jar(download=False) == cached


def test_jar_from_local_maven_repository(isolated_env: Path, jar: Path) -> None:
    in_repo = isolated_env / "m2" / "com" / "hazelcast" / "hazelcast" / HAZELCAST_VERSION
    in_repo.mkdir(parents=True)
    (in_repo / JAR_NAME).symlink_to(jar)
    assert find_hazelcast_jar(download=False) == in_repo / JAR_NAME


def test_no_jar_and_no_download_says_how_to_fix_it(isolated_env: Path) -> None:
    with pytest.raises(ConfigurationError) as info:
        find_hazelcast_jar(download=False)
    message = str(info.value)
    for hint in ("--jar", "HAZELKIT_HAZELCAST_JAR", "Maven", "mvn", "download=False"):
        assert hint in message
    assert str(isolated_env / "cache" / JAR_NAME) in message


def test_no_jar_and_no_maven_says_install_maven(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(isolated_env))  # no mvn there: nothing is downloaded
    with pytest.raises(ConfigurationError, match="install Maven"):
        find_hazelcast_jar()


def test_find_java_prefers_java_home_then_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JAVA_HOME", raising=False)
    on_path = find_java()
    assert on_path.name == "java"
    fake_home = tmp_path / "jdk"
    (fake_home / "bin").mkdir(parents=True)
    (fake_home / "bin" / "java").symlink_to(on_path)
    monkeypatch.setenv("JAVA_HOME", str(fake_home))
    assert find_java() == fake_home / "bin" / "java"


def test_no_java_says_install_a_jdk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "no-jdk"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ConfigurationError, match="install a JDK") as info:
        find_java()
    assert "JAVA_HOME" in str(info.value)


def test_explicit_missing_java_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="not executable"):
        find_java(tmp_path / "java")


# --- configuration -------------------------------------------------------------------------


def test_member_config_is_complete_and_test_friendly() -> None:
    text = member_config("c-1", 41000, ["127.0.0.1:41001"], properties={"hazelcast.x": 3})
    for line in (
        'cluster-name: "c-1"',
        "hazelcast.phone.home.enabled: false",
        "hazelcast.max.no.heartbeat.seconds: 5",
        # every partition scanned in each expiry run: EXPIRED events within ~5 s
        "hazelcast.internal.map.expiration.cleanup.operation.count: 31",
        "hazelcast.x: 3",
        "auto-increment: false",
        "port: 41000",
        '- "127.0.0.1:41001"',
        '- "127.0.0.1:41000"',
        "capacity: 10000",
    ):
        assert line in text
    assert text.count("backup-count: 1") == 6


def test_bad_arguments_are_configuration_errors() -> None:
    with pytest.raises(ConfigurationError, match="at least 1"):
        LocalCluster(0)
    with pytest.raises(ConfigurationError, match="cluster name"):
        LocalCluster(cluster_name="no spaces")
    with pytest.raises(ConfigurationError, match="heap"):
        LocalCluster(heap="lots")


def test_default_cluster_names_are_random() -> None:
    first, second = LocalCluster(), LocalCluster()
    assert first.cluster_name.startswith("hazelkit-")
    assert first.cluster_name != second.cluster_name


def test_testing_module_exports() -> None:
    assert hazelkit.testing.__all__ == sorted(hazelkit.testing.__all__)  # as every module
    for name in ("HAZELCAST_VERSION", "LocalCluster", "MemberProcess", "find_hazelcast_jar"):
        assert name in hazelkit.testing.__all__
        assert hasattr(hazelkit.testing, name)


def test_stopping_what_never_started_does_nothing(tmp_path: Path) -> None:
    LocalCluster(2).stop()
    MemberProcess("idle", workdir=tmp_path).stop()


# --- real members --------------------------------------------------------------------------


@pytest.mark.timeout(START_TIMEOUT)
def test_two_members_form_one_cluster_and_leave_nothing_behind(jar: Path) -> None:
    with LocalCluster(2, jar=jar) as lc:
        assert lc.workdir is not None
        workdir = lc.workdir
        first, second = lc.members
        assert first.port != second.port
        assert lc.addresses == [f"127.0.0.1:{first.port}", f"127.0.0.1:{second.port}"]
        assert lc.url == f"hazelcast://{first.address},{second.address}?cluster={lc.cluster_name}"
        for member in lc.members:
            assert member.is_running
            assert member.pid is not None
            assert process_exists(member.pid)
            assert member.cluster_size == 2
            log = member.log_path.read_text()
            assert "Members {size:2" in log
            assert f"[127.0.0.1]:{member.port} is STARTED" in log
            assert f"[{lc.cluster_name}]" in log
            assert "without proper access to required Java packages" not in log
            assert accepts_connections(member.port)
        members = list(lc.members)
    assert_all_gone(members)
    assert [member.exit_code for member in members] == [143, 143]  # SIGTERM, clean exit
    assert not workdir.exists()


@pytest.mark.timeout(START_TIMEOUT)
def test_kill_and_restart_the_first_member(jar: Path) -> None:
    # Member 1 is the seed (the first master): the other must take over, and the
    # restarted seed must join it rather than start a cluster of its own.
    with LocalCluster(2, jar=jar) as lc:
        killed = lc.kill_member(0)
        assert killed.pid is not None
        assert not killed.is_running
        assert killed.exit_code == -signal.SIGKILL
        assert not killed.exited_unexpectedly
        assert not process_exists(killed.pid)
        lc.wait_cluster_size(1, timeout=30)  # heartbeat timeout: 5 s
        assert lc.running == [lc.members[1]]
        assert lc.members[1].cluster_size == 1

        old_pid = killed.pid
        restarted = lc.restart_member(0)
        assert restarted is killed
        assert restarted.is_running
        assert restarted.pid != old_pid
        assert [member.cluster_size for member in lc.members] == [2, 2]
        members = list(lc.members)
    assert_all_gone(members)


@pytest.mark.timeout(START_TIMEOUT)
def test_a_client_reaches_the_cluster_and_data_survives_a_crash(jar: Path) -> None:
    with warnings.catch_warnings():  # the client still imports asyncore (deprecated)
        warnings.simplefilter("ignore", DeprecationWarning)
        from hazelcast.asyncio import HazelcastClient

    async def scenario(lc: LocalCluster) -> None:
        client = await HazelcastClient.create_and_start(
            cluster_name=lc.cluster_name, cluster_members=lc.addresses
        )
        try:
            assert len(client.cluster_service.get_members()) == 2
            entries: Any = await client.get_map("survivors")
            for key in range(100):
                await entries.put(key, key * key)
            ring: Any = await client.get_ringbuffer("ring")
            assert await ring.capacity() == 10000

            lc.kill_member(0)  # backup-count 1: every entry has a copy on the other member
            lc.wait_cluster_size(1, timeout=30)
            assert await entries.size() == 100
            assert await entries.get(99) == 99 * 99
        finally:
            await client.shutdown()

    with LocalCluster(2, jar=jar) as lc:
        asyncio.run(scenario(lc))


@pytest.mark.timeout(START_TIMEOUT)
def test_add_member_then_stop_one_gracefully(jar: Path) -> None:
    with LocalCluster(1, jar=jar) as lc:
        added = lc.add_member()
        assert lc.members == [lc.members[0], added]
        assert added.name == "member-2"
        assert added.address in lc.url
        assert [member.cluster_size for member in lc.members] == [2, 2]

        stopped = lc.stop_member(0)
        assert stopped.exit_code == 143
        assert not stopped.exited_unexpectedly
        lc.wait_cluster_size(1, timeout=10)  # a graceful leave is seen at once
        assert added.cluster_size == 1
        members = list(lc.members)
    assert_all_gone(members)


@pytest.mark.timeout(START_TIMEOUT)
@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_run_local_cluster_serves_until_signalled(
    stop_signal: signal.Signals, tmp_path: Path
) -> None:
    with run_in_subprocess(RUN_ONE, tmp_path) as runner:
        output = OutputCollector(runner)
        try:
            printed = output.wait_for("connect with: HAZELKIT_URL=", timeout=60)
            pid = int(re.findall(r"pid (\d+)", printed)[0])
            url = re.findall(r"HAZELKIT_URL=(\S+)", printed)[0]
            name = re.findall(r"cluster name: (\S+)", printed)[0]
            assert re.fullmatch(rf"hazelcast://127\.0\.0\.1:\d+\?cluster={name}", url)
            assert process_exists(pid)
            runner.send_signal(stop_signal)
            runner.wait(timeout=45)
        finally:
            if runner.poll() is None:
                runner.kill()
                runner.wait()
        text = output.finish()
        assert runner.returncode == 0, text
        assert "stopped member-1 127.0.0.1:" in text
        assert f"(pid {pid}, exit code 143)" in text
        assert wait_gone(pid)


class OutputCollector:
    """Collects a subprocess's output in a thread, so every wait on it is bounded."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        self._stream = process.stdout
        self._lines: list[str] = []
        self._thread = threading.Thread(target=self._collect, daemon=True)
        self._thread.start()

    def _collect(self) -> None:
        for line in self._stream:
            self._lines.append(line)

    def wait_for(self, marker: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = "".join(self._lines)
            if marker in text:
                return text
            if not self._thread.is_alive():
                break
            time.sleep(0.05)
        pytest.fail(f"{marker!r} not printed within {timeout} s; got:\n{''.join(self._lines)}")

    def finish(self) -> str:
        self._thread.join(timeout=10)
        return "".join(self._lines)


def run_in_subprocess(code: str, tmp_path: Path) -> subprocess.Popen[str]:
    """Run ``code`` in a fresh interpreter; its temporary directories go under tmp_path."""
    return subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "TMPDIR": str(tmp_path)},
    )


def stopped_pids(text: str) -> list[int]:
    return [int(pid) for pid in re.findall(r"^stopped member-\d+ \S+ \(pid (\d+)", text, re.M)]


@pytest.mark.timeout(START_TIMEOUT)
def test_run_local_cluster_interrupted_during_start_up(tmp_path: Path) -> None:
    with run_in_subprocess(RUN_TWO, tmp_path) as runner:
        output = OutputCollector(runner)
        output.wait_for("Starting 2 Hazelcast", timeout=30)
        runner.send_signal(signal.SIGINT)  # the JVMs take about a second to start
        assert runner.wait(timeout=45) == 0
        text = output.finish()
    pids = stopped_pids(text)
    assert len(pids) == 2, text
    assert all(wait_gone(pid) for pid in pids)


@pytest.mark.timeout(START_TIMEOUT)
def test_run_local_cluster_fails_when_every_member_died(tmp_path: Path) -> None:
    with run_in_subprocess(RUN_ONE, tmp_path) as runner:
        output = OutputCollector(runner)
        printed = output.wait_for("connect with:", timeout=60)
        pid = int(re.findall(r"pid (\d+)", printed)[0])
        os.kill(pid, signal.SIGKILL)  # a member of our own subprocess: a crash
        assert runner.wait(timeout=45) == 1
        text = output.finish()
    assert "exited on its own with code -9" in text
    assert f"its log: {tmp_path}{os.sep}hazelkit-cluster-" in text
    assert "ClusterUnavailableError: Every member of the local cluster has exited" in text
    assert wait_gone(pid)


@pytest.mark.timeout(START_TIMEOUT)
def test_members_left_running_die_with_the_interpreter(tmp_path: Path) -> None:
    code = (
        "from hazelkit.testing import LocalCluster\n"
        "print('pids', *(m.pid for m in LocalCluster(2).start().members), flush=True)\n"
    )
    with run_in_subprocess(code, tmp_path) as runner:
        output = OutputCollector(runner)
        assert runner.wait(timeout=60) == 0
        text = output.finish()
    pids = [int(pid) for pid in re.findall(r"^pids (.*)$", text, re.M)[0].split()]
    assert len(pids) == 2
    assert all(wait_gone(pid) for pid in pids)


@pytest.mark.timeout(START_TIMEOUT)
@pytest.mark.skipif(sys.platform != "linux", reason="parent-death signals are Linux's")
def test_members_die_with_a_killed_interpreter(tmp_path: Path) -> None:
    # No exit handler runs after SIGKILL (or an unhandled SIGTERM): the kernel stops them.
    code = (
        "import time\n"
        "from hazelkit.testing import LocalCluster\n"
        "print('pids', *(m.pid for m in LocalCluster(2).start().members), flush=True)\n"
        "time.sleep(60)\n"
    )
    with run_in_subprocess(code, tmp_path) as runner:
        output = OutputCollector(runner)
        printed = output.wait_for("pids", timeout=60)
        pids = [int(pid) for pid in re.findall(r"^pids (.*)$", printed, re.M)[0].split()]
        assert len(pids) == 2
        assert all(process_exists(pid) for pid in pids)
        runner.kill()  # our own subprocess
        runner.wait(timeout=10)
        output.finish()
    assert all(wait_gone(pid) for pid in pids)


# --- start-up failures leave nothing running -----------------------------------------------


@pytest.mark.timeout(START_TIMEOUT)
def test_bad_jar_fails_clearly(tmp_path: Path) -> None:
    bad = tmp_path / "hazelcast-5.7.0.jar"
    bad.write_bytes(b"this is not a jar")
    lc = LocalCluster(2, jar=bad, workdir=tmp_path / "work")
    with pytest.raises(
        ClusterUnavailableError, match="exited with code 1 before it started"
    ) as info:
        lc.start()
    assert "HazelcastMemberStarter" in str(info.value)  # the log tail: class not found
    assert_all_gone(lc.members)
    lc.stop()
    assert (tmp_path / "work" / "member-1.log").exists()


@pytest.mark.timeout(START_TIMEOUT)
def test_given_port_in_use_fails_clearly(jar: Path, busy_port: int, tmp_path: Path) -> None:
    member = MemberProcess("busy", port=busy_port, jar=jar, workdir=tmp_path)
    with pytest.raises(ClusterUnavailableError, match=f"port {busy_port}: it is already in use"):
        member.start(timeout=60)
    assert_all_gone([member])
    assert member.port == busy_port


@pytest.mark.timeout(START_TIMEOUT)
def test_picked_port_taken_meanwhile_is_replaced(jar: Path, busy_port: int, tmp_path: Path) -> None:
    member = MemberProcess("race", jar=jar, workdir=tmp_path)._use_port(busy_port)
    try:
        member.start(timeout=60)
        assert member.port != busy_port
        assert "already in use" in member.log_path.read_text()
        assert accepts_connections(member.port)
    finally:
        member.stop()
    assert_all_gone([member])


@pytest.mark.timeout(START_TIMEOUT)
def test_startup_timeout_kills_the_member_and_start_can_be_retried(jar: Path) -> None:
    lc = LocalCluster(1, jar=jar, startup_timeout=0.1)
    with pytest.raises(ClusterUnavailableError, match=r"did not start within 0\.1 s"):
        lc.start()
    assert_all_gone(lc.members)
    workdir = lc.workdir
    assert workdir is not None
    assert (workdir / "member-1.log").exists()  # kept: the error points at it

    lc.startup_timeout = 60
    with lc:
        assert lc.workdir == workdir
        assert lc.running == lc.members
        assert lc.members[0].cluster_size == 1
    assert_all_gone(lc.members)
    assert not workdir.exists()  # the retry succeeded: nothing left to read
    assert lc.workdir is None


def test_missing_java_fails_before_starting_anything(jar: Path, tmp_path: Path) -> None:
    lc = LocalCluster(1, jar=jar, java=tmp_path / "bin" / "java")
    with pytest.raises(ConfigurationError, match="not executable"):
        lc.start()
    assert lc.members == []


# --- chaos: pausing members, restarting them on the same port ------------------------------


def process_state(pid: int) -> str:
    """The one-letter state of ``pid`` in /proc (``T``: stopped by a signal)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


async def put_and_get(lc: LocalCluster, key: str) -> Any:
    """Connect a fresh hazelkit Cluster, write ``key`` and read it back."""
    async with hazelkit.connect(lc.url, connect_timeout=20) as cluster:
        entries = cluster.map("chaos")
        await entries.put(key, key.upper())
        return await entries.get(key)


@pytest.mark.timeout(150)
@pytest.mark.skipif(sys.platform != "linux", reason="reads process states from /proc")
def test_a_paused_member_is_declared_dead_and_merges_back_when_resumed(jar: Path) -> None:
    with LocalCluster(2, jar=jar) as lc:
        paused = lc.pause_member(0)
        assert paused.pid is not None
        assert paused.is_paused
        assert paused.is_running
        assert lc.running == lc.members  # a paused member is still a process
        assert process_state(paused.pid) in ("T", "t")
        assert "paused" in repr(paused)
        assert accepts_connections(paused.port)  # the kernel still accepts for it
        lc.members[1].wait_cluster_size(1, timeout=30)  # no heartbeats: declared dead

        resumed = lc.resume_member(0)
        assert resumed is paused
        assert not resumed.is_paused
        assert process_state(paused.pid) not in ("T", "t")
        lc.wait_cluster_size(2, timeout=60)  # split-brain merge: 5 s delays
        assert asyncio.run(put_and_get(lc, "after-merge")) == "AFTER-MERGE"

        lc.pause_member(1)  # stopping a paused member is still graceful, and prompt
        began = time.monotonic()
        lc.stop()
        assert time.monotonic() - began < 25
        members = list(lc.members)
    assert [member.exit_code for member in members] == [143, 143]
    assert_all_gone(members)


@pytest.mark.timeout(START_TIMEOUT)
def test_pause_and_resume_of_a_stopped_member_do_nothing(jar: Path) -> None:
    with LocalCluster(1, jar=jar) as lc:
        lc.kill_member(0)
        lc.pause_member(0)
        assert not lc.members[0].is_paused
        lc.resume_member(0)
        assert not lc.members[0].is_running


@pytest.mark.timeout(150)
def test_restart_member_comes_back_on_the_same_port_at_once(jar: Path) -> None:
    with LocalCluster(1, jar=jar) as lc:
        member = lc.members[0]
        port, address, url = member.port, member.address, lc.url
        assert asyncio.run(put_and_get(lc, "first")) == "FIRST"
        # Graceful, then crash, each right after clients were connected (the member
        # closes their connections: TIME_WAIT on its port must not matter).
        for stop in (lc.stop_member, lc.kill_member):
            stop(0)
            old_pid = member.pid
            assert lc.restart_member(0) is member
            assert member.pid != old_pid
            assert (member.port, member.address, lc.url) == (port, address, url)
            assert accepts_connections(port)
            assert member.cluster_size == 1
            assert asyncio.run(put_and_get(lc, "again")) == "AGAIN"
        assert lc.restart_member(0).port == port  # a running member is stopped first


@pytest.mark.timeout(START_TIMEOUT)
def test_restart_member_fails_clearly_when_its_port_was_taken(jar: Path) -> None:
    with LocalCluster(1, jar=jar) as lc:
        member = lc.kill_member(0)
        with socket.socket() as thief:
            thief.bind(("127.0.0.1", member.port))
            thief.listen()
            with pytest.raises(
                ClusterUnavailableError, match=f"cannot restart: port {member.port} is taken"
            ):
                lc.restart_member(0)
            assert not member.is_running
        lc.restart_member(0)  # free again: back on the same port
        assert member.is_running
        assert accepts_connections(member.port)


@pytest.mark.timeout(START_TIMEOUT)
def test_a_member_bound_to_its_port_once_never_moves(jar: Path, tmp_path: Path) -> None:
    member = MemberProcess("pinned", jar=jar, workdir=tmp_path)
    try:
        member.start(timeout=60)
        port = member.port
        member.stop()
        member.start(timeout=60)
        assert member.port == port
        member.kill()
        with socket.socket() as thief:  # taken meanwhile: a clear failure, no other port
            thief.bind(("127.0.0.1", port))
            thief.listen()
            with pytest.raises(ClusterUnavailableError, match=f"port {port}: it is already in use"):
                member.start(timeout=60)
        assert member.port == port
    finally:
        member.stop()
    assert_all_gone([member])
