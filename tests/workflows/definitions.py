"""Workflow definitions for the tests, each made under a name no other test uses (the
Hazelcast cluster is shared by the whole session, and so are its spaces)."""

from __future__ import annotations

import asyncio
from typing import Any

from hazelkit.workflows import Context, Workflow, on, on_timer


def counter(prefix: str, **options: Any) -> type[Workflow]:
    """Adds each int message to ``total`` and records it in ``seen``; "done" completes
    with the total; "boom" raises (a poison message); {"send": id, "value": v} sends v;
    {"sleep": s} takes s seconds (what is sent meanwhile waits in the mailbox)."""

    class Counter(Workflow):
        name = f"{prefix}.counter"
        max_retries = options.get("max_retries", 1)
        retry_delay = 0.01

        def initial(self, args: Any) -> Any:
            return {"total": args or 0, "seen": []}

        async def handle(self, ctx: Context, state: Any, message: Any) -> Any:
            if message == "done":
                ctx.complete(state["total"])
                return state
            if message == "boom":
                raise RuntimeError("boom")
            if isinstance(message, dict) and "send" in message:
                ctx.send(message["send"], message["value"])
                return state
            if isinstance(message, dict) and "publish" in message:
                ctx.publish(message["publish"], message["value"])
                return state
            if isinstance(message, dict) and "sleep" in message:
                await asyncio.sleep(message["sleep"])
                return state
            if isinstance(message, dict) and "timer" in message:
                ctx.set_timer(message["timer"], after=message["after"])
                return state
            return {"total": state["total"] + message, "seen": [*state["seen"], message]}

        async def on_timer(self, ctx: Context, state: Any, name: str) -> Any:
            return {**state, "fired": [*state.get("fired", []), name]}

    return Counter


def order(prefix: str) -> type[Workflow]:
    """A state machine: new -(pay)-> paid -(ship)-> shipped (final); a reminder timer."""

    class Order(Workflow):
        name = f"{prefix}.order"
        state_field = "status"
        states = frozenset({"new", "paid", "shipped"})
        final = frozenset({"shipped"})

        def initial(self, args: Any) -> Any:
            return {"status": "new", "amount": args}

        @on("new", "pay")
        async def pay(self, ctx: Context, state: Any, message: Any) -> Any:
            ctx.set_timer("remind", after=0.3)
            return {**state, "status": "paid"}

        @on("paid", "ship")
        async def ship(self, ctx: Context, state: Any, message: Any) -> Any:
            ctx.cancel_timer("remind")
            ctx.complete(state["amount"])
            return {**state, "status": "shipped"}

        @on("paid")
        async def anything_else(self, ctx: Context, state: Any, message: Any) -> Any:
            return {**state, "ignored": state.get("ignored", 0) + 1}

        @on_timer("remind")
        async def remind(self, ctx: Context, state: Any) -> Any:
            return {**state, "reminded": True}

    return Order


def listener(prefix: str, *, tolerate_loss: bool = False) -> type[Workflow]:
    """Subscribes to topics on request and records every topic message it applies."""

    class Listener(Workflow):
        name = f"{prefix}.listener"
        max_retries = 0

        def initial(self, args: Any) -> Any:
            return {"got": [], "lost": []}

        async def handle(self, ctx: Context, state: Any, message: Any) -> Any:
            if ctx.topic is not None:
                if message == "poison":
                    raise RuntimeError("poison")
                return {**state, "got": [*state["got"], message]}
            if "subscribe" in message:
                ctx.subscribe(message["subscribe"], start=message.get("start", "latest"))
            elif "unsubscribe" in message:
                ctx.unsubscribe(message["unsubscribe"])
            return state

        async def on_loss(self, ctx: Context, state: Any, topic: str, first: int, last: int) -> Any:
            if not tolerate_loss:
                return await super().on_loss(ctx, state, topic, first, last)
            return {**state, "lost": [*state["lost"], [first, last]]}

    return Listener
