"""``run_local_cluster``: the engine of ``hazelkit local-cluster``."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType

from hazelkit._core._exceptions import ClusterUnavailableError
from hazelkit._local_cluster._cluster import LocalCluster, _Cancelled
from hazelkit._local_cluster._discovery import HAZELCAST_VERSION

_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_WATCH_INTERVAL = 0.5


def run_local_cluster(
    members: int,
    *,
    jar: Path | str | None = None,
    cluster_name: str | None = None,
    heap: str = "256m",
    port: int | None = None,
    out: Callable[[str], None] = print,
    startup_timeout: float = 60.0,
    stop_timeout: float = 30.0,
) -> None:
    """Start ``members`` local members, print how to connect, and serve until signalled.

    Prints each member's address, pid and log, the cluster name and the exact hazelkit
    URL (``HAZELKIT_URL=hazelcast://...``), then blocks until SIGINT or SIGTERM. It then
    stops every member gracefully (SIGKILL after ``stop_timeout`` seconds), prints what it
    stopped, and returns. A signal during start-up abandons it and stops what was
    started. Members that die on their own are reported as they go. The previous signal
    handlers are restored before returning. Must be called from the main thread.

    Raises:
        ConfigurationError: no ``java`` or no Hazelcast jar was found, or a bad option.
        ClusterUnavailableError: the members did not start within ``startup_timeout``
            seconds, or every member died while serving.
        RuntimeError: called from a thread other than the main thread.
    """
    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError(
            "run_local_cluster() installs signal handlers: call it in the main thread."
        )
    cluster = LocalCluster(
        members,
        cluster_name=cluster_name,
        jar=jar,
        heap=heap,
        startup_timeout=startup_timeout,
        port=port,
    )
    stop_requested = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop_requested.set()

    previous = {signum: signal.signal(signum, request_stop) for signum in _STOP_SIGNALS}
    try:
        _serve(cluster, members, stop_requested, out, stop_timeout)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _serve(
    cluster: LocalCluster,
    members: int,
    stop_requested: threading.Event,
    out: Callable[[str], None],
    stop_timeout: float,
) -> None:
    _emit(
        out,
        f"Starting {members} Hazelcast {HAZELCAST_VERSION} member(s) "
        f"of cluster {cluster.cluster_name!r}...",
    )
    try:
        try:
            cluster._start(stop_requested)
        except _Cancelled:
            _emit(out, "Interrupted during start-up.")
            return
        _announce(cluster, out)
        _watch(cluster, stop_requested, out)
    finally:
        if cluster.members:
            _emit(out, "Stopping...")
            cluster.stop(stop_timeout)
            for member in cluster.members:
                _emit(
                    out,
                    f"stopped {member.name} {member.address} (pid {member.pid}, "
                    f"exit code {member.exit_code})",
                )


def _announce(cluster: LocalCluster, out: Callable[[str], None]) -> None:
    _emit(
        out,
        f"Cluster {cluster.cluster_name!r} is up: {len(cluster.members)} member(s), "
        f"started in {cluster.startup_seconds or 0:.1f} s",
    )
    for member in cluster.members:
        _emit(out, f"  {member.name}  {member.address}  pid {member.pid}  log {member.log_path}")
    _emit(out, f"cluster name: {cluster.cluster_name}")
    _emit(out, f"connect with: HAZELKIT_URL={cluster.url}")
    _emit(out, "Press Ctrl-C (or send SIGTERM) to stop the members.")


def _watch(
    cluster: LocalCluster, stop_requested: threading.Event, out: Callable[[str], None]
) -> None:
    reported: set[str] = set()
    while not stop_requested.wait(_WATCH_INTERVAL):
        for member in cluster.members:
            if member.exited_unexpectedly and member.name not in reported:
                reported.add(member.name)
                _emit(
                    out,
                    f"{member.name} {member.address} exited on its own with code "
                    f"{member.exit_code}; its log: {member.log_path}",
                )
        if not cluster.running:
            raise ClusterUnavailableError("Every member of the local cluster has exited.")


def _emit(out: Callable[[str], None], line: str) -> None:
    out(line)
    # With the default ``print`` and a pipe, the URL must not sit in a buffer.
    sys.stdout.flush()
