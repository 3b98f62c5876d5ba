"""Spans around entity message handling, with the sender's trace context carried in the
inbox message.

A sender inside a span stores the span's context with the message (the configured
propagator's fields, W3C ``traceparent`` by default, through
``opentelemetry.propagate.inject``); the owner that applies the message, on whatever
node, starts its ``process`` span as a child of that context, so one trace shows the
send and the handling. Messages without a context (sent outside a span, or by an older
hazelkit) get a root span. What a handler sends is delivered after its commit, in the
handling span's context, so a chain of workflows stays one trace. Nothing is stored and
no span is made without an SDK.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, Final

from hazelkit._observe._metrics import STATE, split_space

__all__ = ["ENTITY_ID", "handling", "outgoing", "resumed"]

#: The span attribute naming the entity whose message is handled.
ENTITY_ID: Final = "hazelkit.entity.id"


def outgoing() -> dict[str, str] | None:
    """The current span's context as propagator fields, or None outside a span (or when
    hazelkit's instrumentation is disabled)."""
    if not STATE.enabled:
        return None
    from opentelemetry import propagate, trace

    if not trace.get_current_span().get_span_context().is_valid:
        return None
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier or None


@contextlib.contextmanager
def handling(space: str, entity_id: str, carrier: dict[str, str] | None) -> Iterator[Any]:
    """A CONSUMER span ``process <space>`` around handling one message, child of the
    sender's context in ``carrier``; yields the span (None when tracing is off)."""
    if not STATE.tracing:
        yield None
        return
    from opentelemetry import propagate, trace

    from hazelkit import __version__

    provider = STATE.tracer_provider or trace.get_tracer_provider()
    tracer = provider.get_tracer("hazelkit", __version__)
    attributes = {**split_space(space), ENTITY_ID: entity_id}
    with tracer.start_as_current_span(
        f"process {space}",
        context=propagate.extract(carrier or {}),
        kind=trace.SpanKind.CONSUMER,
        attributes=attributes,
    ) as span:
        yield span


@contextlib.contextmanager
def resumed(carrier: dict[str, str] | None) -> Iterator[None]:
    """Make the context in ``carrier`` current for the block (what a handler sent is
    delivered after its span ended, and carries that span's context): nothing without
    one."""
    if carrier is None or not STATE.enabled:
        yield
        return
    from opentelemetry import context, propagate

    token = context.attach(propagate.extract(carrier))
    try:
        yield
    finally:
        context.detach(token)
