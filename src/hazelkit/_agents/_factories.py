"""The agent factories of :class:`~hazelkit.Cluster`: ``cluster.agent`` and
``cluster.agents``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, cast

from hazelkit._core._local import ClusterLocal

if TYPE_CHECKING:
    from hazelkit._agents._agent import Agent, Agents
    from hazelkit._core._cluster import Cluster

__all__ = ["AgentFactories"]


def _agents(cluster: Cluster) -> Agents:
    from hazelkit._agents._agent import Agents

    return Agents(cluster)


_per_cluster: ClusterLocal[Agents] = ClusterLocal(_agents, with_cluster=True)


class AgentFactories:
    """Mixed into :class:`~hazelkit.Cluster`: Clojure agents, cluster-wide."""

    def agent(
        self,
        name: str,
        *,
        initial: Any = None,
        error_mode: Literal["fail", "continue"] = "fail",
        error_handler: Callable[..., Any] | str | None = None,
        validator: Callable[[Any], object] | str | None = None,
    ) -> Agent[Any]:
        """The agent called ``name`` (see :class:`~hazelkit.Agent`). The first send
        creates it with ``initial`` and these options; the actions, ``error_handler``
        and ``validator`` are registered functions (``@hazelkit.action``), by name."""
        from hazelkit._agents._agent import Agent

        return Agent(
            cast("Cluster", self),
            name,
            initial=initial,
            error_mode=error_mode,
            error_handler=error_handler,
            validator=validator,
        )

    @property
    def agents(self) -> Agents:
        """Hosting agents on this Cluster (``async with cluster.agents.host(): ...``)."""
        return _per_cluster.get(cast("Cluster", self))
