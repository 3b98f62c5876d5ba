"""The session store on both backends: per-key merging by compare-and-set, regeneration,
deletion, lifetimes, size limit, encryption at rest."""

from __future__ import annotations

import asyncio
import os
import time

import pytest
from web_apps import SECRET

import hazelkit
from hazelkit import CapacityError, Codec, ConflictError, Encryption, lowlevel
from hazelkit.testing import ManualClock, inject_faults
from hazelkit.web import SessionConfig, SessionStore, SessionTooLargeError
from hazelkit.web._record import DELETED, Record
from hazelkit.web._store import StoredSession
from timing import eventually


@pytest.fixture
def config(name: str) -> SessionConfig:
    return SessionConfig(secret_key=SECRET, map_name=name)


async def test_two_nodes_saving_at_once_merge_per_key(
    cluster: hazelkit.Cluster, cluster2: hazelkit.Cluster, config: SessionConfig
) -> None:
    first, second = SessionStore(cluster, config), SessionStore(cluster2, config)
    created = await first.create({"shared": 0, "untouched": 1})
    seen_by_first = await first.load(created.session_id)
    seen_by_second = await second.load(created.session_id)
    assert seen_by_first is not None
    assert seen_by_second is not None
    assert await first.save(seen_by_first, {"x": 1, "shared": "first"}) is not None
    # second read the old version: its compare-and-set fails, it re-reads and merges.
    assert await second.save(seen_by_second, {"y": 2, "shared": "second"}) is not None
    stored = await first.data(created.session_id)
    assert stored == {"shared": "second", "untouched": 1, "x": 1, "y": 2}


async def test_many_concurrent_saves_lose_nothing(
    cluster: hazelkit.Cluster, config: SessionConfig
) -> None:
    faults = inject_faults(cluster)
    store = SessionStore(cluster, config)
    created = await store.create({"base": True})
    saves = [store.save(created, {f"k{i}": i}) for i in range(40)]  # all from one stale view
    assert None not in await asyncio.gather(*saves)  # each save's write won once
    assert await store.data(created.session_id) == {"base": True, **{f"k{i}": i for i in range(40)}}
    # Saves through one Cluster take turns: each loses at most its first try (made from
    # the stale view), never a race against another local save.
    assert faults.calls("map.replace_if_same", name=config.map_name) <= 2 * 40 - 1


async def test_deletions_merge_too(cluster: hazelkit.Cluster, config: SessionConfig) -> None:
    store = SessionStore(cluster, config)
    created = await store.create({"a": 1, "b": 2})
    await store.save(created, {"a": DELETED})
    await store.save(created, {"c": 3})  # stale view that still had "a": keeps the deletion
    assert await store.data(created.session_id) == {"b": 2, "c": 3}


async def test_a_deleted_session_is_never_revived(
    cluster: hazelkit.Cluster, config: SessionConfig
) -> None:
    store = SessionStore(cluster, config)
    created = await store.create({"user": "ada"})
    await store.delete(created.session_id)
    assert await store.save(created, {"late": "write"}) is None
    assert await store.load(created.session_id) is None
    await store.touch(created)  # renewing a deleted session does nothing
    assert await store.load(created.session_id) is None


async def test_regenerate_moves_the_data_and_kills_the_old_id(
    cluster: hazelkit.Cluster, config: SessionConfig
) -> None:
    store = SessionStore(cluster, config)
    old = await store.create({"cart": ["book"]})
    await store.save(old, {"theme": "dark"})  # written after `old` was read
    new = await store.regenerate(old, {"user": "ada"})
    assert new.session_id != old.session_id
    assert await store.load(old.session_id) is None
    assert await store.data(new.session_id) == {"cart": ["book"], "theme": "dark", "user": "ada"}
    fresh = await store.regenerate(None, {"user": "bob"})
    assert await store.data(fresh.session_id) == {"user": "bob"}


async def test_conflict_error_after_too_many_lost_races(
    cluster: hazelkit.Cluster, name: str
) -> None:
    store = SessionStore(
        cluster, SessionConfig(secret_key=SECRET, map_name=name, max_merge_attempts=1)
    )
    created = await store.create({"a": 1})
    await store.save(created, {"a": 2})
    with pytest.raises(ConflictError, match="max_merge_attempts"):
        await store.save(created, {"a": 3})  # stale and only one attempt allowed
    assert await store.data(created.session_id) == {"a": 2}


