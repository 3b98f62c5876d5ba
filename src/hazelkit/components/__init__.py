"""Components: a system of named parts started in dependency order, and the steps a
cluster runs once (initialisation, versioned migrations).

    import hazelkit
    from hazelkit.components import Migrations, System, run, using

    system = System({
        "cluster": hazelkit.connect("hazelcast://10.0.0.1:5701"),   # started by the System
        "schema": using(Migrations([("001-users", create_users)]), "cluster"),
        "api": using(Api(), "cluster", "schema"),       # api.cluster, api.schema injected
    })
    asyncio.run(run(system))      # until SIGTERM or SIGINT; or: async with system: ...

- :class:`System` starts each component after those it depends on (independent ones
  concurrently), injects them as attributes, stops in reverse, rolls back a failed
  start, collects stop errors and bounds every start and stop.
- A component is an async context manager (a :class:`~hazelkit.Cluster`), an object with
  ``start()``/``stop()``, or a plain value; :func:`using` declares its dependencies.
- :func:`once` runs a step once in the whole cluster and gives its outcome to every
  node; :class:`Migrations` applies named migrations in order, each once, and refuses a
  node that does not know all that was applied.
- :meth:`System.health` reports each component's state and health check.

- ``using(value, "cluster", singleton=True)`` runs a component on exactly one node of
  the cluster at a time; it moves when that node leaves or dies (a cluster singleton,
  with a fencing token in ``value.fencing_token``).
"""

from hazelkit._core._public import publish as _publish
from hazelkit.components._component import (
    Component,
    Lifecycle,
    LifecycleFactory,
    default_lifecycle,
    using,
)
from hazelkit.components._health import ComponentHealth, ComponentState, SystemHealth
from hazelkit.components._migrations import Migration, Migrations
from hazelkit.components._once import forget_once, once
from hazelkit.components._run import run
from hazelkit.components._system import System

__all__ = [
    "Component",
    "ComponentHealth",
    "ComponentState",
    "Lifecycle",
    "LifecycleFactory",
    "Migration",
    "Migrations",
    "System",
    "SystemHealth",
    "default_lifecycle",
    "forget_once",
    "once",
    "run",
    "using",
]

_publish(__name__, globals(), __all__)
