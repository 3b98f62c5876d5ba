"""A Prometheus endpoint for hazelkit's metrics, for users without an OpenTelemetry
pipeline (``pip install 'hazelkit[prometheus]'``).

hazelkit records through the OpenTelemetry API; :func:`serve_prometheus` gives it an SDK
``MeterProvider`` of its own whose reader is pulled on every scrape, and turns what it
reads into Prometheus families: dots become underscores, a duration in ``s`` gains the
``_seconds`` suffix, a counter ``_total``, an up-down counter is a gauge, and a histogram
keeps its buckets (cumulative, as Prometheus wants them).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from hazelkit._core._exceptions import ConfigurationError
from hazelkit._observe import _metrics

__all__ = ["PrometheusEndpoint", "serve_prometheus"]


@dataclass
class PrometheusEndpoint:
    """A running ``/metrics`` endpoint (from :func:`serve_prometheus`); :meth:`close` it."""

    host: str
    port: int
    _server: Any = field(repr=False)
    _thread: threading.Thread = field(repr=False)
    _provider: Any = field(repr=False)
    _closed: bool = field(default=False, repr=False)

    @property
    def url(self) -> str:
        """Where Prometheus scrapes: ``http://host:port/metrics``."""
        return f"http://{self.host}:{self.port}/metrics"

    def close(self) -> None:
        """Stop serving and stop recording into this endpoint's provider (hazelkit goes
        back to the global provider). Idempotent; returns once the server thread ended,
        or after 5 s."""
        if self._closed:
            return
        self._closed = True
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5.0)
        if _metrics.STATE.meter_provider is self._provider:
            _metrics.configure()
        self._provider.shutdown()

    def __enter__(self) -> PrometheusEndpoint:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def serve_prometheus(port: int = 9464, host: str = "127.0.0.1") -> PrometheusEndpoint:
    """Serve hazelkit's metrics for Prometheus at ``http://host:port/metrics``, in a
    daemon thread, until the returned endpoint is closed.

    ``port`` 0 picks a free port (read it from ``.port``). Listens on loopback unless
    ``host`` says otherwise. hazelkit records into this endpoint's own provider from now
    on (an application's global OpenTelemetry provider, if any, stops receiving
    hazelkit's metrics until :meth:`PrometheusEndpoint.close`). Raises
    ConfigurationError when the ``prometheus`` extra is not installed, OSError when the
    port cannot be bound.
    """
    try:
        import prometheus_client
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    except ImportError as missing:
        raise ConfigurationError(
            "serve_prometheus needs prometheus-client and opentelemetry-sdk:"
            " pip install 'hazelkit[prometheus]'"
        ) from missing
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    registry = prometheus_client.CollectorRegistry(auto_describe=False)
    registry.register(_Collector(reader))
    server, thread = prometheus_client.start_http_server(port, addr=host, registry=registry)
    _metrics.configure(meter_provider=provider, tracer_provider=_metrics.STATE.tracer_provider)
    return PrometheusEndpoint(host, server.server_port, server, thread, provider)


class _Collector:
    """Reads the SDK on each scrape and yields Prometheus metric families."""

    def __init__(self, reader: Any) -> None:
        self._reader = reader

    def collect(self) -> Iterator[Any]:
        data = self._reader.get_metrics_data()
        if data is None:
            return
        for resource in data.resource_metrics:
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    yield from _families(metric)


def _families(metric: Any) -> Iterator[Any]:
    from opentelemetry.sdk.metrics.export import Gauge, Histogram, Sum
    from prometheus_client.core import (
        CounterMetricFamily,
        GaugeMetricFamily,
        HistogramMetricFamily,
    )

    name = metric.name.replace(".", "_") + ("_seconds" if metric.unit == "s" else "")
    points = list(metric.data.data_points)
    labels = sorted({key for point in points for key in point.attributes})
    kind: Any
    if isinstance(metric.data, Histogram):
        kind = HistogramMetricFamily
    elif isinstance(metric.data, Sum) and metric.data.is_monotonic:
        kind = CounterMetricFamily
    elif isinstance(metric.data, Sum | Gauge):
        kind = GaugeMetricFamily
    else:
        return
    family = kind(name, metric.description, labels=[_label(key) for key in labels])
    for point in points:
        values = [str(point.attributes.get(key, "")) for key in labels]
        if kind is HistogramMetricFamily:
            family.add_metric(values, _buckets(point), point.sum)
        else:
            family.add_metric(values, point.value)
    yield family


def _label(key: str) -> str:
    return key.replace(".", "_")


def _buckets(point: Any) -> list[tuple[str, float]]:
    """OpenTelemetry's per-bucket counts as Prometheus's cumulative ``le`` buckets."""
    buckets, total = [], 0
    for bound, count in zip(point.explicit_bounds, point.bucket_counts, strict=False):
        total += count
        buckets.append((repr(float(bound)), float(total)))
    buckets.append(("+Inf", float(point.count)))
    return buckets
