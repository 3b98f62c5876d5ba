"""What the observation tests read hazelkit's metrics and spans with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter


@dataclass
class Telemetry:
    """What hazelkit recorded during one test."""

    reader: InMemoryMetricReader
    spans: InMemorySpanExporter
    meter_provider: MeterProvider
    tracer_provider: TracerProvider

    def metrics(self) -> dict[str, Any]:
        """Every metric collected now, by name."""
        data = self.reader.get_metrics_data()
        found: dict[str, Any] = {}
        if data is None:
            return found
        for resource in data.resource_metrics:
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    found[metric.name] = metric
        return found

    def points(self, name: str, attributes: dict[str, str] | None = None) -> list[Any]:
        """The data points of metric ``name`` whose attributes include ``attributes``."""
        attributes = attributes or {}
        metric = self.metrics().get(name)
        if metric is None:
            return []
        return [
            point
            for point in metric.data.data_points
            if all(point.attributes.get(key) == value for key, value in attributes.items())
        ]
