"""The contenders of the Atom benchmark: hazelkit's Atom on Hazelcast and embedded, and
the compare-and-set loop a raw-client user writes on an IMap.

Every contender increments an integer by one per swap and counts its compare-and-set
attempts (a swap that had to retry counts more than one), so the retry rate is
``attempts / swaps - 1``. The raw loop (``get`` then ``replace_if_same`` or
``put_if_absent``, native int values) backs off between attempts exactly as hazelkit
does (``hazelkit._core._cas.backoff``), so the two differ only by hazelkit's layers: the
codec, the transform, the Atom and the backend adapter. The CP subsystem's
AtomicLong would be the other natural choice, but Community members refuse it.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any, Protocol

import hazelkit
from hazelkit._core._cas import backoff
from hazelkit.bench._suites._points import enter_contenders
from hazelkit.bench._suites._raw_client import raw_client

__all__ = ["EMBEDDED", "HAZELKIT", "RAW", "AtomContender", "open_contenders"]

HAZELKIT = "hazelkit"
RAW = "raw client CAS loop"
EMBEDDED = "hazelkit embedded"


class AtomContender(Protocol):
    """One way of incrementing a shared integer atomically."""

    name: str
    #: Compare-and-set attempts so far (each swap makes one or more).
    attempts: int

    async def swap(self, index: int) -> object: ...
    async def value(self) -> int: ...


class HazelkitAtom:
    """``atom.swap(increment)``; ``increment`` runs once per attempt."""

    def __init__(self, name: str, atom: hazelkit.Atom[int]) -> None:
        self.name = name
        self.atom = atom
        self.attempts = 0

    def _increment(self, value: int) -> int:
        self.attempts += 1
        return value + 1

    async def swap(self, index: int) -> object:
        return await self.atom.swap(self._increment)

    async def value(self) -> int:
        return await self.atom.deref()


class RawCasLoop:
    """The raw client's IMap: read, then write only if unchanged, else back off and retry."""

    def __init__(self, proxy: Any) -> None:
        self.name = RAW
        self.proxy = proxy
        self.attempts = 0

    async def swap(self, index: int) -> object:
        lost = 0
        while True:
            old = await self.proxy.get("counter")
            self.attempts += 1
            if old is None:
                if await self.proxy.put_if_absent("counter", 1) is None:
                    return 1
            elif await self.proxy.replace_if_same("counter", old, old + 1):
                return old + 1
            lost += 1
            await backoff(lost)

    async def value(self) -> int:
        return int(await self.proxy.get("counter") or 0)


@contextlib.asynccontextmanager
async def _hazelkit(label: str, url: str, name: str) -> AsyncIterator[HazelkitAtom]:
    async with hazelkit.connect(url) as cluster:
        contender = HazelkitAtom(label, cluster.atom(name, initial=0))
        try:
            yield contender
        finally:
            await contender.atom.destroy()


@contextlib.asynccontextmanager
async def _raw(url: str, name: str) -> AsyncIterator[RawCasLoop]:
    async with raw_client(url) as client:
        proxy = await client.get_map(name)
        try:
            yield RawCasLoop(proxy)
        finally:
            await proxy.destroy()


@contextlib.asynccontextmanager
async def open_contenders(
    hazelcast_url: str | None, names: dict[str, str]
) -> AsyncIterator[list[AtomContender]]:
    """Every contender available (the Hazelcast ones only with a URL), each on its own
    atom or map named in ``names``; closed and removed on exit."""
    async with contextlib.AsyncExitStack() as stack:
        contenders: list[AtomContender] = await enter_contenders(
            stack,
            names,
            hazelcast_url=hazelcast_url,
            labels=(HAZELKIT, RAW, EMBEDDED),
            open_hazelkit=_hazelkit,
            open_raw=_raw,
        )
        yield contenders
