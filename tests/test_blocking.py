"""The blocking facade: the same behaviour without await, from any thread."""

from __future__ import annotations

import threading
from collections.abc import Iterator, MutableMapping

import pytest

import hazelkit
from hazelkit import ClusterState, lowlevel
from hazelkit.blocking import BlockingCluster


@pytest.fixture
def blocking(url: str) -> Iterator[BlockingCluster]:
    with hazelkit.connect_blocking(url) as cluster:
        yield cluster


def test_map_is_a_mutable_mapping(blocking: BlockingCluster, name: str) -> None:
    users = blocking.map(name)
    assert isinstance(users, MutableMapping)
    users["ada"] = {"born": 1815}
    users.update({"grace": {"born": 1906}, "alan": {"born": 1912}})
    assert users["ada"] == {"born": 1815}
    assert "ada" in users
    assert "nobody" not in users
    assert len(users) == 3
    assert sorted(users) == ["ada", "alan", "grace"]
    assert dict(users.items()) == {
        "ada": {"born": 1815},
        "alan": {"born": 1912},
        "grace": {"born": 1906},
    }
    del users["alan"]
    with pytest.raises(KeyError):
        del users["alan"]
    with pytest.raises(KeyError):
        users["alan"]
    assert users.get("alan") is None
    assert users.get("alan", "default") == "default"
    assert users.pop("grace") == {"born": 1906}
    assert users.setdefault("ada", {}) == {"born": 1815}


def test_none_is_a_value_not_a_missing_key(blocking: BlockingCluster, name: str) -> None:
    values = blocking.map(name)
    values["nothing"] = None
    assert "nothing" in values
    assert values["nothing"] is None
    del values["nothing"]
    assert "nothing" not in values


def test_named_methods_match_the_async_api(blocking: BlockingCluster, name: str) -> None:
    m = blocking.map(name)
    assert m.put("k", 1) is None
    assert m.put("k", 2) == 1
    assert m.put_if_absent("k", 3) == 2
    assert m.replace_if_same("k", 2, 4)
    assert not m.replace_if_same("k", 2, 5)
    assert m.get_all(["k", "x"]) == {"k": 4}
    m.put_all({"a": 1, "b": 2})
    assert m.size() == 3
    assert m.remove_if_same("a", 1)
    m.clear()
    assert len(m) == 0


def test_errors_cross_the_thread_boundary_unchanged(blocking: BlockingCluster, name: str) -> None:
    with pytest.raises(hazelkit.EncodeError, match="cannot encode"):
        blocking.map(name)["k"] = threading.Lock()
    assert "k" not in blocking.map(name)


def test_used_from_many_threads_at_once(blocking: BlockingCluster, name: str) -> None:
    counts = blocking.map(name)
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            for i in range(20):
                counts[(worker, i)] = i
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert len(counts) == 120
    assert counts[(5, 19)] == 19


def test_blocking_and_async_nodes_share_the_grid(
    blocking: BlockingCluster, name: str, url: str
) -> None:
    blocking.map(name)["from"] = "blocking"

    async def read() -> str | None:
        async with hazelkit.connect(url) as other:
            value: str | None = await other.map(name).get("from")
            return value

    assert blocking.run(read) == "blocking"


def test_lifecycle_stream_and_close(url: str) -> None:
    cluster = hazelkit.connect_blocking(url)
    assert cluster.state is ClusterState.RUNNING
    assert cluster.members()
    threads_before = threading.active_count()
    cluster.close()
    cluster.close()  # idempotent
    assert cluster.state is ClusterState.CLOSED
    # The helper thread is gone once closed.
    assert threading.active_count() < threads_before
    with pytest.raises(hazelkit.ClusterClosedError):
        lowlevel.check_open(cluster.async_cluster)


def test_blocking_event_stream(name: str) -> None:
    # Embedded nodes are members; Hazelcast membership is tested in test_cluster_hazelcast.
    url = f"memory://{name}"
    with hazelkit.connect_blocking(url) as first, first.membership_events() as events:
        with hazelkit.connect_blocking(url):
            event = events.get(timeout=10)
        assert event.joined
        assert next(events).left


def test_connect_failure_leaves_no_thread() -> None:
    before = threading.active_count()
    with pytest.raises(hazelkit.ClusterUnavailableError):
        hazelkit.connect_blocking("hazelcast://127.0.0.1:9?cluster=none", connect_timeout=0.5)
    assert threading.active_count() == before


def test_an_unclosed_blocking_cluster_does_not_hang_interpreter_exit(url: str) -> None:
    import subprocess
    import sys

    script = (
        "import hazelkit\n"
        f"c = hazelkit.connect_blocking({url!r})\n"
        "c.map('exit-test')['k'] = 1\n"
        "print('done', flush=True)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "done"


def test_structures_outlive_a_dropped_cluster_handle(name: str) -> None:
    url = f"memory://{name}"
    values = hazelkit.connect_blocking(url).map("m")  # the BlockingCluster is not kept
    import gc

    gc.collect()
    values["a"] = 1
    assert values["a"] == 1


def test_a_closed_blocking_cluster_raises_cluster_closed(url: str, name: str) -> None:
    cluster = hazelkit.connect_blocking(url)
    values = cluster.map(name)
    cluster.close()
    with pytest.raises(hazelkit.ClusterClosedError, match="closed"):
        values["a"] = 1


def test_a_blocking_call_from_the_clusters_own_loop_is_a_clear_error(name: str) -> None:
    with hazelkit.connect_blocking(f"memory://{name}") as cluster:
        values = cluster.map("m")

        async def from_inside() -> None:
            values["k"] = 1  # a blocking call on the loop that would have to run it

        with pytest.raises(hazelkit.HazelkitError, match="own event loop"):
            cluster.run(from_inside)
