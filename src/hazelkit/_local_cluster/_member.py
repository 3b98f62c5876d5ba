"""One Hazelcast member running as a child process of this Python process."""

from __future__ import annotations

import atexit
import contextlib
import re
import subprocess
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Final

from hazelkit._exceptions import ClusterUnavailableError, ConfigurationError
from hazelkit._local_cluster._config import (
    HOST,
    PropertyValue,
    check_cluster_name,
    check_heap,
    free_ports,
    member_config,
)
from hazelkit._local_cluster._discovery import find_hazelcast_jar, find_java

MAIN_CLASS: Final = "com.hazelcast.core.server.HazelcastMemberStarter"

# The flags Hazelcast's own start-up warning asks for, so it gets its fast internal paths.
JAVA_MODULE_FLAGS: Final = (
    "--add-modules", "java.se",
    "--add-exports", "java.base/jdk.internal.ref=ALL-UNNAMED",
    "--add-opens", "java.base/java.lang=ALL-UNNAMED",
    "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
    "--add-opens", "java.management/sun.management=ALL-UNNAMED",
    "--add-opens", "jdk.management/com.sun.management.internal=ALL-UNNAMED",
)  # fmt: skip

DEFAULT_JVM_OPTIONS: Final = (
    # C1 only starts a member in ~1 s instead of ~1.5 s and spends less CPU compiling;
    # pass jvm_options=() for full JIT when measuring throughput.
    "-XX:TieredStopAtLevel=1",
    "-XX:+UseSerialGC",
    "-XX:-UsePerfData",
)

_STARTED = re.compile(r"\]:(\d+) is STARTED")
_MEMBERS = re.compile(r"^Members \{size:(\d+),")
_BIND_FAILURES = ("is already in use", "Address already in use")
_PORT_ATTEMPTS = 3
_POLL_INTERVAL = 0.05
_TAIL_LINES = 40
_REAP_TIMEOUT = 10.0


# Every member JVM not yet reaped, by pid. Members live until stopped or until the
# interpreter exits, whether or not anything still refers to their MemberProcess.
_LIVE: dict[int, subprocess.Popen[bytes]] = {}


def _reap(popen: subprocess.Popen[bytes]) -> None:
    """SIGKILL the process if it still runs, and reap it."""
    if popen.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            popen.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        popen.wait(timeout=_REAP_TIMEOUT)
    if popen.returncode is not None:
        _LIVE.pop(popen.pid, None)


@atexit.register
def _reap_all() -> None:
    """At interpreter exit, SIGKILL every member still running (a test that failed)."""
    for popen in list(_LIVE.values()):
        with contextlib.suppress(ProcessLookupError):
            popen.kill()
    for popen in list(_LIVE.values()):
        _reap(popen)


class _LogWatcher:
    """Reads a member's log as it grows and remembers what matters."""

    def __init__(self, path: Path, port: int) -> None:
        self._path = path
        self._port = port
        self._offset = path.stat().st_size if path.exists() else 0
        self._partial = b""
        self.started = False
        self.bind_failed = False
        self.cluster_size: int | None = None

    def poll(self) -> None:
        try:
            with self._path.open("rb") as log:
                log.seek(self._offset)
                chunk = log.read()
        except FileNotFoundError:
            return
        self._offset += len(chunk)
        *lines, self._partial = (self._partial + chunk).split(b"\n")
        for raw in lines:
            self._scan(raw.decode("utf-8", "replace"))

    def _scan(self, line: str) -> None:
        if (started := _STARTED.search(line)) and int(started.group(1)) == self._port:
            self.started = True
        elif members := _MEMBERS.match(line):
            self.cluster_size = int(members.group(1))
        elif any(failure in line for failure in _BIND_FAILURES):
            self.bind_failed = True


