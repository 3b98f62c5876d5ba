"""Helpers for testing code built on hazelkit against real Hazelcast members.

:class:`LocalCluster` starts Hazelcast members (``com.hazelcast:hazelcast``, run by a
JDK 17+) as child processes on free loopback ports and stops them again::

    from hazelkit.testing import LocalCluster

    with LocalCluster(2) as lc:
        async with hazelkit.connect(lc.url) as cluster:
            ...

The jar is found by :func:`find_hazelcast_jar` (``HAZELKIT_HAZELCAST_JAR``, a cache
directory, ~/.m2, or fetched with Maven).
"""

from hazelkit._local_cluster import (
    HAZELCAST_VERSION,
    LocalCluster,
    MemberProcess,
    find_hazelcast_jar,
    find_java,
    run_local_cluster,
)

__all__ = [
    "HAZELCAST_VERSION",
    "LocalCluster",
    "MemberProcess",
    "find_hazelcast_jar",
    "find_java",
    "run_local_cluster",
]


from hazelkit._core._public import publish

publish(__name__, globals(), __all__)
