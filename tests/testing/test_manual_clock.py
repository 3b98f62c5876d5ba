"""ManualClock: the embedded grid expires by it, hazelkit stamps by it, nothing sleeps."""

from __future__ import annotations

import time
import uuid

import pytest

import hazelkit
from hazelkit import lowlevel
from hazelkit.testing import ManualClock


def grid() -> str:
    return f"memory://clock-{uuid.uuid4().hex[:8]}"


async def test_an_entry_expires_when_the_clock_passes_its_ttl() -> None:
    clock = ManualClock()
    async with hazelkit.connect(grid(), clock=clock) as cluster:
        users = cluster.map("users")
        await users.set("ada", 1, ttl=30)
        clock.advance(29)
        assert await users.get("ada") == 1
        clock.advance(1)
        assert await users.get("ada") is None


async def test_advancing_fires_expired_events_at_once() -> None:
    clock = ManualClock(frozen=True)
    async with hazelkit.connect(grid(), clock=clock) as cluster:
        users = cluster.map("users")
        async with users.events() as events:
            await users.set("ada", 1, ttl=10)
            added = await events.get(timeout=5)
            clock.advance(10)
            expired = await events.get(timeout=5)  # not after the sweeper's next round
        assert (added.type, expired.type) == (
            hazelkit.EntryEventType.ADDED,
            hazelkit.EntryEventType.EXPIRED,
        )


async def test_max_idle_counts_on_the_clock() -> None:
    clock = ManualClock(frozen=True)
    async with hazelkit.connect(grid(), clock=clock) as cluster:
        sessions = cluster.map("sessions")
        await sessions.set("s", 1, max_idle=10)
        clock.advance(8)
        assert await sessions.get("s") == 1  # a read resets the idle time
        clock.advance(8)
        assert await sessions.get("s") == 1
        clock.advance(10)
        assert await sessions.get("s") is None


async def test_ringbuffer_items_age_on_the_clock() -> None:
    clock = ManualClock(frozen=True)
    async with hazelkit.connect(grid(), clock=clock) as cluster:
        ring = lowlevel.backend(cluster).ringbuffer("r", capacity=10, ttl=5)
        await ring.add(b"old")
        clock.advance(6)
        await ring.add(b"new")
        assert await ring.head() == 1


def test_a_frozen_clock_stands_still_and_a_running_one_follows_real_time() -> None:
    frozen, running = ManualClock(frozen=True), ManualClock()
    wall, mono, running_before = frozen.time(), frozen.monotonic(), running.monotonic()
    time.sleep(0.01)
    assert (frozen.time(), frozen.monotonic()) == (wall, mono)
    assert running.monotonic() > running_before
    frozen.advance(2.5)
    assert (frozen.time(), frozen.monotonic()) == (wall + 2.5, mono + 2.5)


async def test_the_cluster_reports_its_clock() -> None:
    clock = ManualClock()
    async with hazelkit.connect(grid(), clock=clock) as cluster:
        assert cluster.clock is clock
    async with hazelkit.connect(grid()) as cluster:
        assert abs(cluster.clock.time() - ManualClock().time()) < 5


async def test_every_cluster_of_a_grid_must_share_its_clock() -> None:
    url = grid()
    async with hazelkit.connect(url, clock=ManualClock()):
        with pytest.raises(hazelkit.ConfigurationError, match="same clock"):
            await hazelkit.connect(url, clock=ManualClock())


def test_a_clock_only_moves_forward_and_must_look_like_a_clock() -> None:
    with pytest.raises(hazelkit.ConfigurationError, match="forward"):
        ManualClock().advance(-1)
    with pytest.raises(hazelkit.ConfigurationError, match="clock must have"):
        hazelkit.connect(grid(), clock=object())


async def test_on_hazelcast_the_clock_moves_hazelkits_timestamps_only(
    hazelcast_members: object, name: str
) -> None:
    clock = ManualClock()
    url = hazelcast_members.url  # type: ignore[attr-defined]
    async with hazelkit.connect(url, clock=clock) as cluster:
        await cluster.map(name).set("k", 1, ttl=30)
        clock.advance(60)
        assert await cluster.map(name).get("k") == 1  # the member's own clock decides
