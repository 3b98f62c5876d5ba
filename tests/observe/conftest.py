"""An OpenTelemetry SDK for the observation tests: in-memory readers handed to hazelkit
with ``hazelkit.observe.configure`` (the process's global providers are never set, so
other tests keep running without an SDK)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from telemetry_helpers import Telemetry

from hazelkit import observe


@pytest.fixture
def telemetry() -> Iterator[Telemetry]:
    """hazelkit records into in-memory readers for the test; back to no SDK after it."""
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    spans = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    observe.configure(meter_provider=meter_provider, tracer_provider=tracer_provider)
    try:
        yield Telemetry(reader, spans, meter_provider, tracer_provider)
    finally:
        observe.configure()
        meter_provider.shutdown()
        tracer_provider.shutdown()
