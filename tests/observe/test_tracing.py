"""Spans around workflow message handling, continuing the sender's trace across nodes;
the trace context stored with inbox messages, and records written without one."""

from __future__ import annotations

from typing import Any

import msgpack
import pytest
from opentelemetry.trace import SpanKind
from telemetry_helpers import Telemetry

import hazelkit
from hazelkit._runtime._inbox import InboxMessage, pack, unpack
from hazelkit.workflows import Context, Workflow
from sample_workflows import tally
from timing import eventually

pytestmark = pytest.mark.timeout(120)


async def test_a_message_sent_in_a_span_is_handled_in_a_child_span_on_the_owner(
    url: str, name: str, telemetry: Telemetry
) -> None:
    Adder = tally(name)
    tracer = telemetry.tracer_provider.get_tracer("test")
    async with hazelkit.connect(url) as owner, hazelkit.connect(url) as sender:
        await owner.workflows.host(Adder, lease=5.0).start()
        await sender.workflows.start(Adder, f"{name}-w")
        with tracer.start_as_current_span("checkout") as parent:
            await sender.workflows.send(f"{name}-w", 3)
        await sender.workflows.wait(f"{name}-w", lambda s: s.state == 3, timeout=30)

        def handled() -> list:  # type: ignore[type-arg]
            return [s for s in telemetry.spans.get_finished_spans() if s.name.startswith("process")]

        await eventually(lambda: len(handled()) == 1, what="one handling span")
    span = handled()[0]
    assert span.name == f"process workflow:{Adder.name}"
    assert span.kind is SpanKind.CONSUMER
    assert span.context.trace_id == parent.get_span_context().trace_id
    assert span.parent is not None
    assert span.parent.span_id == parent.get_span_context().span_id
    assert span.attributes["hazelkit.entity.id"] == f"{name}-w"


async def test_a_message_sent_outside_a_span_gets_a_root_span(
    url: str, name: str, telemetry: Telemetry
) -> None:
    Adder = tally(name)
    async with hazelkit.connect(url) as cluster:
        await cluster.workflows.host(Adder, lease=5.0).start()
        await cluster.workflows.start(Adder, f"{name}-w")
        await cluster.workflows.send(f"{name}-w", 1)
        await cluster.workflows.wait(f"{name}-w", lambda s: s.state == 1, timeout=30)
        await eventually(lambda: len(telemetry.spans.get_finished_spans()) == 1)
    (span,) = telemetry.spans.get_finished_spans()
    assert span.parent is None


def relay(prefix: str) -> type[Workflow]:
    """Forwards each message {"to": id, "value": v} to workflow ``id`` (a tally)."""

    class Relay(Workflow):
        name = f"{prefix}.relay"

        def initial(self, args: object) -> int:
            return 0

        async def handle(self, ctx: Context, state: int, message: dict[str, Any]) -> int:
            ctx.send(message["to"], message["value"])
            return state + 1

    return Relay


async def test_what_a_handler_sends_continues_the_trace_of_its_message(
    url: str, name: str, telemetry: Telemetry
) -> None:
    Relay, Tally = relay(name), tally(name)
    tracer = telemetry.tracer_provider.get_tracer("test")
    first, second = f"{name}-relay", f"{name}-tally"
    async with hazelkit.connect(url) as cluster:
        await cluster.workflows.host(Relay, lease=5.0).start()
        await cluster.workflows.host(Tally, lease=5.0).start()
        await cluster.workflows.start(Relay, first)
        await cluster.workflows.start(Tally, second)
        with tracer.start_as_current_span("origin") as origin:
            await cluster.workflows.send(first, {"to": second, "value": 4})
        await cluster.workflows.wait(second, lambda s: s.state == 4, timeout=30)

        def spans() -> dict[str, Any]:
            found = telemetry.spans.get_finished_spans()
            return {s.name: s for s in found if s.name.startswith("process")}

        await eventually(lambda: len(spans()) == 2, what="a span on each workflow")
    relayed, tallied = (
        spans()[f"process workflow:{Relay.name}"],
        spans()[f"process workflow:{Tally.name}"],
    )
    assert relayed.context.trace_id == tallied.context.trace_id
    assert relayed.context.trace_id == origin.get_span_context().trace_id
    assert tallied.parent is not None
    assert tallied.parent.span_id == relayed.context.span_id


def test_a_message_keeps_its_trace_context_and_old_records_still_decode() -> None:
    carrier = {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}
    message = InboxMessage("w", "k", "msg", b"\x01", carrier)
    assert unpack(pack(message)) == message
    old = msgpack.packb([1, "w", "k", "msg", b"\x01"])  # as hazelkit wrote before traces
    assert unpack(old) == InboxMessage("w", "k", "msg", b"\x01", None)
    assert pack(InboxMessage("w", "k", "msg", b"\x01")) == old  # no span: nothing added


def test_a_malformed_trace_context_is_ignored_not_the_message() -> None:
    bad = msgpack.packb([1, "w", "k", "msg", b"\x01", {"traceparent": 7}])
    assert unpack(bad) == InboxMessage("w", "k", "msg", b"\x01", None)
    assert unpack(msgpack.packb([1, "w", "k", "msg", b"\x01", {}, "extra"])) is None


@hazelkit.action("hazelkit-tests.observe.add")
def add(total: int, amount: int) -> int:
    return total + amount


async def test_an_agent_action_sent_in_a_span_is_applied_in_its_trace(
    url: str, name: str, telemetry: Telemetry
) -> None:
    tracer = telemetry.tracer_provider.get_tracer("test")
    async with hazelkit.connect(url) as cluster, cluster.agents.host():
        agent = cluster.agent(f"{name}-stock", initial=0)
        with tracer.start_as_current_span("restock") as parent:
            await agent.send(add, 2)
        await agent.await_(timeout=30)
        assert await agent.deref() == 2

        def applied() -> list:  # type: ignore[type-arg]
            return [s for s in telemetry.spans.get_finished_spans() if s.name.startswith("process")]

        await eventually(lambda: len(applied()) == 1, what="one span for the action")
    (span,) = applied()
    assert span.name.startswith("process agent:")
    assert span.context.trace_id == parent.get_span_context().trace_id
