"""Helpers shared by the data-structure tests (import them; fixtures live in conftest.py)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable

import anyio
import pytest

import hazelkit
from hazelkit.codec import Codec, Encryption


async def wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait until ``predicate()`` holds, failing the test after ``timeout`` seconds."""
    with anyio.fail_after(timeout):
        while not predicate():
            await anyio.sleep(0.02)


@pytest.fixture
async def encrypted(url: str) -> AsyncIterator[hazelkit.Cluster]:
    """A node whose codec compresses from 64 bytes and encrypts every value."""
    codec = Codec(compression_threshold=64, encryption=Encryption(keys=[os.urandom(32)]))
    async with hazelkit.connect(url, codec=codec) as connected:
        yield connected
