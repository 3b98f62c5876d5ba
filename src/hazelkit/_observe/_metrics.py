"""hazelkit's metrics, recorded through the OpenTelemetry API.

The API records nothing until the application installs an SDK (a ``MeterProvider``), so
hazelkit asks once, when a Cluster connects (and when :func:`configure` is called),
whether one is installed, and keeps the answer in :data:`STATE`. Every hot path reads
one attribute (``STATE.live``) and does nothing else when it is False: without an SDK,
instrumentation costs one attribute load per operation.

Instruments are created once per process, on first use, from
``get_meter("hazelkit", version)`` of the configured provider (the global one unless
:func:`configure` names another). Names, units and attributes follow OpenTelemetry's
semantic conventions: durations are histograms in seconds, counts use a ``{unit}``
annotation, a failure adds ``error.type``. The full list is in :data:`METRICS`.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from opentelemetry.metrics import CallbackOptions, Meter, MeterProvider, Observation
    from opentelemetry.trace import TracerProvider

__all__ = [
    "METRICS",
    "STATE",
    "Instruments",
    "MetricInfo",
    "configure",
    "instruments",
    "refresh",
    "split_space",
    "watch_paused",
]

METER_NAME: Final = "hazelkit"

#: Attribute names (OpenTelemetry's ``error.type`` for failures, ``hazelkit.*`` for the rest).
KIND: Final = "hazelkit.structure.kind"
OPERATION: Final = "hazelkit.operation"
FAMILY: Final = "hazelkit.entity.family"
TYPE: Final = "hazelkit.entity.type"
HANDLER: Final = "hazelkit.entity.handler"
TAKEOVER: Final = "hazelkit.partition.takeover"
ERROR_TYPE: Final = "error.type"

#: Histogram buckets for durations in seconds: 100 µs (an embedded call) to a minute (an
#: ownerless partition), as OpenTelemetry advises for ``s`` histograms.
SECONDS_BUCKETS: Final = (
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
    0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
)  # fmt: skip


@dataclass(frozen=True)
class MetricInfo:
    """One metric hazelkit records: its name, instrument, unit, attributes and meaning."""

    name: str
    instrument: str
    unit: str
    attributes: tuple[str, ...]
    description: str


_ENTITY = (FAMILY, TYPE)

#: Every metric hazelkit records (the README lists the same).
METRICS: Final = (
    MetricInfo(
        "hazelkit.operation.duration", "histogram", "s", (KIND, OPERATION, ERROR_TYPE),
        "Duration of one call of a data structure on the grid (a round trip on Hazelcast).",
    ),
    MetricInfo(
        "hazelkit.lock.wait.duration", "histogram", "s", (ERROR_TYPE,),
        "Time a Lock.acquire waited, until granted or given up.",
    ),
    MetricInfo(
        "hazelkit.lock.hold.duration", "histogram", "s", (),
        "Time a Lock was held, from grant to release.",
    ),
    MetricInfo(
        "hazelkit.entity.messages.applied", "counter", "{message}", (*_ENTITY, HANDLER),
        "Messages a workflow or agent handler applied and committed.",
    ),
    MetricInfo(
        "hazelkit.entity.handler.duration", "histogram", "s", (*_ENTITY, HANDLER, ERROR_TYPE),
        "Duration of one run of an entity's handler (message, timer or topic message).",
    ),
    MetricInfo(
        "hazelkit.entity.handler.retries", "counter", "{retry}", (*_ENTITY, HANDLER),
        "Handler runs that raised and are retried after a backoff.",
    ),
    MetricInfo(
        "hazelkit.entity.paused", "observable up-down counter", "{entity}", _ENTITY,
        "Entities currently paused, as known to the node owning their partition.",
    ),
    MetricInfo(
        "hazelkit.partition.failovers", "counter", "{failover}", _ENTITY,
        "Partition leases this node took from an owner that stopped renewing.",
    ),
    MetricInfo(
        "hazelkit.entity.ownerless.duration", "histogram", "s", (*_ENTITY, TAKEOVER),
        "Per entity with waiting messages: time from its partition's lease last seen held"
        " by the previous owner until its new owner starts applying it.",
    ),
)  # fmt: skip


class _State:
    """Process-wide switches; ``live`` is what hot paths read."""

    __slots__ = ("enabled", "live", "meter_provider", "tracer_provider", "tracing")

    def __init__(self) -> None:
        self.enabled = True
        self.live = False
        self.tracing = False
        self.meter_provider: MeterProvider | None = None
        self.tracer_provider: TracerProvider | None = None


#: The switches every instrumented path reads.
STATE: Final = _State()
_lock = threading.Lock()
_instruments: Instruments | None = None
#: The instruments made on the last explicitly configured providers.
_made: list[tuple[MeterProvider, Instruments]] = []


def configure(
    *,
    enabled: bool = True,
    meter_provider: MeterProvider | None = None,
    tracer_provider: TracerProvider | None = None,
) -> None:
    """Choose where hazelkit's metrics and spans go (see :func:`hazelkit.observe.configure`)."""
    global _instruments
    with _lock:
        STATE.enabled = enabled
        STATE.meter_provider = meter_provider
        STATE.tracer_provider = tracer_provider
        # Instruments of a provider used before are kept: an SDK warns when the same
        # instrument is created twice.
        _instruments = None
        for provider, made in _made:
            if provider is meter_provider:
                _instruments = made
    refresh()


