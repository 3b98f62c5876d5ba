"""Where each component of a System is in its life, and whether it says it is healthy."""

from __future__ import annotations

import asyncio
import enum
import inspect
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hazelkit._core._cluster import Cluster, ClusterState

__all__ = ["ComponentHealth", "ComponentState", "SystemHealth", "check_health"]


class ComponentState(enum.StrEnum):
    """Where a component is: ``not started`` → ``starting`` → ``running`` →
    ``stopping`` → ``stopped``; ``failed`` when its start or stop raised or timed out."""

    NOT_STARTED = "not started"
    STARTING = "starting"
    RUNNING = "running"
    STOPPING = "stopping"
    STOPPED = "stopped"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class ComponentHealth:
    """One component in :meth:`System.health`."""

    name: str
    state: ComponentState
    #: Running, and its health check (if it has one) passed.
    healthy: bool
    #: What its health check returned (None without a check, or when it returned a bool).
    detail: Any = None
    #: Why it is unhealthy: its failed start or stop, or its health check's error or
    #: timeout ("ValueError: disk full"); None otherwise.
    error: str | None = None


@dataclass(frozen=True, slots=True)
class SystemHealth:
    """Every component's :class:`ComponentHealth`, by name, in dependency order."""

    components: Mapping[str, ComponentHealth]

    @property
    def healthy(self) -> bool:
        """True when every component is running and healthy."""
        return all(component.healthy for component in self.components.values())


def describe(error: BaseException) -> str:
    """An error as it is reported and recorded: ``"ValueError: boom"``."""
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


async def check_health(name: str, value: Any, timeout: float) -> ComponentHealth:
    """Run the running component ``value``'s ``health()`` (if any) within ``timeout``:
    a bool result is the verdict, anything else is a passing detail, an error or a
    timeout is unhealthy. A Cluster is healthy while connected."""
    running = ComponentState.RUNNING
    if isinstance(value, Cluster):
        state = value.state
        return ComponentHealth(name, running, state is ClusterState.RUNNING, state.value)
    check = getattr(value, "health", None)
    if not callable(check):
        return ComponentHealth(name, running, True)
    try:
        async with asyncio.timeout(timeout):
            result = check()
            if inspect.isawaitable(result):
                result = await result
    except TimeoutError:
        return ComponentHealth(name, running, False, error=f"no answer within {timeout:g} s")
    except Exception as error:
        return ComponentHealth(name, running, False, error=describe(error))
    if isinstance(result, bool):
        return ComponentHealth(name, running, result)
    return ComponentHealth(name, running, True, result)
