"""hazelkit's metrics through the OpenTelemetry SDK, on both backends; and the path
without an SDK."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.metrics.export import Histogram, Sum
from telemetry_helpers import Telemetry

import hazelkit
from hazelkit import observe
from hazelkit._observe._metrics import TimedStore
from hazelkit.workflows import Context, Workflow
from timing import eventually

pytestmark = pytest.mark.timeout(120)

KIND, OPERATION = "hazelkit.structure.kind", "hazelkit.operation"
FAMILY, TYPE = "hazelkit.entity.family", "hazelkit.entity.type"


async def test_map_operations_are_timed_in_seconds_per_kind_and_operation(
    url: str, name: str, telemetry: Telemetry
) -> None:
    async with hazelkit.connect(url) as cluster:
        users = cluster.map(name)
        await users.put("a", 1)
        await users.put("b", 2)
        assert await users.get("a") == 1
    metric = telemetry.metrics()["hazelkit.operation.duration"]
    assert metric.unit == "s"
    assert isinstance(metric.data, Histogram)
    puts = telemetry.points(metric.name, {KIND: "map", OPERATION: "put"})
    gets = telemetry.points(metric.name, {KIND: "map", OPERATION: "get"})
    assert [p.count for p in puts] == [2]
    assert [p.count for p in gets] == [1]
    assert 0 < puts[0].sum < 10


async def test_other_structures_report_their_own_kind(
    url: str, name: str, telemetry: Telemetry
) -> None:
    async with hazelkit.connect(url) as cluster:
        await cluster.queue(name).put("job")
        await cluster.atom(name).reset(3)
        await cluster.counter(name).add(2)
    kinds = {point.attributes[KIND] for point in telemetry.points("hazelkit.operation.duration")}
    assert {"queue", "atom", "counter"} <= kinds


async def test_lock_wait_and_hold_are_recorded(url: str, name: str, telemetry: Telemetry) -> None:
    async with hazelkit.connect(url) as cluster:
        lock = cluster.lock(name)
        async with lock:
            pass
        async with hazelkit.connect(url) as other, lock:
            with pytest.raises(hazelkit.OperationTimeoutError):
                await other.lock(name).acquire(timeout=0)  # held by the first Cluster
    waits = telemetry.points("hazelkit.lock.wait.duration")
    assert sum(p.count for p in waits if "error.type" not in p.attributes) == 2
    assert [p.attributes["error.type"] for p in waits if "error.type" in p.attributes] == [
        "OperationTimeoutError"
    ]
    holds = telemetry.points("hazelkit.lock.hold.duration")
    assert sum(p.count for p in holds) == 2
    assert telemetry.metrics()["hazelkit.lock.hold.duration"].unit == "s"


FAILING: set[str] = set()


def flaky(prefix: str) -> type[Workflow]:
    """Adds int messages; raises while its id is in FAILING (so it pauses, then resumes)."""

    class Flaky(Workflow):
        name = f"{prefix}.flaky"
        max_retries = 1
        retry_delay = 0.01

        def initial(self, args: object) -> int:
            return 0

        async def handle(self, ctx: Context, state: int, message: int) -> int:
            if ctx.workflow_id in FAILING:
                raise RuntimeError("not yet")
            return state + message

    return Flaky


async def test_workflow_messages_handlers_retries_and_paused_entities(
    url: str, name: str, telemetry: Telemetry
) -> None:
    Flaky = flaky(name)
    entity = {FAMILY: "workflow", TYPE: Flaky.name}
    ok, stuck = f"{name}-ok", f"{name}-stuck"
    async with hazelkit.connect(url) as cluster:
        await cluster.workflows.host(Flaky, lease=5.0).start()
        await cluster.workflows.start(Flaky, ok)
        await cluster.workflows.start(Flaky, stuck)
        await cluster.workflows.send(ok, 2)
        await cluster.workflows.wait(ok, lambda s: s.state == 2, timeout=30)
        FAILING.add(stuck)
        try:
            await cluster.workflows.send(stuck, 5)
            await cluster.workflows.wait(stuck, "paused", timeout=30)
            # the owner counts it once its commit returns, maybe after this read saw it
            await eventually(lambda: _paused(telemetry, entity) == 1, what="one paused")
            FAILING.discard(stuck)
            await cluster.workflows.resume(stuck)
            await cluster.workflows.wait(stuck, lambda s: s.state == 5, timeout=30)
        finally:
            FAILING.discard(stuck)
        await eventually(lambda: _paused(telemetry, entity) == 0, what="paused count back to 0")
    applied = telemetry.points("hazelkit.entity.messages.applied", entity)
    assert sum(p.value for p in applied) == 2  # one message to each (the second after its resume)
    assert telemetry.metrics()["hazelkit.entity.messages.applied"].unit == "{message}"
    runs = telemetry.points("hazelkit.entity.handler.duration", entity)
    assert sum(p.count for p in runs if p.attributes.get("error.type") == "RuntimeError") == 2
    assert sum(p.count for p in runs if "error.type" not in p.attributes) == 2
    retries = telemetry.points("hazelkit.entity.handler.retries", entity)
    assert sum(p.value for p in retries) == 1  # max_retries=1: one retry, then paused


def _paused(telemetry: Telemetry, entity: dict[str, str]) -> int:
    metric = telemetry.metrics()["hazelkit.entity.paused"]
    assert isinstance(metric.data, Sum)
    assert not metric.data.is_monotonic
    return int(sum(p.value for p in telemetry.points(metric.name, entity)))


async def test_without_an_sdk_nothing_is_recorded_and_everything_works(url: str, name: str) -> None:
    observe.configure()  # the global providers: the API's stand-ins in the tests
    assert not observe.recording()
    async with hazelkit.connect(url) as cluster:
        users = cluster.map(name)
        await users.put("a", 1)
        assert await users.get("a") == 1
        assert not isinstance(users._store, TimedStore)
        async with cluster.lock(name):
            pass


async def test_disabled_instrumentation_records_nothing_even_with_an_sdk(
    url: str, name: str, telemetry: Telemetry
) -> None:
    observe.configure(enabled=False, meter_provider=telemetry.meter_provider)
    assert not observe.recording()
    async with hazelkit.connect(url) as cluster:
        await cluster.map(name).put("a", 1)
    assert "hazelkit.operation.duration" not in telemetry.metrics()