def refresh() -> bool:
    """Look again for an SDK; whether metrics are recorded now."""
    from opentelemetry import metrics, trace

    provider = STATE.meter_provider or metrics.get_meter_provider()
    tracer = STATE.tracer_provider or trace.get_tracer_provider()
    STATE.live = STATE.enabled and not _is_noop(provider)
    STATE.tracing = STATE.enabled and not _is_noop(tracer)
    return STATE.live


def _is_noop(provider: object) -> bool:
    # The API's stand-ins when no SDK is installed: a proxy waiting for one, or a no-op.
    return type(provider).__name__ in {
        "_ProxyMeterProvider",
        "NoOpMeterProvider",
        "ProxyTracerProvider",
        "NoOpTracerProvider",
    }


def instruments() -> Instruments:
    """The instruments, created on first use from the configured provider."""
    global _instruments
    made = _instruments
    if made is None:
        with _lock:
            if _instruments is None:
                _instruments = Instruments(_meter())
                if STATE.meter_provider is not None:
                    _made[:] = [*_made[-7:], (STATE.meter_provider, _instruments)]
            made = _instruments
    return made


def _meter() -> Meter:
    from opentelemetry import metrics

    from hazelkit import __version__

    provider = STATE.meter_provider or metrics.get_meter_provider()
    return provider.get_meter(METER_NAME, __version__)


class Instruments:
    """hazelkit's instruments on one meter (see :data:`METRICS` for their meaning)."""

    def __init__(self, meter: Meter) -> None:
        info = {metric.name: metric for metric in METRICS}

        def histogram(name: str) -> Any:
            return meter.create_histogram(
                name,
                info[name].unit,
                info[name].description,
                explicit_bucket_boundaries_advisory=SECONDS_BUCKETS,
            )

        def counter(name: str) -> Any:
            return meter.create_counter(name, info[name].unit, info[name].description)

        self.operation = histogram("hazelkit.operation.duration")
        self.lock_wait = histogram("hazelkit.lock.wait.duration")
        self.lock_hold = histogram("hazelkit.lock.hold.duration")
        self.applied = counter("hazelkit.entity.messages.applied")
        self.handler = histogram("hazelkit.entity.handler.duration")
        self.retries = counter("hazelkit.entity.handler.retries")
        self.failovers = counter("hazelkit.partition.failovers")
        self.ownerless = histogram("hazelkit.entity.ownerless.duration")
        paused = info["hazelkit.entity.paused"]
        meter.create_observable_up_down_counter(
            paused.name, [_observe_paused], paused.unit, paused.description
        )


# -- structures -------------------------------------------------------------------------


class TimedStore:
    """A backend store whose coroutine methods record ``hazelkit.operation.duration``.

    Handles hand it out instead of the store only while metrics are live; its wrapped
    methods are made on first use and kept.
    """

    def __init__(self, store: object, kind: str) -> None:
        self._inner = store
        self._kind = kind.replace(" ", "_")

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._inner, name)
        if callable(value) and _is_coroutine_function(value):
            value = _timed(value, self._kind, name)
            setattr(self, name, value)
        return value