async def test_size_limit(cluster: hazelkit.Cluster, name: str) -> None:
    config = SessionConfig(secret_key=SECRET, map_name=name, max_size=1024)
    store = SessionStore(cluster, config)
    with pytest.raises(SessionTooLargeError, match="over its max_size of 1024 bytes") as caught:
        await store.create({"blob": os.urandom(2000)})
    assert isinstance(caught.value, CapacityError)
    assert caught.value.limit == 1024
    assert caught.value.size > 2000
    created = await store.create({"small": 1})
    with pytest.raises(SessionTooLargeError):
        await store.save(created, {"blob": os.urandom(2000)})
    assert await store.data(created.session_id) == {"small": 1}


async def test_a_merge_over_the_size_limit_fails_the_write_that_crossed_it(
    cluster: hazelkit.Cluster, name: str
) -> None:
    config = SessionConfig(secret_key=SECRET, map_name=name, max_size=1024)
    store = SessionStore(cluster, config)
    created = await store.create({"small": 1})
    await store.save(created, {"a": os.urandom(600)})  # one request, within the limit
    with pytest.raises(SessionTooLargeError, match="merged with those other requests") as caught:
        # A concurrent request loaded the session before that save: alone its change
        # fits, merged with the other one it does not.
        await store.save(created, {"b": os.urandom(600)})
    assert caught.value.concurrent
    assert set(await store.data(created.session_id)) == {"small", "a"}


async def test_absolute_lifetime_is_enforced_on_read(cluster: hazelkit.Cluster, name: str) -> None:
    config = SessionConfig(secret_key=SECRET, map_name=name, max_age=60)
    store = SessionStore(cluster, config)
    created = await store.create({"a": 1})
    assert await store.load(created.session_id) is not None
    # An entry that outlived max_age without expiring (its TTL lost, say): still refused.
    old = store.records.encode(Record(time.time() - 61, {"a": 1}, renewed=time.time()))
    await lowlevel.backend(cluster).map(name).set(store._key(created.session_id), old)
    assert await store.load(created.session_id) is None
    assert await cluster.map(name).size() == 0  # and removed
    stale = StoredSession(created.session_id, old, store.records.decode(old))
    await lowlevel.backend(cluster).map(name).set(store._key(created.session_id), old)
    assert await store.save(stale, {"a": 2}) is None  # a write cannot extend it either
    assert await cluster.map(name).size() == 0


async def test_the_idle_timeout_holds_when_the_entry_lost_its_ttl(url: str, name: str) -> None:
    # A write resets the entry's time to live; an app process that died before renewing
    # it left the entry without one. The record's own renewal time still ends it: that
    # is hazelkit's clock, so a ManualClock moves it on both backends.
    clock = ManualClock(frozen=True)
    async with hazelkit.connect(url, clock=clock) as cluster:
        config = SessionConfig(secret_key=SECRET, map_name=name, idle_timeout=2)
        store = SessionStore(cluster, config)
        created = await store.create({"a": 1})
        key = store._key(created.session_id)
        raw_map = lowlevel.backend(cluster).map(name)
        await raw_map.set(key, created.raw)  # no time to live any more
        clock.advance(1.5)
        assert await store.load(created.session_id) is not None  # within one idle timeout
        clock.advance(1.7)  # past IDLE_LIMIT (1.5) idle timeouts after the last write
        assert await raw_map.get(key) == created.raw  # the entry is there
        assert await store.load(created.session_id) is None
        assert await raw_map.get(key) is None  # and removed on read


async def test_reads_alone_keep_a_session_alive(url: str, backend: str, name: str) -> None:
    clock = ManualClock(frozen=True)
    async with hazelkit.connect(url, clock=clock) as cluster:
        config = SessionConfig(secret_key=SECRET, map_name=name, idle_timeout=2)
        store = SessionStore(cluster, config)
        created = await store.create({"a": 1})
        rewrites = 0
        for _ in range(8):  # 4.8 s of read-only requests: well past 1.5 idle timeouts
            clock.advance(0.6)
            loaded = await store.load(created.session_id)
            assert loaded is not None
            assert loaded.record.data == {"a": 1}
            await store.touch(loaded)
            after = await store.load(created.session_id)
            assert after is not None
            if after.raw != loaded.raw:
                rewrites += 1
                assert after.record.renewed > loaded.record.renewed
        # Reads rewrite the record once half an idle timeout passed since its last write,
        # and only then (the other reads renew the time to live alone).
        assert 3 <= rewrites <= 5
        key = store._key(created.session_id)
        if backend == "hazelcast":  # the member forgets it by its own clock, soon
            raw_map = lowlevel.backend(cluster).map(name)

            async def forgotten() -> bool:
                return await raw_map.get(key) is None

            await eventually(forgotten)
        clock.advance(3.2)  # unused for over an idle timeout: gone
        assert await store.load(created.session_id) is None
        assert await lowlevel.backend(cluster).map(name).get(key) is None


