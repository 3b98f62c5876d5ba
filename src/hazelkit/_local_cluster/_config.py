"""The YAML configuration of a test-friendly local member, and loopback ports.

Every property name below exists in Hazelcast 5.7 (``ClusterProperty``); the config is
tuned for fast start-up, fast join and fast failure detection, never for production.
"""

from __future__ import annotations

import json
import re
import secrets
import socket
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Final

from hazelkit._core._exceptions import ConfigurationError

HOST: Final = "127.0.0.1"

PropertyValue = str | int | bool

DEFAULT_PROPERTIES: Final[Mapping[str, PropertyValue]] = {
    "hazelcast.phone.home.enabled": False,
    "hazelcast.logging.type": "jdk",
    "hazelcast.logging.emoji.enabled": False,
    "hazelcast.health.monitoring.level": "OFF",
    "hazelcast.partition.count": 31,
    # Join at once, and give up on a join that cannot succeed well before our timeouts.
    "hazelcast.wait.seconds.before.join": 0,
    "hazelcast.max.wait.seconds.before.join": 1,
    "hazelcast.max.join.seconds": 30,
    # Fault tests SIGKILL members: notice a dead one within a few seconds.
    "hazelcast.heartbeat.interval.seconds": 1,
    "hazelcast.max.no.heartbeat.seconds": 5,
    # Members that started as two clusters (a join race) merge within seconds.
    "hazelcast.merge.first.run.delay.seconds": 5,
    "hazelcast.merge.next.run.delay.seconds": 5,
    # The expiry task (every 5 s) scans every partition each time, not 6 of the 31 by
    # default: an entry past its TTL is removed, and its EXPIRED event sent, within about
    # 5 s, not up to 26 s later when many partitions hold entries with a TTL.
    "hazelcast.internal.map.expiration.cleanup.operation.count": 31,
    # SIGTERM leaves gracefully (partitions migrate first), but never for long.
    "hazelcast.shutdownhook.enabled": True,
    "hazelcast.shutdownhook.policy": "GRACEFUL",
    "hazelcast.graceful.shutdown.max.wait": 20,
}

_DATA_STRUCTURES: Final[Mapping[str, Mapping[str, object]]] = {
    "map": {"default": {"backup-count": 1, "async-backup-count": 0}},
    "multimap": {"default": {"backup-count": 1, "async-backup-count": 0}},
    "queue": {"default": {"backup-count": 1, "async-backup-count": 0}},
    "list": {"default": {"backup-count": 1, "async-backup-count": 0}},
    "set": {"default": {"backup-count": 1, "async-backup-count": 0}},
    "ringbuffer": {"default": {"capacity": 10000, "backup-count": 1, "async-backup-count": 0}},
}

_CLUSTER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_HEAP = re.compile(r"[1-9][0-9]*[kKmMgG]?")
_PLAIN_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def random_cluster_name() -> str:
    """A fresh cluster name, so concurrent local clusters never join each other."""
    return f"hazelkit-{secrets.token_hex(4)}"


def check_cluster_name(name: str) -> str:
    """Return ``name`` if it is safe in YAML, a URL and a file name, else raise."""
    if not _CLUSTER_NAME.fullmatch(name):
        raise ConfigurationError(
            f"Invalid cluster name {name!r}: use 1-100 letters, digits, '.', '_' or '-',"
            " starting with a letter or digit."
        )
    return name


def check_heap(heap: str) -> str:
    """Return ``heap`` if it is a JVM memory size such as ``256m``, else raise."""
    if not _HEAP.fullmatch(heap):
        raise ConfigurationError(f"Invalid heap size {heap!r}: expected e.g. '256m' or '1g'.")
    return heap


def free_ports(count: int) -> list[int]:
    """Return ``count`` distinct loopback ports that were free a moment ago.

    Each port is found by binding port 0 on 127.0.0.1; all sockets stay open until every
    port is chosen, so the ports are distinct. Another process may still take one before
    a member binds it: callers retry on a bind failure.
    """
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sockets.append(sock)
            sock.bind((HOST, 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def port_is_free(port: int) -> bool:
    """True if a member could listen on ``127.0.0.1:port`` now: nothing listens there
    (connections left in TIME_WAIT do not count, as for a member with reuse-address)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
        return True


def member_config(
    cluster_name: str,
    port: int,
    member_list: Iterable[str],
    *,
    properties: Mapping[str, PropertyValue] | None = None,
    extra_config: Mapping[str, object] | None = None,
) -> str:
    """Render the YAML config of one member listening on ``127.0.0.1:port``.

    ``member_list`` holds the ``host:port`` of every member to join (this one included
    or not). ``properties`` override :data:`DEFAULT_PROPERTIES`; ``extra_config`` is merged
    (recursively, mappings only) into the ``hazelcast:`` section last, so it wins.
    """
    own = f"{HOST}:{port}"
    members = list(dict.fromkeys([*member_list, own]))
    section: dict[str, object] = {
        "cluster-name": cluster_name,
        "properties": {**DEFAULT_PROPERTIES, **(properties or {})},
        "network": {
            "port": {"auto-increment": False, "port-count": 1, "port": port},
            # A member restarted at once binds its port again, TIME_WAIT or not.
            "reuse-address": True,
            "interfaces": {"enabled": True, "interfaces": [HOST]},
            "join": {
                "auto-detection": {"enabled": False},
                "multicast": {"enabled": False},
                # A joining member looks this long for a master before claiming to be
                # one; the seed member of a local cluster is master within seconds.
                "tcp-ip": {
                    "enabled": True,
                    "connection-timeout-seconds": 10,
                    "member-list": members,
                },
            },
        },
        "jet": {"enabled": False},
        "metrics": {"enabled": False},
        "integrity-checker": {"enabled": False},
        **_DATA_STRUCTURES,
    }
    merged = _deep_merge(section, extra_config or {})
    return "\n".join(_yaml_lines({"hazelcast": merged}, 0)) + "\n"


def _deep_merge(base: Mapping[str, object], extra: Mapping[str, object]) -> dict[str, object]:
    merged = dict(base)
    for key, value in extra.items():
        current = merged.get(key)
        if isinstance(current, Mapping) and isinstance(value, Mapping):
            merged[key] = _deep_merge(current, value)
        else:
            merged[key] = value
    return merged


def _yaml_lines(value: object, depth: int) -> Iterator[str]:
    """Block-style YAML; scalars are JSON, which YAML 1.2 reads as the same values."""
    pad = "  " * depth
    if isinstance(value, Mapping):
        for key, item in value.items():
            name = key if _PLAIN_KEY.fullmatch(str(key)) else json.dumps(str(key))
            if _is_collection(item) and item:
                yield f"{pad}{name}:"
                yield from _yaml_lines(item, depth + 1)
            else:
                yield f"{pad}{name}: {_scalar(item)}"
    elif isinstance(value, Sequence) and not isinstance(value, str):
        for item in value:
            if _is_collection(item) and item:
                yield f"{pad}-"
                yield from _yaml_lines(item, depth + 1)
            else:
                yield f"{pad}- {_scalar(item)}"


def _is_collection(value: object) -> bool:
    return isinstance(value, Mapping) or (
        isinstance(value, Sequence) and not isinstance(value, str | bytes)
    )


def _scalar(value: object) -> str:
    if isinstance(value, Mapping):
        return "{}"
    if _is_collection(value):
        return "[]"
    if value is None or isinstance(value, bool | int | float | str):
        return json.dumps(value)
    raise ConfigurationError(f"Cannot write {value!r} ({type(value).__name__}) into YAML.")
