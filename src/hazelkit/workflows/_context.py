"""Context: what a workflow handler may do besides returning the new state."""

from __future__ import annotations

import datetime
from typing import Any

from hazelkit._runtime._behavior import Behavior, Effects

__all__ = ["Context", "WorkflowBehavior"]


class Context:
    """Given to every handler. Everything asked through it takes effect only if the
    handler's new state is committed, and then exactly once: timers are stored with the
    state, and sends and publishes go out after the commit (delivered again after a crash,
    and recognised as repeats by their key or number).
    """

    __slots__ = ("_effects",)

    def __init__(self, effects: Effects) -> None:
        self._effects = effects

    @property
    def workflow_id(self) -> str:
        """The id of the workflow being applied."""
        return self._effects.entity_id

    @property
    def sequence(self) -> int:
        """The inbox sequence of the message being applied (-1 for a timer)."""
        return self._effects.sequence

    @property
    def idempotency_key(self) -> str:
        """The same for every run of this message or timer, across retries and failover:
        give it to side effects outside the workflow (a payment, an email) so that a
        repeated run is recognised there."""
        return self._effects.idempotency_key

    @property
    def now(self) -> datetime.datetime:
        """When this run began (UTC), by the owner's clock."""
        return datetime.datetime.fromtimestamp(self._effects.now, datetime.UTC)

    @property
    def timers(self) -> dict[str, datetime.datetime]:
        """The timers that will be pending after this run, by name."""
        return {
            name: datetime.datetime.fromtimestamp(due, datetime.UTC)
            for name, due in self._effects.timers.items()
        }

    def set_timer(
        self, name: str, *, after: float | None = None, at: datetime.datetime | None = None
    ) -> None:
        """Fire timer ``name`` ``after`` seconds from now, or ``at`` an aware datetime
        (replacing a timer of that name). It runs the timer handler once, on whichever
        node owns the workflow then; one due while no node owned it fires late."""
        self._effects.set_timer(name, after=after, at=at)

    def cancel_timer(self, name: str) -> None:
        """Cancel timer ``name`` (nothing happens if it is not set)."""
        self._effects.cancel_timer(name)

    def complete(self, result: Any = None) -> None:
        """End the workflow as completed with ``result``; later messages are ignored."""
        self._effects.complete(result)

    def fail(self, reason: str) -> None:
        """End the workflow as failed with ``reason``; later messages are ignored."""
        self._effects.fail(reason)

    def send(self, workflow_id: str, message: Any, *, key: str | None = None) -> None:
        """Send ``message`` to workflow ``workflow_id`` after this commit, exactly once
        (its key is derived from this message unless given)."""
        self._effects.send(workflow_id, message, key)

    def publish(self, topic: str, value: Any) -> None:
        """Publish ``value`` on the reliable topic ``topic`` after this commit; a repeat
        after a crash is dropped by subscribers."""
        self._effects.publish(topic, value)

    def subscribe(self, topic: str, *, start: int | str = "latest") -> None:
        """From this commit on, apply the messages of the reliable topic ``topic`` as
        messages of this workflow (``ctx.topic`` names it), from ``start``: "latest"
        (published after this commit), "oldest" (every one still stored) or a sequence.
        The position is kept in the workflow's state: after a failover it resumes there,
        each message applied exactly once; subscribing again keeps the position."""
        self._effects.subscribe(topic, start)

    def unsubscribe(self, topic: str) -> None:
        """Stop applying ``topic``'s messages (from this commit on)."""
        self._effects.unsubscribe(topic)

    @property
    def topic(self) -> str | None:
        """The topic of the message being applied (None for an inbox message or timer)."""
        return self._effects.topic

    @property
    def topics(self) -> dict[str, int]:
        """The topics subscribed after this run, with the next sequence of each (before
        its first message, "latest"/"oldest" read as -1/-2)."""
        return dict(self._effects.topics)

    def __repr__(self) -> str:
        return f"<Context {self.workflow_id!r} at {self.sequence}>"


class WorkflowBehavior:
    """Runs a :class:`~hazelkit.workflows.Workflow` definition for the runtime."""

    def __init__(self, definition: Any) -> None:
        self.definition = definition
        self.type_name: str = definition.name
        self.version: int = definition.version
        self.max_retries: int = definition.max_retries
        self.retry_delay: float = definition.retry_delay
        self.history_limit: int = definition.history_limit
        self.record_steps = False

    def make_effects(self, effects: Effects) -> Context:
        return Context(effects)

    def initial(self, args: Any) -> Any:
        return self.definition.initial(args)

    def migrate(self, from_version: int, state: Any) -> Any:
        return self.definition.migrate(from_version, state)

    def restarted(self, state: Any, new: Any) -> Any:
        return new

    async def on_message(self, context: Any, state: Any, message: Any) -> Any:
        return await self.definition.handle(context, state, message)

    async def on_timer(self, context: Any, state: Any, name: str) -> Any:
        return await self.definition.on_timer(context, state, name)

    async def on_loss(self, context: Any, state: Any, topic: str, first: int, last: int) -> Any:
        return await self.definition.on_loss(context, state, topic, first, last)


def _conforms(behavior: WorkflowBehavior) -> Behavior:
    return behavior  # checked by mypy: WorkflowBehavior is a Behavior
