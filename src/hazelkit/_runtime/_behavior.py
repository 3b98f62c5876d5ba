"""What an entity kind tells the runtime: how to start, apply, time out and migrate.

The runtime owns the record, the inbox, ownership, retries and commits; a *behavior*
(a workflow definition, an agent) only computes: a first state from the start
arguments, a new state from a message or a timer, an older state brought up to date.
Everything a handler wants to happen besides its new state goes through its
:class:`Effects`, which the runtime stores in the same commit as the state.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass, field
from typing import Any, Protocol

from hazelkit._core._exceptions import ConfigurationError

__all__ = ["Behavior", "Effects"]


class Behavior(Protocol):
    """An entity kind as the runtime runs it."""

    type_name: str
    version: int
    max_retries: int
    retry_delay: float
    history_limit: int
    #: Whether a grouped write records the state after each of its earlier messages
    #: (``EntityRecord.steps``), so that watchers of the record can see every change.
    record_steps: bool

    def make_effects(self, effects: Effects) -> Any:
        """The context object handlers get (it wraps ``effects``)."""

    def initial(self, args: Any) -> Any: ...
    def migrate(self, from_version: int, state: Any) -> Any: ...

    def restarted(self, state: Any, new: Any) -> Any:
        """The state after an operator's restart with ``new`` (agents: their value)."""

    async def on_message(self, context: Any, state: Any, message: Any) -> Any: ...
    async def on_timer(self, context: Any, state: Any, name: str) -> Any: ...

    async def on_loss(self, context: Any, state: Any, topic: str, first: int, last: int) -> Any:
        """Messages ``first..last`` of ``topic`` were overwritten before the entity
        read them: the new state, or raise to pause the entity (naming the range)."""


@dataclass
class Effects:
    """What one handler run asked for, applied only if its commit succeeds."""

    entity_id: str
    sequence: int
    key: str
    now: float
    timers: dict[str, float]
    sends: list[tuple[str, Any, str | None]] = field(default_factory=list)
    publishes: list[tuple[str, Any]] = field(default_factory=list)
    completed: bool = False
    result: Any = None
    failed: str | None = None
    #: An error the handler dealt with itself, to show as the entity's last error.
    error: str | None = None
    #: The reliable topics it will subscribe to after this run (see EntityRecord.topics).
    topics: dict[str, int] = field(default_factory=dict)
    #: The topic of the message being applied (None: an inbox message or a timer).
    topic: str | None = None

    @property
    def idempotency_key(self) -> str:
        """Stable across retries and failover: the entity id and the message's key."""
        return f"{self.entity_id}:{self.key}"

    def set_timer(
        self,
        name: str,
        *,
        after: float | None = None,
        at: datetime.datetime | float | None = None,
    ) -> None:
        if not isinstance(name, str) or not name:
            raise ConfigurationError(f"a timer name must be a non-empty str, not {name!r}")
        if (after is None) == (at is None):
            raise ConfigurationError("set_timer takes exactly one of after= or at=")
        if after is not None:
            if not isinstance(after, int | float) or not math.isfinite(after) or after < 0:
                raise ConfigurationError(f"after must be seconds >= 0, not {after!r}")
            due = self.now + float(after)
        elif isinstance(at, datetime.datetime):
            if at.tzinfo is None:
                raise ConfigurationError("at= must be an aware datetime (with a time zone)")
            due = at.timestamp()
        else:
            due = float(at)  # type: ignore[arg-type]
        self.timers[name] = due

    def cancel_timer(self, name: str) -> None:
        self.timers.pop(name, None)

    def complete(self, result: Any = None) -> None:
        self.completed, self.result = True, result

    def fail(self, reason: str) -> None:
        self.failed = str(reason)

    def send(self, entity_id: str, message: Any, key: str | None = None) -> None:
        self.sends.append((entity_id, message, key))

    def publish(self, topic: str, value: Any) -> None:
        self.publishes.append((topic, value))

    def subscribe(self, topic: str, start: int | str = "latest") -> None:
        if not isinstance(topic, str) or not topic:
            raise ConfigurationError(f"a topic name must be a non-empty str, not {topic!r}")
        if topic in self.topics:
            return  # subscribed already: keep its place
        if start == "latest":
            self.topics[topic] = -1
        elif start == "oldest":
            self.topics[topic] = -2
        elif isinstance(start, int) and not isinstance(start, bool) and start >= 0:
            self.topics[topic] = start
        else:
            raise ConfigurationError(
                f"start must be 'latest', 'oldest' or a sequence >= 0, not {start!r}"
            )

    def unsubscribe(self, topic: str) -> None:
        self.topics.pop(topic, None)
