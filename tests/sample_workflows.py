"""A workflow definition for the observation and dashboard tests, under a name no other
test uses."""

from __future__ import annotations

from typing import Any

from hazelkit.workflows import Context, Workflow


def tally(prefix: str, *, kind: str = "tally", retries: int = 1) -> type[Workflow]:
    """``{prefix}.{kind}``: adds int messages to its state; "done" completes it; "boom"
    fails (pauses it after ``retries`` retries); ``{"timer": name, "after": s}`` sets a
    timer."""

    class Tally(Workflow):
        name = f"{prefix}.{kind}"
        max_retries = retries
        retry_delay = 0.01

        def initial(self, args: Any) -> Any:
            return args or 0

        async def handle(self, ctx: Context, state: Any, message: Any) -> Any:
            if message == "done":
                ctx.complete(state)
                return state
            if message == "boom":
                raise RuntimeError("boom")
            if isinstance(message, dict) and "timer" in message:
                ctx.set_timer(message["timer"], after=message["after"])
                return state
            return state + message

    return Tally
