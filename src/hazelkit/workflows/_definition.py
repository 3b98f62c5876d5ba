"""Workflow definitions: a name, a version, a first state, and handlers.

A definition is written either with one ``handle`` method, or as a state machine:
handlers decorated with :func:`on` for a state (the value of the field ``state_field``
of the state) and a message type, and :func:`on_timer` for timers. Mistakes that can be
seen when the class is defined raise ConfigurationError then: no handler at all, both
styles at once, two handlers for the same state and message type, a handler for a state
not in ``states``, a state (not in ``final``) that no handler serves.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from hazelkit._core._exceptions import ArgumentError, ConfigurationError, MessageLossError

__all__ = ["Workflow", "on", "on_timer"]

F = TypeVar("F", bound=Callable[..., Any])
_ANY = object()
_MARK = "__hazelkit_on__"
_TIMER_MARK = "__hazelkit_on_timer__"


def on(state: str, message: type | str | None = None) -> Callable[[F], F]:
    """Mark an ``async def handler(self, ctx, state, message) -> new state`` of a state
    machine: it handles messages that arrive while the workflow is in ``state``.

    ``message`` selects which: a class (an instance of it), a str (the message itself,
    or the ``"type"`` item of a dict message), or None (any message). The most specific
    match wins: class, then str, then any.
    """

    def mark(function: F) -> F:
        if not inspect.iscoroutinefunction(function):
            raise ArgumentError(f"@on handler {function.__name__} must be an async def")
        marks = getattr(function, _MARK, [])
        setattr(function, _MARK, [*marks, (state, _ANY if message is None else message)])
        return function

    return mark


def on_timer(name: str) -> Callable[[F], F]:
    """Mark an ``async def handler(self, ctx, state) -> new state`` run when the timer
    ``name`` (set with ``ctx.set_timer``) fires."""

    def mark(function: F) -> F:
        if not inspect.iscoroutinefunction(function):
            raise ArgumentError(f"@on_timer handler {function.__name__} must be an async def")
        setattr(function, _TIMER_MARK, name)
        return function

    return mark


class Workflow:
    """The base of workflow definitions. Subclasses set ``name`` (how every node finds
    the definition: nothing is pickled) and ``version``, and write ``initial`` and
    either ``handle`` or :func:`on` handlers.

    Handlers return the new state; they may run again after a crash between their effect
    and its commit (use ``ctx.idempotency_key`` for side effects outside the workflow),
    and on a failure they are retried ``max_retries`` times, ``retry_delay`` seconds
    apart (doubling), before the workflow pauses. ``history_limit`` transitions are kept.
    """

    name: ClassVar[str] = ""
    version: ClassVar[int] = 1
    max_retries: ClassVar[int] = 3
    retry_delay: ClassVar[float] = 0.2
    history_limit: ClassVar[int] = 20
    #: For state machines: the field of the state naming the current state.
    state_field: ClassVar[str | None] = None
    #: For state machines: every state (optional; checked when given).
    states: ClassVar[frozenset[str] | None] = None
    #: States that take no messages (the workflow is done there).
    final: ClassVar[frozenset[str]] = frozenset()

    _handlers: ClassVar[dict[tuple[str, Any], str]] = {}
    _timer_handlers: ClassVar[dict[str, str]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _check_definition(cls)

    def initial(self, args: Any) -> Any:
        """The state of a new workflow started with ``args``."""
        return args

    def migrate(self, from_version: int, state: Any) -> Any:
        """The state of an older version brought up to :attr:`version` (default: as is).
        Runs on the owner before the first message a newer definition applies."""
        return state

    async def handle(self, ctx: Any, state: Any, message: Any) -> Any:
        """Apply ``message`` to ``state``; the new state (override this, or use @on)."""
        return await self._dispatch(ctx, state, message)

    async def on_timer(self, ctx: Any, state: Any, name: str) -> Any:
        """Run when timer ``name`` fires (override this, or use @on_timer)."""
        handler = self._timer_handlers.get(name)
        if handler is None:
            raise ConfigurationError(f"workflow {self.name!r} has no handler for timer {name!r}")
        return await getattr(self, handler)(ctx, state)

    async def on_loss(self, ctx: Any, state: Any, topic: str, first: int, last: int) -> Any:
        """Messages ``first..last`` of a subscribed ``topic`` were overwritten before
        the workflow read them. Return the new state to go on, or raise (the default)
        to pause the workflow with the lost range as its error."""
        raise MessageLossError(
            f"messages {first}..{last} of {topic!r} were overwritten before they were read",
            lost=last - first + 1,
            next_sequence=last + 1,
        )

    async def _dispatch(self, ctx: Any, state: Any, message: Any) -> Any:
        current = _current_state(type(self), state)
        handler = self._match(current, message)
        if handler is None:
            raise ConfigurationError(
                f"workflow {self.name!r} has no handler for {_describe(message)} in state"
                f" {current!r}"
            )
        return await getattr(self, handler)(ctx, state, message)

    def _match(self, current: str, message: Any) -> str | None:
        """The handler for ``message`` in state ``current``: by class (most derived
        first), then by tag, then the catch-all."""
        for kind in type(message).__mro__:
            handler = self._handlers.get((current, kind))
            if handler is not None:
                return handler
        tag = _tag(message)
        if tag is not None and (handler := self._handlers.get((current, tag))) is not None:
            return handler
        return self._handlers.get((current, _ANY))


def _check_definition(cls: type[Workflow]) -> None:
    if not isinstance(cls.name, str) or not cls.name:
        raise ConfigurationError(f"workflow {cls.__qualname__} needs a name (a non-empty str)")
    if isinstance(cls.version, bool) or not isinstance(cls.version, int) or cls.version < 1:
        raise ConfigurationError(f"workflow {cls.name!r}: version must be an int >= 1")
    handlers: dict[tuple[str, Any], str] = {}
    timers: dict[str, str] = {}
    for attribute, value in inspect.getmembers(cls):
        for state, message in getattr(value, _MARK, ()):
            if (state, message) in handlers:
                raise ConfigurationError(
                    f"workflow {cls.name!r}: {handlers[(state, message)]} and {attribute} both"
                    f" handle {_describe_selector(message)} in state {state!r}"
                )
            handlers[(state, message)] = attribute
        timer = getattr(value, _TIMER_MARK, None)
        if timer is not None:
            timers[timer] = attribute
    cls._handlers, cls._timer_handlers = handlers, timers
    overrides_handle = cls.handle is not Workflow.handle
    if overrides_handle and handlers:
        raise ConfigurationError(
            f"workflow {cls.name!r} defines both handle() and @on handlers: choose one"
        )
    if not overrides_handle and not handlers:
        raise ConfigurationError(f"workflow {cls.name!r} has no handler: write handle() or @on")
    if handlers:
        _check_state_machine(cls, handlers)


def _check_state_machine(cls: type[Workflow], handlers: dict[tuple[str, Any], str]) -> None:
    if not cls.state_field:
        raise ConfigurationError(
            f"workflow {cls.name!r} uses @on handlers: set state_field (the field of the"
            " state that names the current state)"
        )
    served = {state for state, _ in handlers}
    if cls.states is not None:
        unknown = served - set(cls.states)
        if unknown:
            raise ConfigurationError(
                f"workflow {cls.name!r}: handlers for unknown states {sorted(unknown)}"
            )
        missing = set(cls.states) - set(cls.final) - served
        if missing:
            raise ConfigurationError(
                f"workflow {cls.name!r}: no handler for states {sorted(missing)}"
                " (list them in final if they take no messages)"
            )


def _current_state(cls: type[Workflow], state: Any) -> str:
    field = cls.state_field
    assert field is not None
    value = state.get(field) if isinstance(state, dict) else getattr(state, field, None)
    if not isinstance(value, str):
        raise ConfigurationError(
            f"workflow {cls.name!r}: the state's {field!r} is {value!r}, not a state name"
        )
    return value


def _tag(message: Any) -> Any:
    if isinstance(message, str):
        return message
    if isinstance(message, dict) and isinstance(message.get("type"), str):
        return message["type"]
    return None


def _describe(message: Any) -> str:
    tag = _tag(message)
    return f"message {tag!r}" if tag is not None else f"a {type(message).__name__} message"


def _describe_selector(selector: Any) -> str:
    if selector is _ANY:
        return "any message"
    if isinstance(selector, type):
        return f"{selector.__name__} messages"
    return f"message {selector!r}"
