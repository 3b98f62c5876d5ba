"""Metrics and traces of a running hazelkit application, through OpenTelemetry.

hazelkit records its metrics (see :data:`METRICS`) and spans through the OpenTelemetry
API, which does nothing until the application installs an SDK. Install one before
connecting (``opentelemetry.metrics.set_meter_provider(...)``), or hand hazelkit
providers of its own with :func:`configure`; without either, the instrumentation costs
one attribute check per operation. Users without an OpenTelemetry pipeline can serve
the metrics for Prometheus with :func:`serve_prometheus` (``hazelkit[prometheus]``).

Workflow and agent messages sent inside a span carry its context (W3C ``traceparent``
by default) to the node that applies them, whose ``process <family>:<type>`` span
continues the sender's trace.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hazelkit._observe import _metrics
from hazelkit._observe._metrics import METRICS, MetricInfo
from hazelkit._observe._prometheus import PrometheusEndpoint, serve_prometheus

if TYPE_CHECKING:
    from opentelemetry.metrics import MeterProvider
    from opentelemetry.trace import TracerProvider

__all__ = [
    "METRICS",
    "MetricInfo",
    "PrometheusEndpoint",
    "configure",
    "recording",
    "serve_prometheus",
]


def configure(
    *,
    enabled: bool = True,
    meter_provider: MeterProvider | None = None,
    tracer_provider: TracerProvider | None = None,
) -> None:
    """Choose where hazelkit's metrics and spans go, for the whole process.

    ``meter_provider`` / ``tracer_provider``: the providers to use (None: the global
    ones, looked up now and again whenever a Cluster connects). ``enabled=False`` turns
    hazelkit's instrumentation off altogether: no metrics, no spans, no trace context
    stored with messages. Takes effect at once for every open Cluster; instruments are
    created again, on first use, from the provider now configured.
    """
    _metrics.configure(
        enabled=enabled, meter_provider=meter_provider, tracer_provider=tracer_provider
    )


def recording() -> bool:
    """Whether hazelkit records metrics now: instrumentation is enabled and an SDK
    provider is configured or installed globally (looked for again by this call, as
    connecting a Cluster does)."""
    return _metrics.refresh()


from hazelkit._core._public import publish as _publish  # noqa: E402

_publish(__name__, globals(), __all__)
