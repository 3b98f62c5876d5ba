"""How the runtime applies an agent's actions (the agent kind's behavior).

An agent's state is ``{"v": value, "o": options}``: the value its actions see, and the
options fixed when it was created (error mode, error handler, validator, by name). An
action ``fn(value, *args)`` (plain or async) returns the new value; the validator, if
any, must accept it. An action that fails (raises, returns a value the validator
rejects, or is not registered on this node):

- ``error_mode="fail"``: is not retried; the agent pauses with that action and every
  later one kept, in order, until ``restart``;
- ``error_mode="continue"``: the error handler (if any) is called with the agent's name
  and the error, the value stays as it was, the error is shown as the agent's last error,
  and the next action runs.

While an action runs, what it sends to other agents is held in the outbox and delivered
after its commit (Clojure's rule: sends from an action happen only if it succeeds).
"""

from __future__ import annotations

import contextvars
import inspect
import logging
from typing import Any

from hazelkit._agents._actions import find_action
from hazelkit._core._exceptions import MessageLossError, ValidationError
from hazelkit._runtime._behavior import Effects

__all__ = ["AGENT_TYPE", "AgentBehavior", "current_effects"]

logger = logging.getLogger("hazelkit")

AGENT_TYPE = "agent"

#: The effects of the action running in this task, so that ``Agent.send`` inside it is
#: held until the action commits.
current_effects: contextvars.ContextVar[Effects | None] = contextvars.ContextVar(
    "hazelkit_agent_effects", default=None
)


class AgentBehavior:
    """The runtime behavior of every agent."""

    type_name = AGENT_TYPE
    version = 1
    max_retries = 0
    retry_delay = 0.0
    history_limit = 20
    #: Watches see every action's change (Clojure's rule): a grouped write carries the
    #: value after each of its actions, and the watcher replays them.
    record_steps = True

    def make_effects(self, effects: Effects) -> Effects:
        return effects

    def initial(self, args: Any) -> Any:
        return {"v": args["initial"], "o": args["options"]}

    def migrate(self, from_version: int, state: Any) -> Any:
        return state

    def restarted(self, state: Any, new: Any) -> Any:
        _validate(state["o"], new)
        return {"v": new, "o": state["o"]}

    async def on_message(self, context: Effects, state: Any, message: Any) -> Any:
        options = state["o"]
        token = current_effects.set(context)
        try:
            value = await _apply(message["action"], state["v"], message["args"])
            _validate(options, value)
        except Exception as error:
            if options.get("error_mode") != "continue":
                raise
            context.error = f"action {message['action']!r} failed: {error!r}"
            await _handle_error(options.get("error_handler"), context.entity_id, error)
            return state
        finally:
            current_effects.reset(token)
        return {"v": value, "o": options}

    async def on_timer(self, context: Effects, state: Any, name: str) -> Any:
        return state  # agents set no timers

    async def on_loss(self, context: Effects, state: Any, topic: str, first: int, last: int) -> Any:
        raise MessageLossError(
            f"messages {first}..{last} of {topic!r} were lost",
            lost=last - first + 1,
            next_sequence=last + 1,
        )  # agents subscribe to no topics


async def _apply(name: str, value: Any, args: list[Any]) -> Any:
    result = find_action(name)(value, *args)
    if inspect.isawaitable(result):
        result = await result
    return result


def _validate(options: dict[str, Any], value: Any) -> None:
    name = options.get("validator")
    if name is None:
        return
    if not find_action(name)(value):
        raise ValidationError(f"validator {name!r} rejected {value!r}")


async def _handle_error(name: str | None, agent: str, error: Exception) -> None:
    if name is None:
        return
    try:
        result = find_action(name)(agent, error)
        if inspect.isawaitable(result):
            await result
    except Exception:
        logger.exception("the error handler %r of agent %r failed", name, agent)
