"""A cluster of local Hazelcast members for tests, demos and development."""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

from hazelkit._core._exceptions import ClusterUnavailableError, ConfigurationError
from hazelkit._local_cluster._config import (
    PropertyValue,
    check_cluster_name,
    check_heap,
    free_ports,
    port_is_free,
    random_cluster_name,
)
from hazelkit._local_cluster._discovery import find_hazelcast_jar, find_java
from hazelkit._local_cluster._member import MemberProcess

_Ready = Callable[[MemberProcess], bool]
_Budget = tuple[float, float]  # (time.monotonic() deadline, the seconds it stands for)

_POLL_INTERVAL = 0.05
# A SIGKILLed member is declared dead after hazelcast.max.no.heartbeat.seconds (5).
_DEATH_DETECTION_TIMEOUT = 30.0


class _Cancelled(Exception):
    """Start-up was abandoned because the ``cancel`` event was set."""


class LocalCluster:
    """Hazelcast members on free loopback ports, started and stopped by this process.

    ``with LocalCluster(2) as lc:`` starts two members that form one cluster, and stops
    them on exit. Members are child processes (see :class:`MemberProcess`): they run
    until stopped, and are SIGKILLed at interpreter exit if still running, so none
    outlives this process. Ports are picked free on 127.0.0.1, except the first
    member's when ``port`` is given. Every wait is bounded.

    Calls block; from async code run them in a worker thread (e.g.
    ``await anyio.to_thread.run_sync(lc.start)``). An instance is not thread-safe.

    Args:
        members: how many members :meth:`start` starts (at least 1).
        cluster_name: the Hazelcast cluster name; default a random ``hazelkit-<hex>``.
        jar: the Hazelcast jar; default found by :func:`find_hazelcast_jar`.
        heap: maximum JVM heap of each member.
        startup_timeout: seconds :meth:`start`, :meth:`add_member` and
            :meth:`restart_member` wait for members to start and see each other.
        java: the ``java`` executable; default found by :func:`find_java`.
        jvm_options: JVM tuning flags; default a fast start (the C1 compiler only,
            serial GC); pass ``()`` for full JIT when measuring throughput.
        properties: Hazelcast properties overriding the test-friendly defaults.
        extra_config: mappings merged into each member's ``hazelcast:`` YAML section.
        port: the first member's port on 127.0.0.1 (default: a free one); start raises
            ConfigurationError if something listens there.
        workdir: directory for configs and logs (never deleted). Default: a temporary
            directory, deleted by :meth:`stop` unless ``keep_workdir`` is true, a start
            failed or a member died on its own (so its log can still be read).
    """

    def __init__(
        self,
        members: int = 1,
        *,
        cluster_name: str | None = None,
        jar: Path | str | None = None,
        heap: str = "256m",
        startup_timeout: float = 60.0,
        java: Path | str | None = None,
        jvm_options: Sequence[str] | None = None,
        properties: Mapping[str, PropertyValue] | None = None,
        extra_config: Mapping[str, object] | None = None,
        workdir: Path | str | None = None,
        keep_workdir: bool = False,
        port: int | None = None,
    ) -> None:
        if members < 1:
            raise ConfigurationError(f"A local cluster needs at least 1 member, not {members}.")
        self._initial_members = members
        if port is not None and not 1 <= port <= 65535:
            raise ConfigurationError(f"port must be between 1 and 65535, not {port}.")
        self._port = port
        self.cluster_name = check_cluster_name(cluster_name or random_cluster_name())
        self.startup_timeout = startup_timeout
        self.members: list[MemberProcess] = []
        self._started = False
        self.startup_seconds: float | None = None
        self._jar_arg = jar
        self._java_arg = java
        self._heap = check_heap(heap)
        self._jvm_options = jvm_options
        self._properties = dict(properties or {})
        self._extra_config = dict(extra_config or {})
        self._workdir_arg = Path(workdir) if workdir is not None else None
        self._keep_workdir = keep_workdir
        self._logs_needed = False  # a start failed or a member died: keep the logs
        self._workdir: Path | None = None
        self._jar: Path | None = None
        self._java: Path | None = None

    def __repr__(self) -> str:
        return f"<LocalCluster {self.cluster_name!r} members={self.addresses}>"

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def addresses(self) -> list[str]:
        """``"127.0.0.1:PORT"`` of every member, in :attr:`members` order (stopped ones too)."""
        return [member.address for member in self.members]

    @property
    def url(self) -> str:
        """The hazelkit URL of this cluster: ``hazelcast://127.0.0.1:P1,...?cluster=NAME``."""
        return f"hazelcast://{','.join(self.addresses)}?cluster={self.cluster_name}"

    @property
    def workdir(self) -> Path | None:
        """The directory of the members' configs and logs; None before start or once deleted."""
        return self._workdir

    @property
    def running(self) -> list[MemberProcess]:
        """The members whose process is running."""
        return [member for member in self.members if member.is_running]

    def start(self) -> Self:
        """Start every member concurrently and wait until they form one cluster.

        Returns once each member logged STARTED and (for several members) sees all of
        them. Does nothing if already started. On failure every member is killed before
        the error is raised, and the work directory is kept for its logs.

        Raises:
            ConfigurationError: no ``java`` or no Hazelcast jar was found.
            ClusterUnavailableError: a member exited, or the cluster did not form within
                ``startup_timeout`` seconds; the message ends with that member's log.
        """
        self._start(None)
        return self

    def _start(self, cancel: threading.Event | None) -> None:
        if self._started:
            return
        began = time.monotonic()
        self._java = find_java(self._java_arg)
        self._jar = find_hazelcast_jar(self._jar_arg)
        if self._workdir is None:  # a retried start reuses it, next to the failed logs
            self._workdir = self._workdir_arg or Path(tempfile.mkdtemp(prefix="hazelkit-cluster-"))
        ports = self._choose_ports()
        addresses = [f"127.0.0.1:{port}" for port in ports]
        self.members = [
            self._new_member(number, port, addresses) for number, port in enumerate(ports, 1)
        ]
        try:
            self._launch_all()
            budget = (began + self.startup_timeout, self.startup_timeout)
            self._wait_all(lambda m: m.poll_started(), self.members, budget, cancel, "start")
            self._wait_size(self._initial_members, self.members, budget, cancel)
        except BaseException:
            self._logs_needed = True
            self._kill_all()
            raise
        self._started = True
        self._logs_needed = False
        self.startup_seconds = time.monotonic() - began

    def _choose_ports(self) -> list[int]:
        if self._port is None:
            return free_ports(self._initial_members)
        if not port_is_free(self._port):
            raise ConfigurationError(
                f"port {self._port} on 127.0.0.1 is taken: choose another --port, or none"
            )
        others = [p for p in free_ports(self._initial_members) if p != self._port]
        return [self._port, *others[: self._initial_members - 1]]

    def _launch_all(self) -> None:
        # Member 1 is the seed: knowing no peer, it becomes master at once, where members
        # that list each other would first look for a master for connection-timeout-seconds.
        # The others list it and join it. Should the seed be relaunched on another port,
        # it then lists them, so it still joins (or merges with) them.
        seed, *others = self.members
        peers, seed.peers = seed.peers, []
        seed.launch()
        seed.peers = peers
        for member in others:
            member.launch()

    def _new_member(self, number: int, port: int, addresses: Sequence[str]) -> MemberProcess:
        assert self._workdir is not None  # set by _start
        own = f"127.0.0.1:{port}"
        return MemberProcess(
            self.cluster_name,
            port=None,
            peers=[address for address in addresses if address != own],
            jar=self._jar,
            java=self._java,
            workdir=self._workdir,
            heap=self._heap,
            jvm_options=self._jvm_options,
            properties=self._properties,
            extra_config=self._extra_config,
            name=f"member-{number}",
        )._use_port(port)

    def stop(self, timeout: float = 30.0) -> None:
        """Stop every member gracefully (SIGTERM to all at once) and wait for them.

        Members still alive after ``timeout`` seconds are SIGKILLed. When this returns,
        no member process is left. The temporary work directory is then deleted (see the
        class description). Safe to call more than once.
        """
        for member in self.members:
            member.terminate()
        deadline = time.monotonic() + timeout
        for member in self.members:
            member.wait_stopped(deadline)
        if any(member.exited_unexpectedly for member in self.members):
            self._logs_needed = True
        self._started = False
        if self._workdir_arg is None and not (self._keep_workdir or self._logs_needed):
            if self._workdir is not None:
                shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    def add_member(self) -> MemberProcess:
        """Start one more member that joins the cluster, and return it.

        Returns once every running member sees the new cluster size.

        Raises:
            ClusterUnavailableError: the member did not start or join within
                ``startup_timeout`` seconds (it is killed; the others keep running).
        """
        self._require_started()
        number = len(self.members) + 1
        member = self._new_member(number, free_ports(1)[0], [m.address for m in self.running])
        self.members.append(member)
        self._start_member(member)
        return member

    def kill_member(self, index: int) -> MemberProcess:
        """SIGKILL member ``index`` (a crash) and return it once its process is gone."""
        member = self.members[index]
        member.kill()
        return member

    def stop_member(self, index: int, timeout: float = 30.0) -> MemberProcess:
        """Stop member ``index`` gracefully (see :meth:`MemberProcess.stop`) and return it."""
        member = self.members[index]
        member.stop(timeout)
        return member

    def pause_member(self, index: int) -> MemberProcess:
        """SIGSTOP member ``index`` (a hung process) and return it once it is stopped.

        It keeps its port and its place in :attr:`running`, answers nothing and sends
        no heartbeats: the others declare it dead after about 5 s. See
        :meth:`MemberProcess.pause`; :meth:`resume_member` undoes it, and stopping,
        killing or restarting it works while it is paused.
        """
        member = self.members[index]
        member.pause()
        return member

    def resume_member(self, index: int) -> MemberProcess:
        """SIGCONT member ``index`` (see :meth:`MemberProcess.resume`) and return it.

        Returns at once. A member paused longer than the heartbeat timeout was declared
        dead and merges back within seconds: :meth:`wait_cluster_size` waits for it.
        """
        member = self.members[index]
        member.resume()
        return member

    def restart_member(self, index: int) -> MemberProcess:
        """Stop member ``index`` if it runs, start it again, and wait until it rejoined.

        The member comes back **on the same port** (so clients find it at the same
        address), at once if need be: members listen with reuse-address, so connections
        left in TIME_WAIT do not block it. Before restarting, this waits until the other
        members no longer count the old process (a SIGKILLed member takes a few seconds
        to be noticed), so the cluster size seen afterwards is real. A restarted member
        of a one-member cluster starts empty (Hazelcast keeps data in memory only).

        Raises:
            ClusterUnavailableError: another process listens on the member's port (it is
                not started), the cluster did not settle, or the member did not start or
                rejoin within ``startup_timeout`` seconds.
        """
        self._require_started()
        member = self.members[index]
        member.stop()
        others = self.running
        budget = (time.monotonic() + _DEATH_DETECTION_TIMEOUT, _DEATH_DETECTION_TIMEOUT)
        self._wait_size(len(others), others, budget, None)
        if not port_is_free(member.port):
            raise member._failure(f"cannot restart: port {member.port} is taken by another process")
        member.peers = [m.address for m in others]
        self._start_member(member)
        return member

    def wait_cluster_size(self, size: int, timeout: float | None = None) -> None:
        """Wait until every running member logged that the cluster has ``size`` members.

        Raises:
            ClusterUnavailableError: not so within ``timeout`` seconds (default
                ``startup_timeout``), or a member exited meanwhile.
        """
        seconds = self.startup_timeout if timeout is None else timeout
        self._wait_size(size, self.running, (time.monotonic() + seconds, seconds), None)

    def _start_member(self, member: MemberProcess) -> None:
        budget = (time.monotonic() + self.startup_timeout, self.startup_timeout)
        try:
            member.launch()
            self._wait_all(lambda m: m.poll_started(), [member], budget, None, "start")
            self._wait_size(len(self.running), self.running, budget, None)
        except BaseException:
            self._logs_needed = True
            member.kill()
            raise

    def _require_started(self) -> None:
        if not self._started:
            raise ClusterUnavailableError("The local cluster has not been started.")

    def _wait_size(
        self,
        size: int,
        members: Sequence[MemberProcess],
        budget: _Budget,
        cancel: threading.Event | None,
    ) -> None:
        def sees_all(member: MemberProcess) -> bool:
            if not member.is_running:
                raise member._failure(f"exited (code {member.exit_code}) while joining")
            return member.cluster_size == size

        self._wait_all(sees_all, members, budget, cancel, f"see {size} members")

    def _wait_all(
        self,
        ready: _Ready,
        members: Sequence[MemberProcess],
        budget: _Budget,
        cancel: threading.Event | None,
        goal: str,
    ) -> None:
        """Poll until ``ready`` holds for every member; all of them progress together."""
        deadline, seconds = budget
        pending = list(members)
        while pending:
            pending = [member for member in pending if not ready(member)]
            if not pending:
                return
            if cancel is not None and cancel.is_set():
                raise _Cancelled
            if time.monotonic() >= deadline:
                raise pending[0]._failure(
                    f"did not {goal} within {seconds:g} s"
                    f" (cluster size seen: {pending[0].cluster_size})"
                )
            time.sleep(_POLL_INTERVAL)

    def _kill_all(self) -> None:
        for member in self.members:
            member.kill()
