"""For code that builds on hazelkit below its public API: new primitives, and tests.

These are the functions hazelkit's own capabilities use to reach a Cluster's backend
(stores of encoded bytes, whose protocols are in ``hazelkit._backends.protocol``), to run
background tasks owned by the Cluster, to run steps when it closes, and to keep state per
Cluster. They follow the Cluster's rules: a backend store is only reachable while the
Cluster is open, and every task spawned here ends when it closes.

Values in backend stores are bytes encoded by ``cluster.codec``; writing anything else
there is how a test plays a foreign client.
"""

from hazelkit._core._lowlevel import ClusterLocal, backend, check_open, on_close, spawn

__all__ = [
    "ClusterLocal",
    "backend",
    "check_open",
    "on_close",
    "spawn",
]


from hazelkit._core._public import publish as _publish

_publish(__name__, globals(), __all__)
