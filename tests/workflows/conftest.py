"""Fixtures shared by the workflow tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

import hazelkit


@pytest.fixture
async def node(url: str) -> AsyncIterator[hazelkit.Cluster]:
    """A Cluster that will host workflows (a node)."""
    async with hazelkit.connect(url) as connected:
        yield connected