async def test_a_touch_racing_a_write_keeps_the_write(url: str, name: str) -> None:
    clock = ManualClock(frozen=True)
    async with hazelkit.connect(url, clock=clock) as cluster:
        config = SessionConfig(secret_key=SECRET, map_name=name, idle_timeout=2)
        store = SessionStore(cluster, config)
        created = await store.create({"a": 1})
        clock.advance(1.1)  # due for renewal, and the entry's 2 s TTL has not run out
        stale = await store.load(created.session_id)
        assert stale is not None
        assert await store.save(stale, {"b": 2}) is not None  # another request wrote
        await store.touch(stale)  # renews nothing over that write
        loaded = await store.load(created.session_id)
        assert loaded is not None
        assert loaded.record.data == {"a": 1, "b": 2}


async def test_records_of_the_first_format_still_read(cluster: hazelkit.Cluster, name: str) -> None:
    store = SessionStore(cluster, SessionConfig(secret_key=SECRET, map_name=name))
    raw = cluster.codec.encode({"v": 1, "created": 1000.0, "data": {"a": 1}})
    assert store.records.decode(raw) == Record(1000.0, {"a": 1}, renewed=1000.0)


async def test_encryption_at_rest(cluster: hazelkit.Cluster, name: str) -> None:
    encrypted = Codec(encryption=Encryption(keys=[os.urandom(32)]))
    store = SessionStore(cluster, SessionConfig(secret_key=SECRET, map_name=name, codec=encrypted))
    created = await store.create({"card": "4111-1111-secret"})
    await store.save(created, {"more": "private-words"})  # CAS works on encrypted bytes
    [raw] = await lowlevel.backend(cluster).map(name).values()
    assert b"4111" not in raw
    assert b"private-words" not in raw
    other_key = Codec(encryption=Encryption(keys=[os.urandom(32)]))
    stranger = SessionStore(
        cluster, SessionConfig(secret_key=SECRET, map_name=name, codec=other_key)
    )
    assert await stranger.load(created.session_id) is None  # unreadable: ignored, kept
    assert await store.data(created.session_id) == {
        "card": "4111-1111-secret",
        "more": "private-words",
    }


async def test_the_map_reveals_no_session_id(
    cluster: hazelkit.Cluster, config: SessionConfig
) -> None:
    store = SessionStore(cluster, config)
    ids = {(await store.create({"i": i})).session_id for i in range(20)}
    assert len(ids) == 20
    assert all(len(session_id) == 43 for session_id in ids)  # 256 bits each
    keys = await cluster.map(config.map_name).keys()
    assert not ids & {str(key) for key in keys}


async def test_records_that_are_not_sessions_are_ignored(
    cluster: hazelkit.Cluster, config: SessionConfig
) -> None:
    store = SessionStore(cluster, config)
    created = await store.create({"a": 1})
    await (
        lowlevel.backend(cluster)
        .map(config.map_name)
        .set(store._key(created.session_id), b"\x01junk")
    )
    assert await store.load(created.session_id) is None


async def test_an_encrypted_record_copied_under_another_session_id_gives_nothing(
    cluster: hazelkit.Cluster, name: str
) -> None:
    """Whoever can write to a member (Community members have no authentication) copies
    the victim's encrypted record under their own, validly signed, session id: it does
    not decrypt there, so they get an empty session, never the victim's."""
    encrypted = Codec(encryption=Encryption(keys=[os.urandom(32)]))
    store = SessionStore(cluster, SessionConfig(secret_key=SECRET, map_name=name, codec=encrypted))
    victim = await store.create({"user": "ada", "role": "admin"})
    attacker = await store.create({"user": "mallory"})
    raw_map = lowlevel.backend(cluster).map(name)
    stolen = await raw_map.get(store._key(victim.session_id))
    assert stolen is not None
    await raw_map.set(store._key(attacker.session_id), stolen)
    assert await store.load(attacker.session_id) is None  # unreadable there: ignored
    assert await store.data(victim.session_id) == {"user": "ada", "role": "admin"}
