"""Ten Clusters on one grid are ten nodes (both backends)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

import hazelkit

NODES = 10


@pytest.fixture
async def nodes(url: str) -> AsyncIterator[list[hazelkit.Cluster]]:
    """Ten connected Clusters on the test's grid, closed afterwards (a crashed one too)."""
    clusters = await asyncio.gather(*(hazelkit.connect(url).start() for _ in range(NODES)))
    try:
        yield list(clusters)
    finally:
        await asyncio.gather(*(cluster.close() for cluster in clusters))
