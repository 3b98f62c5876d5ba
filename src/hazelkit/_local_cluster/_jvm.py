"""Spawning member JVMs, and making sure none outlives this interpreter."""

from __future__ import annotations

import atexit
import contextlib
import shutil
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from hazelkit._core._exceptions import ConfigurationError

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

_REAP_TIMEOUT = 10.0

# Every member JVM not yet reaped, by pid. Members live until stopped or until the
# interpreter exits, whether or not anything still refers to their MemberProcess.
_LIVE: dict[int, subprocess.Popen[bytes]] = {}


def member_command(
    java: Path, jar: Path, config: Path, heap: str, jvm_options: Sequence[str]
) -> list[str]:
    """The command line of one member started from ``config``."""
    return [
        str(java),
        f"-Xms{min(64, _megabytes(heap))}m",
        f"-Xmx{heap}",
        *JAVA_MODULE_FLAGS,
        *jvm_options,
        f"-Dhazelcast.config={config}",
        "-cp",
        str(jar),
        MAIN_CLASS,
    ]


def spawn(command: Sequence[str], log_path: Path, cwd: Path) -> subprocess.Popen[bytes]:
    """Start ``command`` in its own session, output appended to ``log_path``.

    Its own session keeps a terminal's Ctrl-C from reaching it: Python stops it. On
    Linux, spawned from the main thread, it also gets SIGKILL when this process ends
    however it ends (see :func:`_dying_with_this_process`); otherwise only a normal
    interpreter exit stops it.

    Raises:
        ConfigurationError: the executable could not be run.
    """
    with log_path.open("ab") as log:
        try:
            popen = subprocess.Popen(  # noqa: S603 - our own command line
                [*_dying_with_this_process(), *command],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=cwd,
                start_new_session=True,
            )
        except OSError as exc:
            raise ConfigurationError(f"Could not run {command[0]}: {exc}") from exc
    _LIVE[popen.pid] = popen
    return popen


def _dying_with_this_process() -> list[str]:
    """A command prefix that sends the member SIGKILL when its parent ends, even by
    SIGKILL (``setpriv --pdeathsig``, Linux), so a killed test run or CLI leaves no JVM.

    The kernel sends it when the *thread* that started the member ends, so it is used
    only from the main thread, whose end is the process's end; elsewhere, and where
    setpriv is missing, the exit handler below is all there is.
    """
    if sys.platform != "linux" or threading.current_thread() is not threading.main_thread():
        return []
    setpriv = shutil.which("setpriv")
    return [] if setpriv is None else [setpriv, "--pdeathsig", "KILL", "--"]


def reap(popen: subprocess.Popen[bytes]) -> None:
    """SIGKILL the process if it still runs, and reap it (bounded wait)."""
    if popen.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            popen.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        popen.wait(timeout=_REAP_TIMEOUT)
    forget(popen)


def forget(popen: subprocess.Popen[bytes]) -> None:
    """Stop tracking the process once it has exited and been reaped."""
    if popen.poll() is not None:
        _LIVE.pop(popen.pid, None)


@atexit.register
def _reap_all() -> None:
    """At interpreter exit, SIGKILL every member still running (say, a test that failed)."""
    for popen in list(_LIVE.values()):
        with contextlib.suppress(ProcessLookupError):
            popen.kill()
    for popen in list(_LIVE.values()):
        reap(popen)


def _megabytes(heap: str) -> int:
    number, unit = (heap[:-1], heap[-1].lower()) if heap[-1].isalpha() else (heap, "")
    scale = {"": 1 / (1 << 20), "k": 1 / 1024, "m": 1, "g": 1024}[unit]
    return max(1, int(int(number) * scale))