def _is_coroutine_function(value: object) -> bool:
    import inspect

    return inspect.iscoroutinefunction(value)


def _timed(method: Callable[..., Any], kind: str, operation: str) -> Callable[..., Any]:
    attributes = {KIND: kind, OPERATION: operation}

    async def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            result = await method(*args, **kwargs)
        except BaseException as error:
            failed = {**attributes, ERROR_TYPE: type(error).__qualname__}
            instruments().operation.record(time.perf_counter() - started, failed)
            raise
        instruments().operation.record(time.perf_counter() - started, attributes)
        return result

    return timed


# -- locks ------------------------------------------------------------------------------


def lock_waited(started: float, error: BaseException | None) -> None:
    """Record a Lock.acquire that began at ``started`` (``perf_counter``) and ended now."""
    if STATE.live:
        attributes = {} if error is None else {ERROR_TYPE: type(error).__qualname__}
        instruments().lock_wait.record(time.perf_counter() - started, attributes)


def lock_held(granted_at: float) -> None:
    """Record the release of a Lock granted at ``granted_at`` (``monotonic``)."""
    if STATE.live:
        instruments().lock_hold.record(time.monotonic() - granted_at)


# -- entities ---------------------------------------------------------------------------


def applied(attributes: dict[str, str]) -> None:
    """Count one message applied by a handler (``attributes``: family, type, handler)."""
    if STATE.live:
        instruments().applied.add(1, attributes)


def handler_ran(attributes: dict[str, str], started: float, error: BaseException | None) -> None:
    """Record one handler run that began at ``started`` (``perf_counter``)."""
    if STATE.live:
        if error is not None:
            attributes = {**attributes, ERROR_TYPE: type(error).__qualname__}
        instruments().handler.record(time.perf_counter() - started, attributes)


def retried(attributes: dict[str, str]) -> None:
    """Count a handler run that raised and will be retried."""
    if STATE.live:
        instruments().retries.add(1, attributes)


def failed_over(space: str) -> None:
    """Count a partition lease of ``space`` taken from an owner that stopped renewing."""
    if STATE.live:
        instruments().failovers.add(1, split_space(space))


def ownerless(space: str, takeover: str, seconds: float) -> None:
    """Record how long one entity of ``space`` had no owner (``takeover``: how the new
    owner got its partition, ``failover`` or ``handoff``)."""
    if STATE.live:
        instruments().ownerless.record(seconds, {**split_space(space), TAKEOVER: takeover})


def split_space(space: str) -> dict[str, str]:
    """The entity attributes of a runtime space (``"workflow:Order"``)."""
    family, _, type_name = space.partition(":")
    return {FAMILY: family, TYPE: type_name}


_paused_sources: dict[int, tuple[weakref.ref[Any], tuple[str, str]]] = {}
_paused_keys: set[tuple[str, str]] = set()


def watch_paused(source: Any, space: str) -> None:
    """Count ``source.paused`` in ``hazelkit.entity.paused`` while ``source.stopped`` is
    False (a partition worker: its entities paused, as this node knows them)."""
    attributes = split_space(space)
    key = (attributes[FAMILY], attributes[TYPE])
    with _lock:
        _paused_sources[id(source)] = (weakref.ref(source), key)
        _paused_keys.add(key)


def _observe_paused(options: CallbackOptions) -> Iterable[Observation]:
    from opentelemetry.metrics import Observation

    return [
        Observation(count, {FAMILY: family, TYPE: type_name})
        for (family, type_name), count in _paused_counts()
    ]


def _paused_counts() -> Iterator[tuple[tuple[str, str], int]]:
    """Paused entities per (family, type); types seen before report 0, not nothing."""
    with _lock:
        sources = list(_paused_sources.items())
        keys = set(_paused_keys)
    found: dict[tuple[str, str], set[str]] = {key: set() for key in keys}
    for source_id, (ref, key) in sources:
        source = ref()
        if source is None or source.stopped:
            with _lock:
                _paused_sources.pop(source_id, None)
            continue
        found[key] |= set(source.paused)
    for key, paused in found.items():
        yield key, len(paused)
