"""Local Hazelcast members for tests, demos and development.

- ``_discovery``: finding ``java`` and the Hazelcast jar (and fetching it with Maven).
- ``_config``: the test-friendly member YAML and free loopback ports.
- ``_jvm``: the member command line, spawning JVMs, reaping them at exit.
- ``_log``: reading a member's log as it grows.
- ``_member``: :class:`MemberProcess`, one member as a child process.
- ``_cluster``: :class:`LocalCluster`, several members forming one cluster.
- ``_run``: :func:`run_local_cluster`, the engine of ``hazelkit local-cluster``.

The public names are re-exported by :mod:`hazelkit.testing`.
"""

from hazelkit._local_cluster._cluster import LocalCluster
from hazelkit._local_cluster._config import DEFAULT_PROPERTIES
from hazelkit._local_cluster._discovery import HAZELCAST_VERSION, find_hazelcast_jar, find_java
from hazelkit._local_cluster._jvm import DEFAULT_JVM_OPTIONS
from hazelkit._local_cluster._member import MemberProcess
from hazelkit._local_cluster._run import run_local_cluster

__all__ = [
    "DEFAULT_JVM_OPTIONS",
    "DEFAULT_PROPERTIES",
    "HAZELCAST_VERSION",
    "LocalCluster",
    "MemberProcess",
    "find_hazelcast_jar",
    "find_java",
    "run_local_cluster",
]
