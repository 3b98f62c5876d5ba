"""For code that builds on hazelkit below its public API: new primitives, and tests.

These are the functions hazelkit's own capabilities use to reach a Cluster's backend
(stores of encoded bytes, :mod:`hazelkit.lowlevel` re-exports their protocols), to run
background tasks owned by the Cluster, to run steps when it closes, and to keep state per
Cluster. They follow the Cluster's rules: a backend store is only reachable while the
Cluster is open, and every task spawned here ends when it closes.

Values in backend stores are bytes encoded by ``cluster.codec``; writing anything else
there is how a test plays a foreign client.
"""

from hazelkit._backends.protocol import (
    Backend,
    IdGeneratorStore,
    ListStore,
    MapStore,
    MultiMapStore,
    QueueStore,
    RingbufferStore,
    SetStore,
    TopicStore,
)
from hazelkit._core._lowlevel import ClusterLocal, backend, check_open, on_close, spawn

__all__ = [
    "Backend",
    "ClusterLocal",
    "IdGeneratorStore",
    "ListStore",
    "MapStore",
    "MultiMapStore",
    "QueueStore",
    "RingbufferStore",
    "SetStore",
    "TopicStore",
    "backend",
    "check_open",
    "on_close",
    "spawn",
]
