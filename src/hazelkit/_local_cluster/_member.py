"""One Hazelcast member running as a child process of this Python process."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from hazelkit._core._exceptions import ClusterUnavailableError
from hazelkit._local_cluster._config import (
    HOST,
    PropertyValue,
    check_cluster_name,
    check_heap,
    free_ports,
    member_config,
)
from hazelkit._local_cluster._discovery import find_hazelcast_jar, find_java
from hazelkit._local_cluster._jvm import DEFAULT_JVM_OPTIONS, forget, member_command, reap, spawn
from hazelkit._local_cluster._log import LogWatcher, log_tail

_PORT_ATTEMPTS = 3
_PAUSE_TIMEOUT = 5.0
_POLL_INTERVAL = 0.05
_TAIL_LINES = 40


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
            member fails to bind it at its first start; a given port is used as is.
            Once the member has started, its port never changes: a restart listens on
            the same port or fails (see :meth:`poll_started`).
        peers: ``host:port`` of other members to join, read each time the member starts.
        jar: the Hazelcast jar; None means :func:`find_hazelcast_jar` at first start.
        java: the ``java`` executable; None means :func:`find_java` at first start.
        workdir: directory for the member's config and log.
        heap: maximum JVM heap, e.g. ``"256m"``.
        jvm_options: JVM tuning flags; None means a fast start (the C1 compiler only,
            serial GC); ``()`` gives full JIT.
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
        self._watcher: LogWatcher | None = None
        self._port_attempts = 0
        self._expected_exit = False
        self._paused = False

    def __repr__(self) -> str:
        state = ("paused" if self._paused else "running") if self.is_running else "stopped"
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
    def is_paused(self) -> bool:
        """True between :meth:`pause` and :meth:`resume` (or the process's end)."""
        return self._paused and self.is_running

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

        Returns at once if the member already started. On failure nothing is left
        running.

        Raises:
            ConfigurationError: no ``java`` or no Hazelcast jar was found.
            ClusterUnavailableError: the member exited or did not start within
                ``timeout`` seconds; the message ends with the last lines of its log.
        """
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
        self._paused = False
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
        self._watcher = LogWatcher(self.log_path, self._port)
        self._expected_exit = False
        command = member_command(
            self._java, self._jar, self.config_path, self._heap, self._jvm_options
        )
        self._popen = spawn(command, self.log_path, self.workdir)

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
            return self._started_on_its_port()
        if self._popen.poll() is None:
            return False
        # The process has exited: read the last lines it wrote before deciding.
        if self._log_says_started(self._watcher):
            return self._started_on_its_port()
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

    def _started_on_its_port(self) -> bool:
        """The member started: from now on it keeps this port (restarts included)."""
        self._port_attempts = 0
        self._fixed_port = True
        return True

    @staticmethod
    def _log_says_started(watcher: LogWatcher) -> bool:
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
        """Send SIGTERM (a graceful Hazelcast shutdown) without waiting; see :meth:`stop`.

        A paused member is resumed right after, so that it can act on the signal."""
        if self._popen is not None and self._popen.poll() is None:
            self._expected_exit = True
            with contextlib.suppress(ProcessLookupError):
                self._popen.terminate()
            if self._paused:
                self.resume()

    def pause(self) -> None:
        """SIGSTOP the member: a hung process (a long GC pause, a frozen VM).

        Returns once the process is stopped (on Linux, as ``/proc`` shows; a few seconds
        at most). The kernel still accepts TCP connections on its port, but the member
        answers nothing and sends no heartbeats, so the other members declare it dead
        after ``hazelcast.max.no.heartbeat.seconds`` (5 s in the test config). Until
        :meth:`resume`, :meth:`stop` and :meth:`kill` still work. Does nothing if the
        member is not running.

        Raises:
            ClusterUnavailableError: the process did not stop within a few seconds.
        """
        if not self._signal(signal.SIGSTOP):
            return
        self._paused = True
        deadline = time.monotonic() + _PAUSE_TIMEOUT
        while not self._stopped_by_signal():
            if time.monotonic() >= deadline:
                raise self._failure(f"did not stop on SIGSTOP within {_PAUSE_TIMEOUT:g} s")
            time.sleep(_POLL_INTERVAL / 5)

    def resume(self) -> None:
        """SIGCONT a paused member: it goes on where it stopped. Does nothing if it is not
        running. (If the others declared it dead meanwhile, Hazelcast merges it back
        within ``hazelcast.merge.next.run.delay.seconds``: wait for the cluster size.)"""
        self._paused = False
        self._signal(signal.SIGCONT)

    def _signal(self, signum: signal.Signals) -> bool:
        """Send ``signum`` to the running JVM; False if it is not running."""
        if self._popen is None or self._popen.poll() is not None:
            return False
        try:
            os.kill(self._popen.pid, signum)
        except ProcessLookupError:
            return False
        return True

    def _stopped_by_signal(self) -> bool:
        """True once the process is in the stopped state (always True off Linux)."""
        try:
            stat = Path(f"/proc/{self.pid}/stat").read_text(encoding="ascii", errors="replace")
        except OSError:
            return True  # no /proc, or the process is gone: nothing to wait for
        return stat.rsplit(")", 1)[1].split()[0] in ("T", "t")

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
        reap(self._popen)  # SIGKILL ends a paused (SIGSTOPped) process too
        self._paused = False
        self._release()

    def _use_port(self, port: int) -> MemberProcess:
        """Listen on ``port``, picked free by the caller: replaced if it turns out busy."""
        self._port = port
        self._fixed_port = False
        return self

    def _release(self) -> None:
        if self._popen is not None:
            forget(self._popen)

    def log_tail(self, lines: int = _TAIL_LINES) -> str:
        """The last ``lines`` lines of the member's log ("" if there is no log)."""
        return log_tail(self.log_path, lines)

    def _failure(self, what: str) -> ClusterUnavailableError:
        tail = self.log_tail() or "(the log is empty)"
        return ClusterUnavailableError(
            f"Hazelcast {self.name} ({self.address}, cluster {self.cluster_name!r}) {what}.\n"
            f"Last lines of {self.log_path}:\n{tail}"
        )
