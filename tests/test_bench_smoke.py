"""The benchmarks in smoke mode: every one runs to the end and reports well-formed
results, so they cannot rot. Never assertions on timings: the numbers mean nothing here."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from hazelkit.bench import Mode, Result, discover, main, run_benchmarks, select
from hazelkit.bench._make_document import DOCUMENT_PATH, make_document
from hazelkit.bench._payloads import codec_payloads
from hazelkit.bench._runner import drive
from hazelkit.bench._suites._codec_contenders import codec_contenders, lost_types
from hazelkit.bench._suites._queue_contenders import transfer

CODEC_CONTENDERS = {
    "hazelkit",
    "hazelkit lz4-always",
    "hazelkit no-lz4",
    "hazelkit AES-GCM",
    "pickle",
    "msgpack",
    "msgspec",
}
MAP_POINTS = 13  # get/put/set at 1, 8, 64 tasks; get_all/put_all at 1, 8


def quiet(line: str) -> None:
    pass


def test_benchmarks_are_discovered_in_order() -> None:
    names = [benchmark.name for benchmark in discover()]
    assert names == [
        "codec",
        "map",
        "instrumentation",
        "blocking",
        "atom",
        "queue",
        "topic",
        "lock",
        "memory",
        "workflow",
        "agent",
    ]
    assert len(set(names)) == len(names)


async def test_a_round_whose_deadline_passed_before_its_tasks_started_still_measures() -> None:
    """On a loaded machine a smoke round's tasks may start after its 10 ms deadline: each
    still makes one call, so the round has something to report (it once had none)."""
    calls: list[int] = []

    async def operation(index: int) -> None:
        calls.append(index)

    load = await drive(operation, concurrency=4, duration=0.0)
    assert sorted(calls) == [0, 1, 2, 3]
    assert load.ops == 4

    class Instant:
        name = "instant"

        def __init__(self) -> None:
            self.items = 0

        async def put(self) -> None:
            self.items += 1

        async def poll(self, timeout: float) -> bool:
            await asyncio.sleep(0)
            if self.items:
                self.items -= 1
                return True
            return False

    moved = await transfer(Instant(), producers=2, consumers=2, duration=0.0)
    assert moved.ops == 2
    assert len(moved.latencies) == 2


def test_payload_document_is_the_committed_one() -> None:
    assert DOCUMENT_PATH.read_text(encoding="utf-8") == make_document()
    assert 64 * 1024 <= len(DOCUMENT_PATH.read_bytes()) < 70 * 1024


def test_payload_records_are_distinct_and_deterministic() -> None:
    first, again = codec_payloads(), codec_payloads()
    records = first[1].value
    assert len(records) == 100
    assert len({record["uuid"] for record in records}) == 100
    assert len({id(record["name"]) for record in records}) == 100
    assert [p.value for p in first] == [p.value for p in again]


def test_lost_types_names_what_the_raw_codecs_lose() -> None:
    record = codec_payloads()[0].value
    lost = {c.name: lost_types(record, c.decode(c.encode(record))) for c in codec_contenders()}
    assert lost["hazelkit"] == lost["pickle"] == lost["hazelkit AES-GCM"] == []
    assert "UUID→str" in lost["msgspec"]
    assert "set→list" in lost["msgpack"]
    assert "tuple→list" in lost["msgpack"]


def check_files(out: Path, result: Result) -> dict[str, Any]:
    markdown = (out / "results.md").read_text(encoding="utf-8")
    assert f"## {result.title}" in markdown
    assert result.tables, "a benchmark reports at least one table"
    for table in result.tables:
        assert f"### {table.title}" in markdown
        assert table.rows
        assert all(len(row) == len(table.columns) for row in table.rows)
    for chart in result.charts:
        assert (out / chart.filename).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"]({chart.filename})" in markdown
    for goal in result.goals:
        assert goal.measured
        assert goal.verdict in markdown
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert data["mode"] == "smoke"
    assert {"machine", "load_average", "started_at", "command", "benchmarks"} <= set(data)
    benchmark: dict[str, Any] = data["benchmarks"][result.name]
    assert {"title", "goals", "tables", "charts", "data"} <= set(benchmark)
    return benchmark


def check_codec(result: Result, data: dict[str, Any], backend: str) -> None:
    payloads = data["data"]["payloads"]
    assert set(payloads) == {"record", "records", "document", "ints", "small"}
    for payload in payloads.values():
        assert set(payload["results"]) == CODEC_CONTENDERS
        for point in payload["results"].values():
            assert point["size_bytes"] > 0
            assert point["encode_decode_s"]["median"] > 0
    assert [goal.met in (True, False) for goal in result.goals] == [True, True, True]
    assert len(result.tables[0].rows) == 5 + 2  # payloads, geometric mean, types kept


def check_map(result: Result, data: dict[str, Any], backend: str) -> None:
    points = data["data"]["points"]
    assert len(points) == MAP_POINTS
    contenders = {"hazelkit embedded"}
    if backend == "hazelcast":
        contenders |= {"hazelkit", "raw client", "raw client + pickle", "hazelkit adapter, bytes"}
    for point in points:
        assert set(point["contenders"]) == contenders
        for summary in point["contenders"].values():
            assert summary["ops"] > 0
            assert summary["p50"] <= summary["p99"]
    assert len(result.tables[0].rows) == MAP_POINTS * len(contenders)
    assert [goal.met is not None for goal in result.goals] == [backend == "hazelcast"] * 2


def check_points(
    data: dict[str, Any], backend: str, points: list[str], embedded: set[str], hazelcast: set[str]
) -> list[dict[str, Any]]:
    """Every point is there with the contenders of this backend, each with completed
    operations and ordered percentiles; returns the points."""
    found = data["data"]["points"]
    assert [point["label"] for point in found] == points
    for point in found:
        expected = embedded | (hazelcast if backend == "hazelcast" else set())
        assert set(point["contenders"]) <= expected
        assert embedded & set(point["contenders"]) or backend == "hazelcast"
        for summary in point["contenders"].values():
            assert summary["ops"] > 0
            assert 0 < summary["p50"] <= summary["p99"]
    return list(found)


def check_atom(result: Result, data: dict[str, Any], backend: str) -> None:
    labels = ["1 swapper", "4 swappers", "16 swappers"]
    processes = ["4 processes"] if backend == "hazelcast" else []
    points = check_points(
        data,
        backend,
        labels + processes,
        {"hazelkit embedded"},
        {"hazelkit", "raw client CAS loop", "hazelkit, 4 processes"},
    )
    for point in points[:3]:
        assert len(point["contenders"]) == (3 if backend == "hazelcast" else 1)
    for point in points:
        for summary in point["contenders"].values():
            assert summary["attempts_per_swap"] >= 1
            assert summary["inexact_rounds"] == 0
    if processes:
        assert points[-1]["contenders"]["hazelkit, 4 processes"]["ops"] == 4 * 5
    assert [goal.met for goal in result.goals] == [True]


def check_queue(result: Result, data: dict[str, Any], backend: str) -> None:
    points = check_points(
        data, backend, ["1x1", "4x4"], {"hazelkit embedded"}, {"hazelkit", "raw client"}
    )
    for point in points:
        assert len(point["contenders"]) == (3 if backend == "hazelcast" else 1)
        for summary in point["contenders"].values():
            assert summary["get_p50"] <= summary["get_p99"]


def check_topic(result: Result, data: dict[str, Any], backend: str) -> None:
    points = check_points(
        data,
        backend,
        ["1 publisher", "4 publishers"],
        {"hazelkit embedded"},
        {"hazelkit", "raw client"},
    )
    assert all(len(p["contenders"]) == (3 if backend == "hazelcast" else 1) for p in points)


def check_lock(result: Result, data: dict[str, Any], backend: str) -> None:
    labels = ["1 task", "4 tasks", "16 tasks"]
    processes = ["2 processes"] if backend == "hazelcast" else []
    points = check_points(
        data,
        backend,
        labels + processes,
        {"hazelkit embedded"},
        {"hazelkit", "raw client IMap.lock", "hazelkit, 2 processes"},
    )
    if processes:
        assert points[-1]["contenders"]["hazelkit, 2 processes"]["ops"] == 2 * 3
    assert [goal.met for goal in result.goals] == [True]


def check_memory(result: Result, data: dict[str, Any], backend: str) -> None:
    backends = data["data"]["backends"]
    assert set(backends) == ({"Hazelcast", "embedded"} if backend == "hazelcast" else {"embedded"})
    for figures in backends.values():
        assert figures["counts"]["near-cache"] == 200
        assert figures["peak_rss"]["baseline"] > 10 * 2**20
        for scenario in ("cache", "near-cache", "topic", "reliable-topic", "map-events"):
            assert figures["peak_rss"][scenario] >= figures["peak_rss"]["baseline"] * 0.9
            assert figures["heap"][scenario] > 0
        assert set(figures["per_item"]) == {"near-cache", "topic", "reliable-topic", "map-events"}


def check_workflow(result: Result, data: dict[str, Any], backend: str) -> None:
    measured = data["data"]
    assert set(measured) == ({"embedded", "hazelcast"} if backend == "hazelcast" else {"embedded"})
    for figures in measured.values():
        assert figures["messages_per_second"] > 0
        assert figures["baseline_per_second"] > 0
        for load in ("throughput", "burst"):  # interleaved rounds, ratio of each pair
            ratio = figures[load]["ratio"]
            assert ratio["n"] == figures[load]["hazelkit"]["n"] == figures[load]["baseline"]["n"]
            assert ratio["min"] <= ratio["median"] <= ratio["max"]
            assert ratio["median"] > 0
        assert set(figures["latency_p50"]) == {"1", "3"}
        assert figures["idle_bytes"] >= 0
    assert result.goals[0].name.startswith("workflow messages/s")


def check_instrumentation(result: Result, data: dict[str, Any], backend: str) -> None:
    points = data["data"]["points"]
    backends = ["embedded", "Hazelcast"] if backend == "hazelcast" else ["embedded"]
    assert [point["backend"] for point in points] == [b for b in backends for _ in range(4)]
    for point in points:
        assert set(point["contenders"]) == {"without hooks", "no SDK", "disabled", "SDK"}
        for summary in point["contenders"].values():
            assert summary["ops"] > 0
            assert summary["p50_ratio"]["median"] > 0
        assert point["contenders"]["without hooks"]["p50_ratio"]["median"] == 1.0
    assert len(result.tables[0].rows) == 4 * len(points)
    assert result.goals[0].met is not None


def check_blocking(result: Result, data: dict[str, Any], backend: str) -> None:
    embedded = data["data"]["embedded"]
    assert set(embedded) == {"get", "set"}
    assert embedded["get"]["hop_over_direct"]["median"] > 0
    assert {"blocking, direct", "blocking, hop to loop", "async (floor)"} <= set(embedded["get"])
    assert ("Hazelcast" in data["data"]) == (backend == "hazelcast")
    assert [goal.met is not None for goal in result.goals] == [True]


def check_agent(result: Result, data: dict[str, Any], backend: str) -> None:
    measured = data["data"]
    assert set(measured) == ({"embedded", "hazelcast"} if backend == "hazelcast" else {"embedded"})
    for figures in measured.values():
        for kind in ("actions_per_second", "baseline_per_second", "ratio"):
            assert set(figures[kind]) == {"1 agent", "100 agents"}
            assert all(summary["median"] > 0 for summary in figures[kind].values())
        assert 0 < figures["latency_p50"] <= figures["latency_p99"]
    assert len(result.tables[0].rows) == 2 * len(measured)
    expected = [backend == "hazelcast"] * 2
    assert [goal.met is not None for goal in result.goals] == expected


CHECKS = {
    "codec": check_codec,
    "blocking": check_blocking,
    "map": check_map,
    "instrumentation": check_instrumentation,
    "atom": check_atom,
    "queue": check_queue,
    "topic": check_topic,
    "lock": check_lock,
    "memory": check_memory,
    "workflow": check_workflow,
    "agent": check_agent,
}


@pytest.mark.parametrize("name", [benchmark.name for benchmark in discover()])
async def test_benchmark_smoke(name: str, tmp_path: Path, url: str, backend: str) -> None:
    """Every benchmark (those added later too) runs in smoke mode on both backends and
    writes a well-formed report; known ones are checked in more detail."""
    run = await run_benchmarks(
        select(discover(), [name]), mode=Mode.SMOKE, out=tmp_path, url=url, echo=quiet
    )
    [result] = run.results
    assert result.name == name
    data = check_files(tmp_path, result)
    if name in CHECKS:
        CHECKS[name](result, data, backend)
    if backend == "memory":
        assert run.hazelcast.get("unavailable", "--url memory://").startswith("--url memory://")


def test_command_line_smoke(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["codec", "--smoke", "--out", str(tmp_path)]) == 0
    assert "results written to" in capsys.readouterr().out
    assert (tmp_path / "results.md").exists()


def test_command_line_rejects_unknown_benchmark(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["no-such-bench", "--smoke"]) == 2
    assert "unknown benchmark(s) no-such-bench" in capsys.readouterr().err


def test_command_line_help_lists_benchmarks(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "codec" in capsys.readouterr().out
