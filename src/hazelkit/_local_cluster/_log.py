"""Reading a member's log: when it started, how many members it sees, why it failed."""

from __future__ import annotations

import re
from pathlib import Path

_STARTED = re.compile(r"\]:(\d+) is STARTED")
_MEMBERS = re.compile(r"^Members \{size:(\d+),")
_BIND_FAILURES = ("is already in use", "Address already in use")


class LogWatcher:
    """Reads a member's log as it grows, from where it ended when created."""

    def __init__(self, path: Path, port: int) -> None:
        self._path = path
        self._port = port
        self._offset = path.stat().st_size if path.exists() else 0
        self._partial = b""
        self.started = False
        self.bind_failed = False
        self.cluster_size: int | None = None

    def poll(self) -> None:
        """Read what was appended since the last poll and update the state."""
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


def log_tail(path: Path, lines: int) -> str:
    """The last ``lines`` lines of the log at ``path`` ("" if there is none)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return ""
    return "\n".join(text.splitlines()[-lines:])
