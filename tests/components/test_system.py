"""The System's dependency graph: order, concurrency, injection, rollback, stop errors,
timeouts, shapes of components, health (no cluster needed)."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable
from typing import Any

import pytest

import hazelkit
from hazelkit.components import (
    ComponentState,
    Lifecycle,
    System,
    default_lifecycle,
    run,
    using,
)

pytestmark = pytest.mark.timeout(30)


class Part:
    """A component with async start/stop that logs them, optionally failing or waiting."""

    def __init__(
        self,
        name: str,
        log: list[str],
        *,
        fail_start: bool = False,
        fail_stop: bool = False,
        start_wait: Callable[[], Any] | None = None,
    ) -> None:
        self.name = name
        self.log = log
        self.fail_start = fail_start
        self.fail_stop = fail_stop
        self.start_wait = start_wait

    async def start(self) -> None:
        self.log.append(f"start {self.name}")
        if self.start_wait is not None:
            await self.start_wait()
        if self.fail_start:
            raise ValueError(f"{self.name} cannot start")

    async def stop(self) -> None:
        self.log.append(f"stop {self.name}")
        if self.fail_stop:
            raise OSError(f"{self.name} cannot stop")


class Resource:
    """An async context manager whose entered value is not itself."""

    def __init__(self, log: list[str]) -> None:
        self.log = log

    async def __aenter__(self) -> str:
        self.log.append("enter")
        return "connection"

    async def __aexit__(self, *exc_info: object) -> None:
        self.log.append("exit")


async def test_components_start_in_dependency_order_and_stop_in_reverse() -> None:
    log: list[str] = []
    system = System(
        {
            "api": using(Part("api", log), "repo"),
            "repo": using(Part("repo", log), "db"),
            "db": Part("db", log),
        }
    )
    assert system.names == ["db", "repo", "api"]
    async with system:
        assert log == ["start db", "start repo", "start api"]
        assert set(system.states.values()) == {ComponentState.RUNNING}
    assert log[3:] == ["stop api", "stop repo", "stop db"]
    assert set(system.states.values()) == {ComponentState.STOPPED}


async def test_independent_components_start_concurrently() -> None:
    log: list[str] = []
    a_began, b_began = asyncio.Event(), asyncio.Event()

    async def a_waits_for_b() -> None:
        a_began.set()
        await b_began.wait()  # would never end if b started only after a

    async def b_waits_for_a() -> None:
        b_began.set()
        await a_began.wait()

    system = System(
        {
            "a": Part("a", log, start_wait=a_waits_for_b),
            "b": Part("b", log, start_wait=b_waits_for_a),
            "c": using(Part("c", log), "a", "b"),
        },
        start_timeout=5,
    )
    async with system:
        assert log[-1] == "start c"


async def test_dependencies_are_set_as_attributes_before_start() -> None:
    seen: dict[str, Any] = {}

    class Api:
        async def start(self) -> None:
            seen["db"], seen["store"] = self.db, self.store  # type: ignore[attr-defined]

    db = Part("db", [])
    system = System({"db": db, "res": Resource([]), "api": using(Api(), "db", store="res")})
    async with system:
        assert seen == {"db": db, "store": "connection"}  # a context manager's entered value
        assert system["res"] == "connection"
        assert system["db"] is db


def test_a_missing_dependency_is_an_error_when_the_system_is_built() -> None:
    with pytest.raises(hazelkit.ConfigurationError, match=r"'api' depends on 'db'.*not in"):
        System({"api": using(object(), "db")})


@pytest.mark.parametrize(
    ("components", "path"),
    [
        ({"a": using(1, "b"), "b": using(2, "c"), "c": using(3, "a")}, "a -> b -> c -> a"),
        ({"x": 0, "self": using(1, "self")}, "self -> self"),
    ],
)
def test_a_cycle_is_an_error_naming_its_path_when_the_system_is_built(
    components: dict[str, Any], path: str
) -> None:
    with pytest.raises(hazelkit.ConfigurationError, match=f"cycle: {path}$"):
        System(components)


async def test_a_failed_start_stops_what_started_in_reverse_and_names_the_component() -> None:
    log: list[str] = []
    system = System(
        {
            "db": Part("db", log),
            "cache": using(Part("cache", log), "db"),
            "api": using(Part("api", log, fail_start=True), "cache"),
            "web": using(Part("web", log), "api"),
        }
    )
    with pytest.raises(hazelkit.ComponentError, match=r"'api' failed to start: ValueError") as e:
        await system.start()
    assert e.value.component == "api"
    assert isinstance(e.value.__cause__, ValueError)
    assert log == ["start db", "start cache", "start api", "stop cache", "stop db"]
    assert system.states == {
        "db": ComponentState.STOPPED,
        "cache": ComponentState.STOPPED,
        "api": ComponentState.FAILED,
        "web": ComponentState.NOT_STARTED,
    }


async def test_nothing_begins_to_start_after_a_failure() -> None:
    log: list[str] = []
    slow_began, release = asyncio.Event(), asyncio.Event()

    async def slow_start() -> None:
        slow_began.set()
        await release.wait()

    system = System(
        {
            "bad": Part("bad", log, fail_start=True, start_wait=slow_began.wait),
            "slow": Part("slow", log, start_wait=slow_start),
            "after_slow": using(Part("after_slow", log), "slow"),
        }
    )
    starting = asyncio.create_task(system.start())
    await asyncio.sleep(0.05)
    release.set()  # slow finishes its start (under way), then is stopped
    with pytest.raises(hazelkit.ComponentError, match="'bad'"):
        await starting
    assert "start after_slow" not in log
    assert log[-1] == "stop slow"


async def test_stop_errors_are_collected_after_stopping_everything() -> None:
    log: list[str] = []
    system = System(
        {
            "db": Part("db", log, fail_stop=True),
            "queue": Part("queue", log),
            "api": using(Part("api", log, fail_stop=True), "db", "queue"),
        }
    )
    await system.start()
    with pytest.raises(hazelkit.ComponentStopError) as e:
        await system.stop()
    assert sorted(log[3:]) == ["stop api", "stop db", "stop queue"]
    assert log[3] == "stop api"
    assert e.value.components == ["api", "db"]
    assert all(isinstance(error.__cause__, OSError) for error in e.value.exceptions)
    assert system.states["queue"] is ComponentState.STOPPED
    assert system.states["db"] is ComponentState.FAILED
    matched, rest = e.value.split(hazelkit.ComponentError)  # what except* does
    assert matched is not None
    assert len(matched.exceptions) == 2
    assert rest is None


async def test_rollback_errors_are_notes_of_the_start_error() -> None:
    log: list[str] = []
    system = System(
        {
            "db": Part("db", log, fail_stop=True),
            "api": using(Part("api", log, fail_start=True), "db"),
        }
    )
    with pytest.raises(hazelkit.ComponentError, match="'api'") as e:
        await system.start()
    assert any("'db' failed to stop: OSError" in note for note in e.value.__notes__)


async def test_a_start_past_its_timeout_fails_with_a_clear_error() -> None:
    log: list[str] = []
    system = System(
        {
            "db": Part("db", log),
            "hang": using(
                Part("hang", log, start_wait=asyncio.Event().wait), "db", start_timeout=0.1
            ),
        }
    )
    with pytest.raises(hazelkit.ComponentError, match=r"'hang' did not start within 0.1 s") as e:
        await system.start()
    assert isinstance(e.value.__cause__, TimeoutError)
    assert log == ["start db", "start hang", "stop db"]


async def test_a_stop_past_its_timeout_is_a_stop_error() -> None:
    class Stuck:
        async def stop(self) -> None:
            await asyncio.Event().wait()

    system = System({"stuck": Stuck(), "fine": Part("fine", [])}, stop_timeout=0.1)
    await system.start()
    with pytest.raises(hazelkit.ComponentStopError) as e:
        await system.stop()
    assert "did not stop within 0.1 s" in str(e.value.exceptions[0])
    assert system.states["fine"] is ComponentState.STOPPED


async def test_a_components_own_timeout_error_is_its_failure_not_the_bound() -> None:
    class Refused:
        async def start(self) -> None:
            raise TimeoutError("db did not answer")

    with pytest.raises(hazelkit.ComponentError, match="failed to start: TimeoutError: db did"):
        await System({"r": Refused()}).start()


async def test_context_managers_sync_methods_and_plain_values_are_components() -> None:
    log: list[str] = []

    class Sync:
        def start(self) -> None:
            log.append("sync start")

        def stop(self) -> None:
            log.append("sync stop")

    settings = {"debug": True}
    system = System({"res": Resource(log), "sync": Sync(), "settings": settings})
    async with system:
        assert system["settings"] is settings
        assert sorted(log) == ["enter", "sync start"]
    assert sorted(log[2:]) == ["exit", "sync stop"]


async def test_cancelling_a_start_rolls_back() -> None:
    log: list[str] = []
    system = System(
        {
            "db": Part("db", log),
            "hang": using(Part("hang", log, start_wait=asyncio.Event().wait), "db"),
        }
    )
    starting = asyncio.create_task(system.start())
    await asyncio.sleep(0.05)
    starting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await starting
    assert log == ["start db", "start hang", "stop db"]


async def test_a_system_starts_once_and_stop_is_idempotent() -> None:
    system = System({"a": Part("a", [])})
    await system.stop()  # nothing running: nothing to do
    await system.start()
    with pytest.raises(hazelkit.HazelkitError, match="started before"):
        await system.start()
    await system.stop()
    await system.stop()


def test_looking_up_a_component() -> None:
    system = System({"a": Part("a", [])})
    with pytest.raises(hazelkit.KeyNotFoundError):
        system["nope"]
    with pytest.raises(hazelkit.ComponentError, match="'a' is not started"):
        system["a"]


def test_using_adds_to_a_component() -> None:
    part = Part("p", [])
    component = using(using(part, "db", start_timeout=1), cache="redis", stop_timeout=2)
    assert component.value is part
    assert dict(component.dependencies) == {"db": "db", "cache": "redis"}
    assert (component.start_timeout, component.stop_timeout) == (1, 2)


def test_a_bad_spelling_is_a_configuration_error() -> None:
    with pytest.raises(hazelkit.ConfigurationError, match="timeout"):
        using(object(), start_timeout=-1)
    with pytest.raises(hazelkit.ConfigurationError, match="component name"):
        System({"": 1})
    with pytest.raises(hazelkit.ConfigurationError, match="must name a component"):
        using(object(), "")


async def test_an_attribute_that_cannot_be_set_fails_the_start_clearly() -> None:
    system = System({"db": 1, "frozen": using((1, 2), "db")})
    with pytest.raises(hazelkit.ComponentError, match="cannot set the dependency 'db'"):
        await system.start()


async def test_health_reports_states_and_checks() -> None:
    class Checked:
        def __init__(self, check: Callable[[], Any]) -> None:
            self.health = check

    async def ok() -> bool:
        return True

    async def sick() -> bool:
        return False

    async def detail() -> dict[str, int]:
        return {"connections": 3}

    async def raises() -> None:
        raise RuntimeError("disk full")

    async def hangs() -> None:
        await asyncio.Event().wait()

    system = System(
        {
            "ok": Checked(ok),
            "sick": Checked(sick),
            "detail": Checked(detail),
            "raises": Checked(raises),
            "hangs": Checked(hangs),
            "plain": 42,
        }
    )
    before = await system.health()
    assert not before.healthy
    assert {h.state for h in before.components.values()} == {ComponentState.NOT_STARTED}
    await system.start()
    report = await system.health(timeout=0.2)
    got = {name: (h.healthy, h.detail, h.error) for name, h in report.components.items()}
    assert got == {
        "ok": (True, None, None),
        "sick": (False, None, None),
        "detail": (True, {"connections": 3}, None),
        "raises": (False, None, "RuntimeError: disk full"),
        "hangs": (False, None, "no answer within 0.2 s"),
        "plain": (True, None, None),
    }
    assert not report.healthy
    await system.stop()


async def test_health_of_a_failed_component_says_why() -> None:
    system = System({"bad": Part("bad", [], fail_start=True)})
    with pytest.raises(hazelkit.ComponentError):
        await system.start()
    health = (await system.health()).components["bad"]
    assert health.state is ComponentState.FAILED
    assert health.error == "component 'bad' failed to start: ValueError: bad cannot start"


async def test_a_lifecycle_factory_replaces_how_a_component_starts() -> None:
    log: list[str] = []

    class Logged:
        def __init__(self, inner: Lifecycle, dependencies: dict[str, Any]) -> None:
            self.inner, self.dependencies = inner, dependencies

        async def start(self) -> Any:
            log.append(f"around start with {sorted(self.dependencies)}")
            return await self.inner.start()

        async def stop(self) -> None:
            await self.inner.stop()
            log.append("around stop")

    def logged(value: Any, dependencies: Any) -> Lifecycle:
        return Logged(default_lifecycle(value), dict(dependencies))

    async with System({"db": 1, "part": using(Part("p", log), "db", lifecycle=logged)}):
        assert log == ["around start with ['db']", "start p"]
    assert log[2:] == ["stop p", "around stop"]


async def test_run_stops_the_system_on_sigterm_and_restores_the_handlers() -> None:
    log: list[str] = []
    before = signal.getsignal(signal.SIGTERM)

    class Signals:
        async def start(self) -> None:
            log.append("started")
            asyncio.get_running_loop().call_later(0.05, os.kill, os.getpid(), signal.SIGTERM)

    await asyncio.wait_for(run(System({"db": Part("db", log), "s": Signals()})), 10)
    assert log[-1] == "stop db"
    assert signal.getsignal(signal.SIGTERM) == before
