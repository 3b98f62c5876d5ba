"""Agents and singletons without ``await``: each call delegates to the async handle."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, Protocol, Self, TypeVar

from hazelkit._blocking._runner import Runner

if TYPE_CHECKING:
    from hazelkit._agents._agent import Agent, AgentHosting
    from hazelkit._runtime._singleton import Singleton, SingletonStatus

__all__ = ["BlockingAgent", "BlockingAgentHosting", "BlockingSingleton"]

T = TypeVar("T")


class BlockingAgent(Generic[T]):
    """:class:`~hazelkit.Agent` from blocking code: the same methods and guarantees.
    Watches run on the cluster's event loop thread."""

    def __init__(self, run: Runner, agent: Agent[T]) -> None:
        self._run = run
        self._agent = agent
        self.name = agent.name

    def send(self, action: Callable[..., Any] | str, *args: Any) -> None:
        """See :meth:`Agent.send`."""
        self._run(self._agent.send, action, *args)

    def deref(self) -> T:
        """See :meth:`Agent.deref`."""
        return self._run(self._agent.deref)

    def await_(self, timeout: float = 30.0) -> None:
        """See :meth:`Agent.await_`."""
        self._run(self._agent.await_, timeout)

    def error(self) -> str | None:
        """See :meth:`Agent.error`."""
        return self._run(self._agent.error)

    def last_error(self) -> str | None:
        """See :meth:`Agent.last_error`."""
        return self._run(self._agent.last_error)

    def restart(self, new_state: T, *, clear_actions: bool = False) -> None:
        """See :meth:`Agent.restart`."""
        self._run(self._agent.restart, new_state, clear_actions=clear_actions)

    def add_watch(self, key: Hashable, fn: Callable[[Any, Any], object]) -> None:
        """See :meth:`Agent.add_watch`."""
        self._run(self._agent.add_watch, key, fn)

    def remove_watch(self, key: Hashable) -> None:
        """See :meth:`Agent.remove_watch`."""
        self._run(self._agent.remove_watch, key)


class _Startable(Protocol):
    async def start(self) -> Any: ...
    async def stop(self) -> None: ...


class _StartStop:
    """A start/stop handle from blocking code (``with``, or ``start()``/``stop()``); the
    work runs on the cluster's event loop thread."""

    def __init__(self, run: Runner, hosted: _Startable) -> None:
        self._run = run
        self._startable = hosted

    @property
    def _hosted(self) -> _Startable:
        return self._startable

    def start(self) -> Self:
        """Begin (see the async ``start``)."""
        self._run(self._hosted.start)
        return self

    def stop(self) -> None:
        """Hand off and stop (see the async ``stop``)."""
        self._run(self._hosted.stop)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class BlockingAgentHosting(_StartStop):
    """:class:`~hazelkit.AgentHosting` from blocking code."""

    def __init__(self, run: Runner, hosting: AgentHosting) -> None:
        super().__init__(run, hosting)
        self._hosting = hosting

    def partitions(self) -> list[int]:
        """The partitions of agents this node applies now."""
        return self._hosting.partitions()


class BlockingSingleton(_StartStop):
    """:class:`~hazelkit.Singleton` from blocking code (its function is a coroutine
    function, run on the cluster's event loop thread)."""

    def __init__(self, run: Runner, singleton: Singleton) -> None:
        super().__init__(run, singleton)
        self._singleton = singleton

    @property
    def running_here(self) -> bool:
        """Whether it runs on this node now."""
        return self._singleton.running_here

    def status(self) -> SingletonStatus:
        """Where it runs now (see :meth:`Singleton.status`)."""
        return self._run(self._singleton.status)