class MemberProcess:
    """One Hazelcast member (``HazelcastMemberStarter``) on a loopback port.

    The member runs as a child process in its own session (a Ctrl-C in the terminal
    reaches only Python, which then stops the member). Its config and log live in
    ``workdir`` (a fresh temporary directory when None; never deleted by this class).
    A member runs until :meth:`stop` or :meth:`kill`, even if this object is dropped;
    at interpreter exit every member still running is SIGKILLed and reaped, so none
    outlives the Python process that started it (unless that process is itself killed
    by a signal it cannot handle, such as SIGKILL).

    Args:
        cluster_name: the Hazelcast cluster name; members with another name never join.
        port: the port to listen on. None picks a free one, and picks another if the
            member then fails to bind it; a given port is used as is, never changed.
        peers: ``host:port`` of other members to join, read each time the member starts.
        jar: the Hazelcast jar; None means :func:`find_hazelcast_jar` at first start.
        java: the ``java`` executable; None means :func:`find_java` at first start.
        workdir: directory for the member's config and log.
        heap: maximum JVM heap, e.g. ``"256m"``.
        jvm_options: JVM tuning flags; None means :data:`DEFAULT_JVM_OPTIONS`.
        properties: Hazelcast properties overriding the test-friendly defaults.
        extra_config: mappings merged into the ``hazelcast:`` section of the YAML config.
        name: a label for messages and log file names.
    """

    def __init__(
        self,
        cluster_name: str,
        *,
        port: int | None = None,
        peers: Iterable[str] = (),
        jar: str | Path | None = None,
        java: str | Path | None = None,
        workdir: str | Path | None = None,
        heap: str = "256m",
        jvm_options: Sequence[str] | None = None,
        properties: Mapping[str, PropertyValue] | None = None,
        extra_config: Mapping[str, object] | None = None,
        name: str = "member",
    ) -> None:
        self.cluster_name = check_cluster_name(cluster_name)
        self.name = name
        self.peers: list[str] = list(peers)
        self._fixed_port = port is not None
        self._port = port if port is not None else free_ports(1)[0]
        self._jar = Path(jar) if jar is not None else None
        self._java = Path(java) if java is not None else None
        self._heap = check_heap(heap)
        self._jvm_options = tuple(DEFAULT_JVM_OPTIONS if jvm_options is None else jvm_options)
        self._properties = dict(properties or {})
        self._extra_config = dict(extra_config or {})
        if workdir is None:
            workdir = tempfile.mkdtemp(prefix=f"hazelkit-{name}-")
        self.workdir = Path(workdir)
        self._popen: subprocess.Popen[bytes] | None = None
        self._watcher: _LogWatcher | None = None
        self._port_attempts = 0
        self._expected_exit = False

    def __repr__(self) -> str:
        state = "running" if self.is_running else "stopped"
        return f"<MemberProcess {self.name} {self.address} pid={self.pid} {state}>"

    @property
    def port(self) -> int:
        """The loopback port the member listens on (may change only while it starts)."""
        return self._port

    @property
    def address(self) -> str:
        """``"127.0.0.1:PORT"``, as a Hazelcast client or another member connects to it."""
        return f"{HOST}:{self._port}"

    @property
    def pid(self) -> int | None:
        """The process id of the last started JVM (kept after it exits), or None."""
        return self._popen.pid if self._popen is not None else None

    @property
    def log_path(self) -> Path:
        """The member's log (stdout and stderr); kept across restarts, appended to."""
        return self.workdir / f"{self.name}.log"

    @property
    def config_path(self) -> Path:
        """The YAML config the member was last started with."""
        return self.workdir / f"{self.name}.yaml"

    @property
    def is_running(self) -> bool:
        """True while the JVM process exists (started or not yet)."""
        return self._popen is not None and self._popen.poll() is None

    @property
    def exit_code(self) -> int | None:
        """The JVM's exit status once it has exited (negative: killed by that signal)."""
        return self._popen.poll() if self._popen is not None else None

    @property
    def exited_unexpectedly(self) -> bool:
        """True if the JVM exited without :meth:`stop` or :meth:`kill` asking it to."""
        return self.exit_code is not None and not self._expected_exit

    @property
    def cluster_size(self) -> int | None:
        """The number of members this member last logged seeing, None before it logged one."""
        if self._watcher is None:
            return None
        self._watcher.poll()
        return self._watcher.cluster_size

    def start(self, timeout: float = 60.0) -> None:
        """Start the member and wait until it has logged that it is STARTED.

        Does nothing if the member is already running. On failure nothing is left
        running.

        Raises:
            ConfigurationError: no ``java`` or no Hazelcast jar was found.
            ClusterUnavailableError: the member exited or did not start within
                ``timeout`` seconds; the message ends with the last lines of its log.
        """
        if self.is_running:
            return
        self.launch()
        self.wait_started(timeout)

    def launch(self) -> None:
        """Start the JVM without waiting for it; :meth:`wait_started` waits.

        Raises:
            ConfigurationError: no ``java`` or no Hazelcast jar was found, or ``java``
                could not be run.
        """
        if self.is_running:
            return
        self._release()
        self._java = find_java(self._java)
        self._jar = find_hazelcast_jar(self._jar)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(
            member_config(
                self.cluster_name,
                self._port,
                self.peers,
                properties=self._properties,
                extra_config=self._extra_config,
            ),
            encoding="utf-8",
        )
        self._watcher = _LogWatcher(self.log_path, self._port)
        self._expected_exit = False
        command = [
            str(self._java),
            f"-Xms{min(64, _megabytes(self._heap))}m",
            f"-Xmx{self._heap}",
            *JAVA_MODULE_FLAGS,
            *self._jvm_options,
            f"-Dhazelcast.config={self.config_path}",
            "-cp",
            str(self._jar),
            MAIN_CLASS,
        ]
        with self.log_path.open("ab") as log:
            try:
                popen = subprocess.Popen(  # noqa: S603 - our own command line
                    command,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=self.workdir,
                    start_new_session=True,
                )
            except OSError as exc:
                raise ConfigurationError(f"Could not run {self._java}: {exc}") from exc
        self._popen = popen
        _LIVE[popen.pid] = popen

    def wait_started(self, timeout: float = 60.0) -> None:
        """Wait until the launched member has logged ``[127.0.0.1]:PORT is STARTED``.

        If the member could not bind a port that was picked automatically, it is
        relaunched on another free port (a few times at most). On failure the member is
        killed, so nothing is left running.

        Raises:
            ClusterUnavailableError: the member exited, was never launched, or did not
                start within ``timeout`` seconds; the message ends with its last log lines.
        """
        deadline = time.monotonic() + timeout
        while not self.poll_started():
            if time.monotonic() >= deadline:
                self.kill()
                raise self._failure(f"did not start within {timeout:g} s")
            time.sleep(_POLL_INTERVAL)

    def poll_started(self) -> bool:
        """Return True once the member logged STARTED, False while it is still starting.

        This is the non-blocking step of :meth:`wait_started` (same retry and errors),
        for callers that wait for several members at once.
        """
        if self._popen is None or self._watcher is None:
            raise ClusterUnavailableError(f"Hazelcast {self.name} was never launched.")
        if self._log_says_started(self._watcher):
            return True
        if self._popen.poll() is None:
            return False
        # The process has exited: read the last lines it wrote before deciding.
        if self._log_says_started(self._watcher):
            return True
        self._release()
        if self._watcher.bind_failed and not self._fixed_port:
            self._port_attempts += 1
            if self._port_attempts < _PORT_ATTEMPTS:
                self._port = free_ports(1)[0]
                self.launch()
                return False
        if self._watcher.bind_failed:
            raise self._failure(f"could not listen on port {self._port}: it is already in use")
        raise self._failure(f"exited with code {self._popen.returncode} before it started")

    @staticmethod
    def _log_says_started(watcher: _LogWatcher) -> bool:
        watcher.poll()
        return watcher.started

    def wait_cluster_size(self, size: int, timeout: float = 60.0) -> None:
        """Wait until the member's latest membership log line shows ``size`` members.

        Raises:
            ClusterUnavailableError: the member is not running, or it did not see
                ``size`` members within ``timeout`` seconds (it is left running).
        """
        deadline = time.monotonic() + timeout
        while self.cluster_size != size:
            if not self.is_running:
                raise self._failure(f"exited (code {self.exit_code}) while forming the cluster")
            if time.monotonic() >= deadline:
                raise self._failure(
                    f"sees {self.cluster_size} members, not {size}, after {timeout:g} s"
                )
            time.sleep(_POLL_INTERVAL)

    def terminate(self) -> None:
        """Send SIGTERM (a graceful Hazelcast shutdown) without waiting; see :meth:`stop`."""
        if self._popen is not None and self._popen.poll() is None:
            self._expected_exit = True
            with contextlib.suppress(ProcessLookupError):
                self._popen.terminate()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the member gracefully and wait until its process is gone.

        SIGTERM lets the member hand its partitions to the others and leave the cluster;
        if it has not exited after ``timeout`` seconds it is SIGKILLed. When this returns
        the process has exited and been reaped. Does nothing if it is not running.
        """
        self.terminate()
        self.wait_stopped(time.monotonic() + timeout)

    def wait_stopped(self, deadline: float) -> None:
        """Wait for the process to exit until the ``time.monotonic()`` deadline, then SIGKILL."""
        if self._popen is None:
            return
        try:
            self._popen.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.kill()
        self._release()

    def kill(self) -> None:
        """SIGKILL the member (a crash, for fault tests) and reap it; returns once it is gone."""
        if self._popen is None:
            return
        if self._popen.poll() is None:
            self._expected_exit = True
        _reap(self._popen)
        self._release()

    def _use_port(self, port: int) -> MemberProcess:
        """Listen on ``port``, picked free by the caller: replaced if it turns out busy."""
        self._port = port
        self._fixed_port = False
        return self

    def _release(self) -> None:
        if self._popen is not None and self._popen.poll() is not None:
            _LIVE.pop(self._popen.pid, None)

    def log_tail(self, lines: int = _TAIL_LINES) -> str:
        """The last ``lines`` lines of the member's log ("" if there is no log)."""
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def _failure(self, what: str) -> ClusterUnavailableError:
        tail = self.log_tail() or "(the log is empty)"
        return ClusterUnavailableError(
            f"Hazelcast {self.name} ({self.address}, cluster {self.cluster_name!r}) {what}.\n"
            f"Last lines of {self.log_path}:\n{tail}"
        )


def _megabytes(heap: str) -> int:
    number, unit = (heap[:-1], heap[-1].lower()) if heap[-1].isalpha() else (heap, "")
    scale = {"": 1 / (1 << 20), "k": 1 / 1024, "m": 1, "g": 1024}[unit]
    return max(1, int(int(number) * scale))
