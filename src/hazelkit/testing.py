"""Helpers for testing code built on hazelkit: real members, a manual clock, faults.

:class:`LocalCluster` starts Hazelcast members (``com.hazelcast:hazelcast``, run by a
JDK 17+) as child processes on free loopback ports and stops them again::

    from hazelkit.testing import LocalCluster

    with LocalCluster(2) as lc:
        async with hazelkit.connect(lc.url) as cluster:
            ...

The jar is found by :func:`find_hazelcast_jar` (``HAZELKIT_HAZELCAST_JAR``, a cache
directory, ~/.m2, or fetched with Maven).

:class:`ManualClock` moves time forward without sleeping (``connect(url, clock=clock)``;
the embedded grid expires entries by it), and :func:`inject_faults` makes chosen grid
calls fail, lose their reply, stall or hang, and counts them::

    clock = ManualClock()
    async with hazelkit.connect("memory://t", clock=clock) as cluster:
        faults = inject_faults(cluster)
        faults.drop("map.replace_if_same")   # applied, but the reply is lost
        ...
        clock.advance(30)                    # every 30 s TTL has run out
"""

from hazelkit._local_cluster import (
    HAZELCAST_VERSION,
    LocalCluster,
    MemberProcess,
    find_hazelcast_jar,
    find_java,
    run_local_cluster,
)
from hazelkit._testing._clock import ManualClock
from hazelkit._testing._crash import crash
from hazelkit._testing._faults import Faults, inject_faults

__all__ = [  # noqa: RUF022 - plain sorted, as tests/test_exported_members.py checks
    "Faults",
    "HAZELCAST_VERSION",
    "LocalCluster",
    "ManualClock",
    "MemberProcess",
    "crash",
    "find_hazelcast_jar",
    "find_java",
    "inject_faults",
    "run_local_cluster",
]


from hazelkit._core._public import publish as _publish

_publish(__name__, globals(), __all__)
